/**
 * Automatic failover of a broker group on etcd (docs/ha-design.md, decisions 5–7): a real etcd
 * (Debian's etcd-server, started by the test), one standalone NameServer and two broker processes
 * of one group with `--controller`, `--replication sync` and `--flush sync`. The controller elects
 * one master; @apogee/client sends under load; the master is SIGKILLed; the other broker is elected
 * with a higher epoch, registers as brokerId 0, and the producer moves to it at its next route
 * refresh. Every SEND_OK message is readable from the new master; the killed broker restarts as
 * the new master's replica and its commit log equals the new master's again. Then the same once
 * more, back to the first broker, under the unmodified ali-ons producer.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Producer } from '@apogee/client';
import { type TestEtcd, skipWithoutEtcd, startEtcd } from '@apogee/etcd/test-etcd';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Namesrv, killNamesrv, startNamesrv, topicRoute, until } from './cluster-helpers.js';
import { type BrokerView, brokerView, commitLogBytes, controlledBrokerFlags, hasTopic, pullAll } from './group-helpers.js';
import { createTopic } from './remoting-helpers.js';
import { type ServerPorts, ServerProcess, freePort, freePorts, killAllStarted, tempDataDir } from './server-process.js';

const require = createRequire(import.meta.url);
const { Producer: OnsProducer, Message: OnsMessage } = require('ali-ons') as any;
/** ali-ons asserts an HTTP client even when given a NameServer address; it is never called. */
const httpclient = { request: () => Promise.reject(new Error('ali-ons must not use HTTP here')) };

const TOPIC = 'FailoverT';
const QUEUES = 4;

const view = brokerView;
const pullBodies = (addr: string) => pullAll(addr, TOPIC, QUEUES);

