/**
 * The network and its fault rules, checked with TCP connections between namespaces: a partition
 * cuts a host off from everyone (clients in the root namespace too), a bridge cuts two halves
 * apart while the middle host reaches both, loss drops some packets and not all, and a heal
 * restores everything. Then etcd members in three namespaces form a cluster that the root
 * namespace reaches through the gateway and that survives the SIGKILL of one member (the building
 * block of the coming `ha` topology). Root and `ip netns` needed; skipped without them except
 * under CI=true.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { etcdGet, etcdHealthy, etcdPut } from '../src/etcd.js';
import { ChaosNet, type NetHost, unsupportedReason } from '../src/net.js';
import { ManagedProcess } from '../src/proc.js';
import { sh, sleep } from '../src/sh.js';
import { BaseTopology } from '../src/topology.js';

const why = await unsupportedReason();
const skip = why !== undefined && process.env['CI'] !== 'true';
const PORT = 7000;

/** A TCP server answering the number of UDP datagrams its host has received on the same port. */
const LISTENER = `let n = 0; const d = require('node:dgram').createSocket('udp4'); d.on('message', () => n++); d.bind(${PORT}, process.argv[1]);
require('node:net').createServer((s) => s.end(String(n))).listen(${PORT}, process.argv[1], () => console.log('listening'))`;
const CONNECT = `const s = require('node:net').connect(${PORT}, process.argv[1]); s.setTimeout(1500, () => process.exit(2)); s.on('data', () => process.exit(0)); s.on('error', () => process.exit(1))`;

/** True when a TCP connection from `from` (a namespace, or the root namespace) to `to` gets the server's answer within 1.5 s. */
async function reaches(from: NetHost | 'root', to: NetHost): Promise<boolean> {
  if (from === 'root')
    return new Promise((resolve) => {
      const s = net.connect(PORT, to.ip);
      s.setTimeout(1500, () => (s.destroy(), resolve(false)));
      s.on('data', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
  const r = await sh('ip', ['netns', 'exec', from.ns, process.execPath, '-e', CONNECT, to.ip], 5000);
  return r.code === 0;
}

/** The number of datagrams the host has received, asked over TCP from the root namespace. */
function received(to: NetHost): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    const s = net.connect(PORT, to.ip);
    s.setTimeout(3000, () => (s.destroy(), reject(new Error(`no answer from ${to.ip} (got ${JSON.stringify(text)})`))));
    s.on('data', (d) => (text += d));
    s.on('end', () => resolve(Number(text)));
    s.on('error', reject);
  });
}

/** Sends `n` datagrams from the root namespace to the host and returns how many arrived; the counts are read outside `fault`…`heal`. */
async function datagramsThrough(to: NetHost, n: number, fault?: () => Promise<void>, heal?: () => Promise<void>): Promise<number> {
  const before = await received(to);
  await fault?.();
  const sock = dgram.createSocket('udp4');
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve) => sock.send('x', PORT, to.ip, () => resolve()));
    if (i % 50 === 49) await sleep(10);
  }
  sock.close();
  await sleep(300);
  await heal?.();
  return (await received(to)) - before;
}

