/**
 * `ha`: automatic failover (docs/cluster.md, docs/ha-design.md decisions 5–7). Three etcd members,
 * one standalone NameServer and one broker group of `--brokers` brokers (2 by default, or 3), each
 * process in its own namespace. Every broker runs the group controller (`--controller etcd://…`,
 * `--broker-id N`, `--ha-port`, `--replication sync` unless told otherwise, `--flush`): the
 * controller elects the master, the others replicate from it. Who is master *now* comes from the
 * etcd key `/apogee/<cluster>/<brokerName>/master` ({brokerId, addr, haAddr, epoch}), or — when etcd
 * does not answer — from the brokers' admin API (`GET /api/v1/cluster`), so a `master` fault hits
 * the master of that moment; a killed master restarts on its data directory and comes back as a
 * replica. `minority` faults hit one etcd member or one replica (a quorum and the master survive).
 *
 * Topic configs do not replicate yet: the topic is created on every broker of the group.
 */
import path from 'node:path';
import { Admin } from '@apogee/client';
import { etcdGet } from '../etcd.js';
import { NAMESRV_MAIN, SERVER_MAIN } from '../proc.js';
import type { Rng } from '../rng.js';
import { sleep } from '../sh.js';
import { BaseTopology, type ChaosHost, type MasterSample } from '../topology.js';

const NAMESRV_PORT = 9876;
const BROKER_PORT = 10911;
const HTTP_PORT = 8080;
const HA_PORT = 10912;
export const HA_CLUSTER = 'ChaosHA';
export const HA_GROUP = 'broker-ha';
export const ETCD_MEMBERS = ['etcd1', 'etcd2', 'etcd3'] as const;
/** How often the master key is sampled for the report's timeline. */
const SAMPLE_MS = 100;

export interface MasterNow {
  host: ChaosHost | undefined;
  brokerId: number;
  epoch: number;
  addr: string;
}

interface ClusterView {
  brokerId: number;
  role: 'MASTER' | 'SLAVE';
  epoch?: number;
  following?: { connected: boolean; lagBytes: number };
}

export class HaTopology extends BaseTopology {
  readonly name = 'ha';
  readonly routeRefreshMs = 500;
  private namesrv: ChaosHost | undefined;
  private brokers: ChaosHost[] = [];
  /** The etcd endpoint that answered last (tried first next time). */
  private goodEndpoint = 0;
  private sampling: { stop: boolean; done: Promise<void>; samples: MasterSample[] } | undefined;

  async setup(): Promise<void> {
    const n = this.ctx.brokers ?? 2;
    if (!Number.isInteger(n) || n < 2 || n > 3) throw new Error(`the ha topology runs 2 or 3 brokers per group, not ${n}`);
    await this.addEtcdMembers(ETCD_MEMBERS);
    this.namesrv = await this.addHost('ns', 'namesrv', undefined, (net) => ({
      command: [process.execPath, '--enable-source-maps', NAMESRV_MAIN, '--port', String(NAMESRV_PORT), '--listen-host', net.ip],
      readyText: 'namesrv: listening',
    }));
    await this.namesrv.proc.start();
    const controller = this.controllerUrl();
    for (let id = 1; id <= n; id++)
      this.brokers.push(
        await this.addHost(`b${id}`, 'broker', HA_GROUP, (net) => ({
          command: [
            process.execPath,
            '--enable-source-maps',
            SERVER_MAIN,
            ...['--role', 'broker', '--namesrv', this.nameServer(), '--cluster-name', HA_CLUSTER, '--broker-name', HA_GROUP],
            ...['--controller', controller, '--broker-id', String(id), '--ha-port', String(HA_PORT)],
            ...['--replication', this.ctx.replication ?? 'sync'],
            ...(this.ctx.minInSyncReplicas === undefined ? [] : ['--min-in-sync-replicas', String(this.ctx.minInSyncReplicas)]),
            ...['--data-dir', path.join(this.ctx.dir, `b${id}-data`), '--flush', this.ctx.flush],
            ...['--listen-host', net.ip, '--broker-ip', net.ip, '--broker-port', String(BROKER_PORT), '--http-port', String(HTTP_PORT)],
            ...['--mqtt-port', 'off', '--amqp-port', 'off'],
          ],
          readyText: 'apogee: ready',
        })),
      );
    await Promise.all(this.brokers.map((b) => b.proc.start()));
    await this.waitForGroup(60_000);
  }

