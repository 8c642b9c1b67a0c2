/**
 * `cluster ha` as a user runs it (a child process of apps/cli/src/main.ts) against a real etcd
 * (`startEtcd`; skipped without /usr/bin/etcd, failing under CI=true) whose group keys are written
 * by the brokers' own writer — a GroupController of @apogee/ha per group, which campaigns, puts
 * epoch, master and in-sync, and sets the in-sync set — and against brokers:
 * - HaCli/ha-a: a real master server process (--ha-port) and a real replica process (--ha-master,
 *   --broker-id 1) registered with the master's NameServer, so --namesrv finds the replica;
 * - HaCli/ha-b: a stand-in remoting broker answering GET_BROKER_RUNTIME_INFO with a sync master's
 *   HA fields (the names apps/server's replicationRuntimeInfo writes), so parsing and rendering of
 *   the role, epoch, per-replica lag and in-sync flags is checked over the wire;
 * - Other/ha-c: a master key naming a port nobody listens on (unreachable);
 * - Other/ha-d: a master value another writer garbled.
 * Also: --cluster, an unreachable etcd (exit 1), bad endpoint strings and a missing --controller
 * (exit 2), an unreachable NameServer (a warning; the etcd view is still shown).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Admin } from '@apogee/client';
import { EtcdClient } from '@apogee/etcd';
import { type TestEtcd, skipWithoutEtcd, startEtcd } from '@apogee/etcd/test-etcd';
import { GroupController, GroupKeys } from '@apogee/ha';
import { RemotingServer, RequestCode, ResponseCode, responseTo } from '@apogee/remoting';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerProcess, freePort, freePorts, killAllStarted, tempDataDir } from '../../server/test/server-process.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const main = path.join(repoRoot, 'apps/cli/src/main.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: readonly string[]): Promise<Run> {
  const env = { ...process.env };
  delete env['APOGEE_NAMESRV'];
  delete env['APOGEE_CONTROLLER'];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', main, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The one JSON document of a --json run that succeeded. */
function json(r: Run): any {
  expect(r.code, r.stderr).toBe(0);
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!);
}