describe.skipIf(skip)('the chaos network', { timeout: 120_000 }, () => {
  let cnet: ChaosNet;
  let dir: string;
  const hosts: NetHost[] = [];
  const procs: ManagedProcess[] = [];

  beforeAll(async () => {
    expect(why).toBeUndefined();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apogee-chaos-net-'));
    cnet = await ChaosNet.create();
    for (const name of ['a', 'b', 'c']) {
      const h = await cnet.addHost(name);
      hosts.push(h);
      const p = new ManagedProcess({
        ns: h.ns,
        command: [process.execPath, '-e', LISTENER, h.ip],
        readyText: 'listening',
        logFile: path.join(dir, `${name}.log`),
      });
      await p.start();
      procs.push(p);
    }
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    if (cnet) expect(await cnet.destroy()).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('connects the root namespace and every host to every host', async () => {
    const [a, b, c] = hosts as [NetHost, NetHost, NetHost];
    for (const to of hosts) expect(await reaches('root', to)).toBe(true);
    expect(await reaches(a, b)).toBe(true);
    expect(await reaches(c, a)).toBe(true);
  });

  it('partitions a host from everyone, and heals', async () => {
    const [a, b] = hosts as [NetHost, NetHost, NetHost];
    await cnet.partition(a);
    expect(await reaches('root', a)).toBe(false);
    expect(await reaches(b, a)).toBe(false);
    expect(await reaches(a, b)).toBe(false);
    expect(await reaches('root', b)).toBe(true);
    await cnet.heal(a);
    expect(await cnet.rules(a)).toBe('');
    expect(await reaches('root', a)).toBe(true);
    expect(await reaches(b, a)).toBe(true);
  });

  it('partitions by setting the veth down, and heals', async () => {
    const [a, b] = hosts as [NetHost, NetHost, NetHost];
    await cnet.partition(a, 'down');
    expect(await reaches('root', a)).toBe(false);
    expect(await reaches(a, b)).toBe(false);
    await cnet.heal(a);
    expect(await reaches('root', a)).toBe(true);
    expect(await reaches(a, b)).toBe(true);
  });

  it('bridges: the halves cannot talk, the middle host and the clients reach both', async () => {
    const [a, b, c] = hosts as [NetHost, NetHost, NetHost];
    // a | c | b
    await cnet.cutFrom(a, [b]);
    await cnet.cutFrom(b, [a]);
    expect(await reaches(a, b)).toBe(false);
    expect(await reaches(b, a)).toBe(false);
    expect(await reaches(c, a)).toBe(true);
    expect(await reaches(c, b)).toBe(true);
    expect(await reaches(a, c)).toBe(true);
    expect(await reaches('root', a)).toBe(true);
    expect(await reaches('root', b)).toBe(true);
    for (const h of [a, b]) await cnet.heal(h);
    expect(await reaches(a, b)).toBe(true);
  });

  it('loses some packets and not all under loss, none after the heal', async () => {
    const a = hosts[0]!;
    expect(await datagramsThrough(a, 200)).toBe(200);
    // Of 400 datagrams at 30% loss, all or none arriving has a probability below 1e-60.
    const through = await datagramsThrough(
      a,
      400,
      () => cnet.loss(a, 30),
      () => cnet.heal(a),
    );
    expect(through).toBeGreaterThan(0);
    expect(through).toBeLessThan(400);
    expect(await datagramsThrough(a, 200)).toBe(200);
  });

  it('runs etcd members in namespaces as one cluster that outlives a minority kill', async () => {
    class EtcdOnly extends BaseTopology {
      readonly name = 'etcd-only';
      async setup(): Promise<void> {
        await this.addEtcdMembers(['etcd1', 'etcd2', 'etcd3']);
      }
      nameServer(): string {
        return '';
      }
    }
    const topo = new EtcdOnly({ net: cnet, dir, flush: 'sync', log: () => {} });
    try {
      await topo.setup();
      expect(topo.etcdHosts().map((h) => h.role)).toEqual(['etcd', 'etcd', 'etcd']);
      expect(topo.controllerUrl()).toMatch(/^etcd:\/\/10\.213\.\d+\.\d+:2379,10\.213\.\d+\.\d+:2379,10\.213\.\d+\.\d+:2379$/);
      const eps = topo.etcdEndpoints();
      for (const ep of eps) expect(await etcdHealthy(ep)).toBe(true);
      await etcdPut(eps, '/apogee/chaos/probe', 'one');
      const victim = topo.etcdHosts()[0]!;
      await victim.proc.kill();
      // The two others still form a quorum: writes and reads go on through them.
      await etcdPut(eps, '/apogee/chaos/probe', 'two');
      expect(await etcdGet(eps.slice(1), '/apogee/chaos/probe')).toBe('two');
      await topo.restart(victim);
      expect(victim.proc.pids).toHaveLength(2);
      expect(await etcdGet([eps[0]!], '/apogee/chaos/probe')).toBe('two');
      expect(await etcdGet(eps, '/apogee/chaos/absent')).toBeUndefined();
    } finally {
      await topo.teardown();
    }
  });
});