  nameServer(): string {
    return `${this.namesrv!.net.ip}:${NAMESRV_PORT}`;
  }

  private masterKey(group: string): string {
    return `/apogee/${HA_CLUSTER}/${group}/master`;
  }

  /** The master key now: undefined when absent; throws when no etcd member answers. */
  async readMaster(group: string, timeoutMs = 1000): Promise<MasterNow | undefined> {
    const eps = this.etcdEndpoints();
    const order = eps.map((_, i) => eps[(this.goodEndpoint + i) % eps.length]!);
    let last: unknown;
    for (let i = 0; i < order.length; i++) {
      try {
        const text = await etcdGet([order[i]!], this.masterKey(group), timeoutMs);
        this.goodEndpoint = (this.goodEndpoint + i) % eps.length;
        if (text === undefined) return undefined;
        const rec = JSON.parse(text) as { brokerId: number; addr: string; epoch: number };
        const ip = rec.addr.replace(/:\d+$/, '');
        return { host: this.brokers.find((b) => b.net.ip === ip), brokerId: rec.brokerId, epoch: rec.epoch, addr: rec.addr };
      } catch (err) {
        last = err;
      }
    }
    throw last ?? new Error('no etcd member');
  }

  /** The broker's own view (`GET /api/v1/cluster`), or null (down, suspended, between two role stacks). */
  async view(b: ChaosHost, timeoutMs = 1000): Promise<ClusterView | null> {
    if (b.proc.state !== 'running') return null;
    try {
      const res = await fetch(`http://${b.net.ip}:${HTTP_PORT}/api/v1/cluster`, { signal: AbortSignal.timeout(timeoutMs) });
      return ((await res.json()) as { brokers: ClusterView[] }).brokers[0] ?? null;
    } catch {
      return null;
    }
  }

  /**
   * Who is master now: the host the etcd key names, if its process runs; while the key is absent
   * or names a stopped process (its lease not yet expired), asked again for up to 5 s; when etcd
   * does not answer, the running broker that says MASTER at the highest epoch.
   */
  override async master(group: string): Promise<ChaosHost | undefined> {
    const deadline = Date.now() + 5000;
    for (;;) {
      let etcdAnswered = false;
      try {
        const m = await this.readMaster(group);
        etcdAnswered = true;
        if (m?.host && m.host.proc.state !== 'stopped') return m.host;
      } catch {
        // etcd away: ask the brokers
      }
      if (!etcdAnswered) {
        let best: { host: ChaosHost; epoch: number } | undefined;
        for (const b of this.brokers.filter((h) => h.group === group)) {
          const v = await this.view(b);
          if (v?.role === 'MASTER' && (best === undefined || (v.epoch ?? 0) > best.epoch)) best = { host: b, epoch: v.epoch ?? 0 };
        }
        if (best) return best.host;
      }
      if (Date.now() > deadline) return undefined;
      await sleep(200);
    }
  }

  /** One etcd member or one replica of the moment (never the master, never a second etcd member). */
  async minority(rng: Rng): Promise<ChaosHost[]> {
    const m = await this.master(HA_GROUP);
    const replicas = m === undefined ? [] : this.brokers.filter((b) => b !== m);
    return [rng.pick([...this.etcdHosts(), ...replicas])];
  }

  /** Every host but the NameServer (one of them: its loss is not what the topology is about). */
  override faultableHosts(): ChaosHost[] {
    return this.hosts.filter((h) => h.role !== 'namesrv');
  }