/** Runs `attempt` until it returns true, at most `tries` times, 100 ms apart. */
async function until(what: string, attempt: () => Promise<boolean> | boolean, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (
      await Promise.resolve()
        .then(attempt)
        .catch(() => false)
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

const CLUSTER = 'HaCli';

describe.skipIf(skipWithoutEtcd)('cluster ha against etcd and real brokers', () => {
  let etcd: TestEtcd;
  let client: EtcdClient;
  let master: ServerProcess;
  let replica: ServerProcess;
  let fake: RemotingServer;
  let fakeAddr: string;
  let deadAddr: string;
  let haAddr: string;
  const controllers: GroupController[] = [];
  const dir = tempDataDir('apg-cli-ha-');

  /** A GroupController of a fresh group: it campaigns and wins, writing epoch 1, master and in-sync. */
  async function masterOf(cluster: string, brokerName: string, addr: string, ha: string): Promise<GroupController> {
    let role: string | null = null;
    const c = new GroupController({
      etcd: client,
      cluster,
      brokerName,
      brokerId: 0,
      addr,
      haAddr: ha,
      endOffset: () => 0,
      onRole: (change) => (role = change.role),
    });
    controllers.push(c);
    await c.start();
    await until(`${brokerName}'s controller to become master`, () => role === 'master' && c.canAck());
    return c;
  }

  beforeAll(async () => {
    etcd = await startEtcd();
    client = new EtcdClient({ endpoints: etcd.endpoints });
    const haPort = await freePort();
    haAddr = `127.0.0.1:${haPort}`;
    const group = ['--broker-name', 'ha-a', '--cluster-name', CLUSTER];
    master = await ServerProcess.start(path.join(dir, 'master'), await freePorts(), [...group, '--ha-port', String(haPort)]);
    replica = await ServerProcess.start(path.join(dir, 'replica'), await freePorts(), [
      ...group,
      '--role',
      'broker',
      '--namesrv',
      master.namesrvAddr,
      '--ha-master',
      haAddr,
      '--broker-id',
      '1',
    ]);
    const admin = new Admin({ nameServer: master.namesrvAddr });
    try {
      await until('the replica in the route', async () => (await admin.clusterInfo()).brokerAddrTable['ha-a']?.brokerAddrs['1'] === replica.brokerAddr);
    } finally {
      await admin.shutdown();
    }

    // A stand-in for a sync master with two replicas, one in sync.
    fake = new RemotingServer();
    fake.register(RequestCode.GET_BROKER_RUNTIME_INFO, (req) => {
      const table = {
        brokerVersionDesc: 'Apogee',
        commitLogMaxOffset: '8192',
        brokerRole: 'SYNC_MASTER',
        brokerId: '0',
        masterEpoch: '1',
        inSyncSlaveNums: '1',
        slaveFallBehindMuch: '0',
        haConnectionInfo: JSON.stringify([
          { replicaId: 2, addr: '127.0.0.1:50002', slaveAckOffset: 4096, diff: 4096, inSync: false },
          { replicaId: 1, addr: '127.0.0.1:50001', slaveAckOffset: 8192, diff: 0, inSync: true },
        ]),
      };
      return responseTo(req, ResponseCode.SUCCESS, undefined, {}, Buffer.from(JSON.stringify({ table })));
    });
    const bound = await fake.listen(0, '127.0.0.1');
    fakeAddr = `127.0.0.1:${bound.port}`;
    deadAddr = `127.0.0.1:${await freePort()}`;

    const a = await masterOf(CLUSTER, 'ha-a', master.brokerAddr, haAddr);
    expect(await a.setInSync([0, 1])).toBe(true);
    // A candidacy as a campaigning broker publishes it ({endOffset} on its lease; GroupKeys names the key).
    const lease = await client.leaseGrant(60);
    await client.put(new GroupKeys(CLUSTER, 'ha-a').candidate(3), JSON.stringify({ endOffset: 12345 }), { lease: lease.id });
    await masterOf(CLUSTER, 'ha-b', fakeAddr, '127.0.0.1:50000');
    await masterOf('Other', 'ha-c', deadAddr, '127.0.0.1:1');
    const d = new GroupKeys('Other', 'ha-d');
    await client.put(d.epoch, '2');
    await client.put(d.master, 'not json');
  }, 180_000);

  afterAll(async () => {
    for (const c of controllers) await c.close().catch(() => undefined);
    client?.close();
    await fake?.close();
    await killAllStarted();
    await etcd?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows every group with its keys, and the role and lag of each broker it reaches', async () => {
    const doc = json(await cli(['cluster', 'ha', '--controller', etcd.endpoints, '--namesrv', master.namesrvAddr, '--json']));
    expect(doc).toMatchObject({ controller: etcd.endpoints, prefix: '/apogee/' });
    expect(doc.groups.map((g: any) => `${g.cluster}/${g.brokerName}`)).toEqual(['HaCli/ha-a', 'HaCli/ha-b', 'Other/ha-c', 'Other/ha-d']);
    const [a, b, c, d] = doc.groups;

    expect(a).toMatchObject({
      epoch: 1,
      master: { brokerId: 0, addr: master.brokerAddr, haAddr, epoch: 1 },
      inSync: { epoch: 1, members: [0, 1] },
      candidates: [{ brokerId: 3, endOffset: 12345 }],
      errors: [],
    });
    expect(a.master.lease).not.toBe('0');
    expect(a.brokers.map((x: any) => [x.addr, x.sources, x.reachable])).toEqual([
      [master.brokerAddr, ['controller', 'namesrv'], true],
      [replica.brokerAddr, ['namesrv'], true],
    ]);
    const [m, r] = a.brokers;
    expect(typeof m.info.commitLogMaxOffset).toBe('number');
    // The roles the servers report once their role stack passes its replication view to the
    // runtime info (apps/server role-stack.ts); null before.
    expect([null, 'ASYNC_MASTER']).toContain(m.info.role);
    expect([null, 'SLAVE']).toContain(r.info.role);
    if (r.info.role === 'SLAVE') expect(r.info).toMatchObject({ haMaster: haAddr, epoch: expect.any(Number) });

    expect(b.brokers).toEqual([
      {
        addr: fakeAddr,
        brokerId: 0,
        sources: ['controller'],
        reachable: true,
        warnings: [],
        info: {
          role: 'SYNC_MASTER',
          brokerId: 0,
          epoch: 1,
          commitLogMaxOffset: 8192,
          lagBytes: 0,
          haMaster: null,
          masterConnected: null,
          inSyncReplicas: 1,
          replicas: [
            { replicaId: 1, addr: '127.0.0.1:50001', ackedOffset: 8192, lagBytes: 0, inSync: true },
            { replicaId: 2, addr: '127.0.0.1:50002', ackedOffset: 4096, lagBytes: 4096, inSync: false },
          ],
        },
      },
    ]);

    expect(c.brokers).toHaveLength(1);
    expect(c.brokers[0]).toMatchObject({ addr: deadAddr, reachable: false });
    expect(c.brokers[0].error).toBe(`connect ECONNREFUSED ${deadAddr}`);

    expect(d).toMatchObject({ epoch: 2, master: null, brokers: [] });
    expect(d.errors).toEqual(['master is not JSON: "not json"']);
  });

  it('prints one block per group as text', async () => {
    const r = await cli(['cluster', 'ha', '--controller', etcd.endpoints, '--namesrv', master.namesrvAddr]);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toContain('HaCli/ha-a  epoch 1');
    expect(out).toContain(`  master      broker 0 at ${master.brokerAddr}, HA ${haAddr} (epoch 1)`);
    expect(out).toContain('  in-sync     0, 1 (epoch 1)');
    expect(out).toContain('  candidates  3 (log end 12345)');
    expect(out).toMatch(new RegExp(`^  1 +${replica.brokerAddr.replace(/\./g, '\\.')} +namesrv `, 'm'));
    expect(out).toMatch(/^ {2}0 +127\.0\.0\.1:\d+ +controller +SYNC_MASTER +1 +- +replicas 1 lag 0 \(in sync\), 2 lag 4096 \(not in sync\), 1 in sync$/m);
    expect(out).toMatch(new RegExp(`^  0 +${deadAddr.replace(/\./g, '\\.')} +controller +unreachable +- +- +unreachable: `, 'm'));
    expect(out).toContain('  garbled     master is not JSON: "not json"');
    expect(out).toContain('  no broker address known (no master key, and the NameServer routes no broker of the group)');
  });

  it('shows one cluster with --cluster, and says when it has no group', async () => {
    const doc = json(await cli(['cluster', 'ha', '--controller', etcd.endpoints, '--cluster', 'Other', '--json']));
    expect(doc.prefix).toBe('/apogee/Other/');
    expect(doc.groups.map((g: any) => g.brokerName)).toEqual(['ha-c', 'ha-d']);
    const none = await cli(['cluster', 'ha', '--controller', etcd.endpoints, '--cluster', 'Nobody']);
    expect(none).toMatchObject({ code: 0, stderr: '' });
    expect(none.stdout.trim()).toBe(`no broker group under /apogee/Nobody/ in etcd (${etcd.endpoints})`);
  });

  it('without --namesrv asks only the master etcd names; an unreachable NameServer is a warning', async () => {
    const alone = json(await cli(['cluster', 'ha', '--controller', etcd.endpoints, '--cluster', CLUSTER, '--json']));
    expect(alone.groups[0].brokers.map((x: any) => x.addr)).toEqual([master.brokerAddr]);
    const deadNs = `127.0.0.1:${await freePort()}`;
    const r = await cli(['cluster', 'ha', '--controller', etcd.endpoints, '--cluster', CLUSTER, '--namesrv', deadNs, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: the NameServer route could not be read: .*; showing the brokers etcd names$/m);
    const doc = JSON.parse(r.stdout);
    expect(doc.namesrvError).toMatch(/NameServer route could not be read/);
    expect(doc.groups[0].brokers.map((x: any) => x.addr)).toEqual([master.brokerAddr]);
  });

  it('exits 1 naming every endpoint when etcd cannot be reached, 2 for a bad or missing --controller', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const down = await cli(['cluster', 'ha', '--controller', `etcd://127.0.0.1:${p1},127.0.0.1:${p2}`]);
    expect(down).toMatchObject({ code: 1, stdout: '' });
    expect(down.stderr.trim()).toBe(`error: cannot reach etcd: 127.0.0.1:${p1} (ECONNREFUSED); 127.0.0.1:${p2} (ECONNREFUSED)`);
    for (const [spec, why] of [
      ['http://127.0.0.1:2379', 'must start with etcd://'],
      ['etcd://127.0.0.1', 'has no port'],
      ['etcd://a:1,a:1', 'a:1 is listed twice'],
    ] as const) {
      const bad = await cli(['cluster', 'ha', '--controller', spec]);
      expect(bad.code, spec).toBe(2);
      expect(bad.stderr).toContain(`error: --controller: bad etcd endpoints ${JSON.stringify(spec)}:`);
      expect(bad.stderr).toContain(why);
      expect(bad.stderr).toContain('usage: apogee cluster ha');
    }
    const missing = await cli(['cluster', 'ha']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('error: cluster ha needs --controller etcd://HOST:PORT[,HOST:PORT] (or APOGEE_CONTROLLER)');
    const badCluster = await cli(['cluster', 'ha', '--controller', etcd.endpoints, '--cluster', 'a/b']);
    expect(badCluster.code).toBe(2);
  });
});