describe.skipIf(skipWithoutEtcd)('automatic failover of a broker group on etcd', { timeout: 240_000 }, () => {
  const dir = tempDataDir('apg-failover-');
  let etcd: TestEtcd;
  let namesrv: Namesrv;
  const brokers = new Map<number, { proc: ServerProcess; ports: ServerPorts; flags: string[] }>();

  const startBroker = async (id: number, extra: string[] = []): Promise<ServerProcess> => {
    const known = brokers.get(id);
    const ports = known?.ports ?? (await freePorts());
    const flags =
      known?.flags ??
      controlledBrokerFlags({
        namesrv: namesrv.addr,
        etcd: etcd.endpoints,
        cluster: 'Failover',
        brokerName: 'broker-f',
        brokerId: id,
        haPort: await freePort(),
        extra,
      });
    const proc = await ServerProcess.start(path.join(dir, `b${id}`), ports, flags);
    brokers.set(id, { proc, ports, flags });
    return proc;
  };

  /** The broker that says it is the master (and the epoch it is at), once exactly one does. */
  const masterNow = async (): Promise<{ id: number; proc: ServerProcess; epoch: number } | null> => {
    const found: Array<{ id: number; proc: ServerProcess; epoch: number }> = [];
    for (const [id, b] of brokers) {
      if (b.proc.proc.exitCode !== null || b.proc.proc.signalCode !== null) continue;
      const v = await view(b.proc);
      if (v?.role === 'MASTER') found.push({ id, proc: b.proc, epoch: v.epoch ?? 0 });
    }
    return found.length === 1 ? found[0]! : null;
  };

  beforeAll(async () => {
    etcd = await startEtcd();
    namesrv = await startNamesrv();
    await Promise.all([startBroker(1), startBroker(2)]);
  }, 120_000);

  afterAll(async () => {
    await killAllStarted();
    if (namesrv) await killNamesrv(namesrv);
    await etcd?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('elects one master, fails over to the replica after a SIGKILL with every SEND_OK kept, takes the old master back as a replica, and fails over again under ali-ons', async () => {
    await until('one master elected', async () => (await masterNow()) !== null);
    const first = (await masterNow())!;
    const otherId = first.id === 1 ? 2 : 1;
    const other = brokers.get(otherId)!.proc;
    expect(first.epoch).toBeGreaterThanOrEqual(1);
    await until('the other broker follows the master', async () => (await view(other))?.following?.connected === true);
    // Created on the master only: the topic config reaches the replica with the metadata feed.
    await createTopic(first.proc.brokerAddr, namesrv.addr, TOPIC, QUEUES);
    await until('the topic config on the replica', () => hasTopic(other, TOPIC));
    await until('the route names the master as id 0', async () => {
      const r = await topicRoute(namesrv.addr, TOPIC);
      return r?.brokerDatas[0]?.brokerAddrs['0'] === first.proc.brokerAddr;
    });

    const producer = new Producer({ nameServer: namesrv.addr, group: 'failover-pg', sendTimeoutMs: 3000, retryTimes: 2, routeRefreshMs: 500 });
    await producer.start();
    const ok: string[] = [];
    let killedAt = 0;
    let firstOkAfterKill = 0;
    let stop = false;
    try {
      const senders = Array.from({ length: 4 }, async (_, w) => {
        for (let i = 0; !stop && i < 20_000; i++) {
          const body = `m-${w}-${i}`;
          try {
            const r = await producer.send({ topic: TOPIC, body: Buffer.from(body) });
            if (r.status === 'SEND_OK') {
              ok.push(body);
              if (killedAt > 0 && firstOkAfterKill === 0) firstOkAfterKill = performance.now();
            }
          } catch {
            await new Promise((r) => setTimeout(r, 50)); // no master reachable yet
          }
        }
      });
      await until('sends acknowledged before the kill', () => ok.length >= 300);
      await first.proc.kill();
      killedAt = performance.now();
      const before = ok.length;
      await until('the other broker elected', async () => (await masterNow())?.id === otherId, 600);
      await until('sends acknowledged by the new master', () => ok.length >= before + 300, 600);
      stop = true;
      await Promise.all(senders);
    } finally {
      stop = true;
      await producer.shutdown();
    }
    const second = (await masterNow())!;
    expect(second.id).toBe(otherId);
    expect(second.epoch).toBeGreaterThan(first.epoch);
    const route = await topicRoute(namesrv.addr, TOPIC);
    expect(route!.brokerDatas[0]!.brokerAddrs['0']).toBe(second.proc.brokerAddr);
    // Every acknowledged message is on the new master.
    const onNew = await pullBodies(second.proc.brokerAddr);
    expect(ok.filter((b) => !onNew.has(b))).toEqual([]);
    console.log(`failover: ${ok.length} SEND_OK; first SEND_OK ${((firstOkAfterKill - killedAt) / 1000).toFixed(2)} s after the SIGKILL`);

    // The old master comes back as the new master's replica and converges on its log.
    const back = await startBroker(first.id);
    await until('the old master follows the new one', async () => (await view(back))?.following?.connected === true, 600);
    expect((await view(back))!.role).toBe('SLAVE');
    await until('the old master caught up', async () => {
      const [m, r] = await Promise.all([view(second.proc), view(back)]);
      return !!m && !!r && r.store.maxCommitLogOffset === m.store.maxCommitLogOffset && r.following?.lagBytes === 0;
    });
    const end = (await view(second.proc))!.store.maxCommitLogOffset;
    expect(commitLogBytes(back.dataDir, end).equals(commitLogBytes(second.proc.dataDir, end))).toBe(true);

    // A second failover, back to the first broker, under the unmodified ali-ons producer.
    await until('the old master in sync again', async () => (await view(second.proc))?.replicas?.some((r) => r.inSync === true) === true);
    const ons = new OnsProducer({ httpclient, nameSrv: namesrv.addr, producerGroup: 'failover-ons', pollNameServerInteval: 500 });
    await ons.ready();
    const onsOk: string[] = [];
    let onsStop = false;
    try {
      const senders = Array.from({ length: 2 }, async (_, w) => {
        for (let i = 0; !onsStop && i < 20_000; i++) {
          const body = `ons-${w}-${i}`;
          try {
            const r = await ons.send(new OnsMessage(TOPIC, 'TagA', body));
            if (r.sendStatus === 'SEND_OK') onsOk.push(body);
          } catch {
            await new Promise((res) => setTimeout(res, 50));
          }
        }
      });
      await until('ali-ons sends acknowledged', () => onsOk.length >= 200);
      await second.proc.kill();
      const before = onsOk.length;
      await until('the first broker elected again', async () => (await masterNow())?.id === first.id, 600);
      await until('ali-ons sends acknowledged by the new master', () => onsOk.length >= before + 200, 600);
      onsStop = true;
      await Promise.all(senders);
    } finally {
      onsStop = true;
      await ons.close();
    }
    const third = (await masterNow())!;
    expect(third.id).toBe(first.id);
    expect(third.epoch).toBeGreaterThan(second.epoch);
    const onThird = await pullBodies(third.proc.brokerAddr);
    expect(onsOk.filter((b) => !onThird.has(b))).toEqual([]);
    expect(ok.filter((b) => !onThird.has(b))).toEqual([]);
  });
});

describe.skipIf(skipWithoutEtcd)('a preferred master on etcd', { timeout: 240_000 }, () => {
  const dir = tempDataDir('apg-preferred-');
  let etcd: TestEtcd;
  let namesrv: Namesrv;
  const brokers = new Map<number, { proc: ServerProcess; ports: ServerPorts; flags: string[] }>();

  const startBroker = async (id: number, extra: string[] = []): Promise<ServerProcess> => {
    const known = brokers.get(id);
    const ports = known?.ports ?? (await freePorts());
    const flags =
      known?.flags ??
      controlledBrokerFlags({
        namesrv: namesrv.addr,
        etcd: etcd.endpoints,
        cluster: 'Preferred',
        brokerName: 'broker-p',
        brokerId: id,
        haPort: await freePort(),
        extra,
      });
    const proc = await ServerProcess.start(path.join(dir, `b${id}`), ports, flags);
    brokers.set(id, { proc, ports, flags });
    return proc;
  };

  const roles = async (): Promise<Map<number, BrokerView | null>> => {
    const out = new Map<number, BrokerView | null>();
    for (const [id, b] of brokers) out.set(id, b.proc.proc.exitCode === null && b.proc.proc.signalCode === null ? await view(b.proc) : null);
    return out;
  };
  const masterId = async (): Promise<number | null> => {
    const masters = [...(await roles())].filter(([, v]) => v?.role === 'MASTER');
    return masters.length === 1 ? masters[0]![0] : null;
  };

  beforeAll(async () => {
    etcd = await startEtcd();
    namesrv = await startNamesrv();
    await Promise.all([startBroker(1), startBroker(2, ['--preferred-master'])]);
  }, 120_000);

  afterAll(async () => {
    await killAllStarted();
    if (namesrv) await killNamesrv(namesrv);
    await etcd?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('elects the preferred broker, fails over without it, and hands the role back once it has caught up, with every SEND_OK kept', async () => {
    await until('a master elected', async () => (await masterId()) !== null);
    // Both logs are empty at the first election: the preferred broker wins the tie.
    expect(await masterId()).toBe(2);
    await until('broker 1 follows', async () => (await view(brokers.get(1)!.proc))?.following?.connected === true);
    await createTopic(brokers.get(2)!.proc.brokerAddr, namesrv.addr, TOPIC, QUEUES);
    await until('the topic config on the replica', () => hasTopic(brokers.get(1)!.proc, TOPIC));

    const producer = new Producer({ nameServer: namesrv.addr, group: 'preferred-pg', sendTimeoutMs: 3000, retryTimes: 2, routeRefreshMs: 500 });
    await producer.start();
    const ok: string[] = [];
    let stop = false;
    const epochs: number[] = [];
    try {
      const senders = Array.from({ length: 2 }, async (_, w) => {
        for (let i = 0; !stop && i < 50_000; i++) {
          const body = `p-${w}-${i}`;
          try {
            if ((await producer.send({ topic: TOPIC, body: Buffer.from(body) })).status === 'SEND_OK') ok.push(body);
          } catch {
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      });
      await until('sends acknowledged', () => ok.length >= 100);
      epochs.push((await view(brokers.get(2)!.proc))!.epoch ?? 0);
      await brokers.get(2)!.proc.kill();
      await until('broker 1 elected', async () => (await masterId()) === 1, 600);
      epochs.push((await view(brokers.get(1)!.proc))!.epoch ?? 0);
      const during = ok.length;
      await until('sends acknowledged by broker 1', () => ok.length >= during + 100, 600);
      // The preferred broker comes back, catches up as a replica, and is handed the role.
      await startBroker(2);
      await until('the preferred broker is the master again', async () => (await masterId()) === 2, 900);
      epochs.push((await view(brokers.get(2)!.proc))!.epoch ?? 0);
      const after = ok.length;
      await until('sends acknowledged by the preferred master', () => ok.length >= after + 100, 600);
      stop = true;
      await Promise.all(senders);
    } finally {
      stop = true;
      await producer.shutdown();
    }
    expect(epochs[1]).toBeGreaterThan(epochs[0]!);
    expect(epochs[2]).toBeGreaterThan(epochs[1]!);
    await until('broker 1 follows the preferred master', async () => (await view(brokers.get(1)!.proc))?.following?.connected === true, 600);
    const onPreferred = await pullBodies(brokers.get(2)!.proc.brokerAddr);
    expect(ok.filter((b) => !onPreferred.has(b))).toEqual([]);
    expect(brokers.get(1)!.proc.output).toMatch(/handing over to the preferred master/);
  });
});