  /** Until one master is elected (the key and its broker's view agree) and every other broker follows it. */
  private async waitForGroup(maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    let state = 'no master key';
    while (Date.now() < deadline) {
      const m = await this.readMaster(HA_GROUP).catch(() => undefined);
      if (m?.host) {
        const views = await Promise.all(this.brokers.map((b) => this.view(b)));
        const mi = this.brokers.indexOf(m.host);
        const following = views.filter((v, i) => i !== mi && v?.role === 'SLAVE' && v.following?.connected === true).length;
        state = `master ${m.host.name} (epoch ${m.epoch}) says ${views[mi]?.role ?? 'nothing'}; ${following} of ${this.brokers.length - 1} follow`;
        if (views[mi]?.role === 'MASTER' && following === this.brokers.length - 1) {
          this.ctx.log(`ha: ${state}`);
          return;
        }
      }
      await sleep(200);
    }
    throw new Error(`the ha group did not form within ${maxMs} ms: ${state}`);
  }

  /** The topic on every broker of the group (topic configs do not replicate yet), then routed with the master as id 0. */
  override async createTopic(topic: string, queuesPerGroup: number): Promise<void> {
    const admin = new Admin({ nameServer: this.nameServer(), requestTimeoutMs: 3000 });
    try {
      for (const b of this.brokers)
        for (let i = 0; ; i++) {
          try {
            await admin.createTopic(topic, { brokerAddr: `${b.net.ip}:${BROKER_PORT}`, readQueueNums: queuesPerGroup, writeQueueNums: queuesPerGroup });
            break;
          } catch (err) {
            if (i >= 20) throw err;
            await sleep(250);
          }
        }
      for (let i = 0; ; i++) {
        try {
          const m = await this.readMaster(HA_GROUP);
          const d = await admin.describeTopic(topic);
          const g = d.route.brokerDatas.find((bd) => bd.brokerName === HA_GROUP);
          if (m && g?.brokerAddrs['0'] === m.addr) return;
        } catch (err) {
          if (i >= 100) throw err;
        }
        if (i >= 100) throw new Error(`topic ${topic} not routed to the master of ${HA_GROUP}`);
        await sleep(200);
      }
    } finally {
      await admin.shutdown();
    }
  }

  watchMasters(now: () => number): void {
    if (this.sampling) return;
    const s: { stop: boolean; done: Promise<void>; samples: MasterSample[] } = { stop: false, done: Promise.resolve(), samples: [] };
    const last = new Map<string, string>();
    s.done = (async () => {
      while (!s.stop) {
        const t0 = Date.now();
        for (const group of this.groups()) {
          const atMs = now();
          let m: MasterNow | undefined;
          try {
            m = await this.readMaster(group, 500);
          } catch {
            continue; // no member answered: no sample
          }
          const key = m ? `${m.host?.name ?? m.addr}@${m.epoch}` : 'none';
          if (last.get(group) === key) continue;
          last.set(group, key);
          s.samples.push(m ? { atMs, group, host: m.host?.name ?? m.addr, brokerId: m.brokerId, epoch: m.epoch } : { atMs, group, host: null });
        }
        await sleep(Math.max(10, SAMPLE_MS - (Date.now() - t0)));
      }
    })();
    this.sampling = s;
  }

  async stopWatchingMasters(): Promise<MasterSample[]> {
    const s = this.sampling;
    if (!s) return [];
    s.stop = true;
    await s.done;
    this.sampling = undefined;
    return s.samples;
  }

  /** Brokers first (a master resigns while etcd still answers), then the NameServer, then etcd. */
  override async teardown(): Promise<void> {
    await this.stopWatchingMasters();
    await Promise.all(this.brokers.map((h) => h.proc.stop()));
    await Promise.all(this.hosts.filter((h) => h.role !== 'broker').map((h) => h.proc.stop()));
  }
}
