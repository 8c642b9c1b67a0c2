/**
 * What a topology is to the harness: hosts (each in its own namespace, with a role and, for
 * brokers, a group), the NameServer list clients use, the groups and a way to ask who is a
 * group's master now, the etcd members (none before the `ha` topology), and how to start, restart
 * and stop its processes. The fault injector only ever asks these questions, so a new topology
 * (`ha`: groups of a master and replicas with `--controller etcd://…`, etcd members as hosts of
 * role `etcd`) plugs in by implementing this interface and registering in topologies/index.ts.
 */
import path from 'node:path';
import { Admin } from '@apogee/client';
import { ETCD_CLIENT_PORT, ETCD_READY, controllerUrl, etcdCommand } from './etcd.js';
import type { ChaosNet, NetHost } from './net.js';
import { ManagedProcess, type ProcSpec } from './proc.js';
import type { Rng } from './rng.js';
import { sleep } from './sh.js';

export type HostRole = 'server' | 'namesrv' | 'broker' | 'etcd';

export interface ChaosHost {
  name: string;
  role: HostRole;
  /** The broker group (brokerName) of a broker or server host. */
  group?: string;
  net: NetHost;
  proc: ManagedProcess;
}

export interface TopologyContext {
  net: ChaosNet;
  /** A fresh directory for the run: data directories and process logs go under it. */
  dir: string;
  /** Every server's `--flush`. */
  flush: 'sync' | 'async';
  /** Brokers per group, for topologies whose groups have replicas (`ha`: 2 by default). */
  brokers?: number;
  /** The brokers' `--replication` (`ha`; default sync). */
  replication?: 'sync' | 'async';
  /** The brokers' `--min-in-sync-replicas` (`ha`; the server's default when unset). */
  minInSyncReplicas?: number;
  log: (line: string) => void;
}

/** One observation of a group's master (the etcd key), on the workload's clock. */
export interface MasterSample {
  atMs: number;
  group: string;
  /** The host the key names; null while the key is absent (between a lease expiry and an election). */
  host: string | null;
  brokerId?: number;
  epoch?: number;
}

export interface Topology {
  readonly name: string;
  readonly hosts: readonly ChaosHost[];
  /** Creates the hosts' namespaces and starts every process; resolves when all are ready. */
  setup(): Promise<void>;
  /** The `;`-separated NameServer list the clients are given. */
  nameServer(): string;
  /** The broker groups (brokerName). */
  groups(): string[];
  /** The host that is the group's master now (for one-broker groups: that broker, up or not). */
  master(group: string): Promise<ChaosHost | undefined>;
  /** The etcd members (empty without a controller). */
  etcdHosts(): ChaosHost[];
  /** An MQTT endpoint for the optional MQTT workload, when the topology runs one. */
  mqttUrl?(): string;
  /** Hosts a `minority` or `bridge` fault may pick from. */
  faultableHosts(): ChaosHost[];
  /**
   * The hosts of a `minority` fault, when the topology draws them itself (`ha`: one etcd member or
   * one replica, so a quorum and the master survive); otherwise ⌊(n−1)/2⌋ of `faultableHosts()`.
   */
  minority?(rng: Rng): Promise<ChaosHost[]>;
  /** The producer's and consumer's route refresh the topology wants (`ha`: 500 ms); default 5 s. */
  readonly routeRefreshMs?: number;
  /** Starts sampling who is master (on the workload's clock `now`), for topologies with a controller. */
  watchMasters?(now: () => number): void;
  /** Stops sampling; returns every change seen (the first sample of each group, then each change). */
  stopWatchingMasters?(): Promise<MasterSample[]>;
  /** Creates the topic on every group and waits until every NameServer routes it to all of them. */
  createTopic(topic: string, queuesPerGroup: number): Promise<void>;
  /** Starts a killed host's process again on its data directory. */
  restart(host: ChaosHost): Promise<void>;
  /** Stops every process (SIGCONT, SIGTERM, then SIGKILL), bounded. */
  teardown(): Promise<void>;
}

/** The shared parts: adding hosts, restarts, teardown, topic creation through the SDK's Admin. */
export abstract class BaseTopology implements Topology {
  abstract readonly name: string;
  readonly hosts: ChaosHost[] = [];

  constructor(protected readonly ctx: TopologyContext) {}

  abstract setup(): Promise<void>;
  abstract nameServer(): string;

  groups(): string[] {
    return [...new Set(this.hosts.flatMap((h) => (h.group === undefined ? [] : [h.group])))];
  }

  async master(group: string): Promise<ChaosHost | undefined> {
    return this.hosts.find((h) => h.group === group && (h.role === 'broker' || h.role === 'server'));
  }

  etcdHosts(): ChaosHost[] {
    return this.hosts.filter((h) => h.role === 'etcd');
  }

  faultableHosts(): ChaosHost[] {
    return [...this.hosts];
  }

  /** Makes the host's namespace and its process (not started). */
  protected async addHost(
    name: string,
    role: HostRole,
    group: string | undefined,
    proc: (net: NetHost) => Omit<ProcSpec, 'ns' | 'logFile'>,
  ): Promise<ChaosHost> {
    const net = await this.ctx.net.addHost(name);
    const spec: ProcSpec = { ...proc(net), ns: net.ns, logFile: path.join(this.ctx.dir, `${name}.log`) };
    const host: ChaosHost = { name, role, net, proc: new ManagedProcess(spec) };
    if (group !== undefined) host.group = group;
    this.hosts.push(host);
    return host;
  }

  /**
   * Adds etcd members (role `etcd`), one per namespace, as one fresh cluster, and starts them
   * together (each waits for a quorum before it is ready). For topologies with a controller.
   */
  protected async addEtcdMembers(names: readonly string[]): Promise<ChaosHost[]> {
    const nets = [];
    for (const name of names) nets.push(await this.ctx.net.addHost(name));
    const members = nets.map((n) => ({ name: n.name, ip: n.ip }));
    const hosts = nets.map((net) => {
      const spec: ProcSpec = {
        ns: net.ns,
        command: etcdCommand({ name: net.name, ip: net.ip }, members, this.ctx.dir, `apogee-chaos-${this.ctx.net.rid}`),
        readyText: ETCD_READY,
        logFile: path.join(this.ctx.dir, `${net.name}.log`),
      };
      const host: ChaosHost = { name: net.name, role: 'etcd', net, proc: new ManagedProcess(spec) };
      this.hosts.push(host);
      return host;
    });
    await Promise.all(hosts.map((h) => h.proc.start()));
    return hosts;
  }

  /** The etcd members' client endpoints ("ip:2379"). */
  etcdEndpoints(): string[] {
    return this.etcdHosts().map((h) => `${h.net.ip}:${ETCD_CLIENT_PORT}`);
  }

  /** `etcd://…` for the brokers' `--controller`. */
  controllerUrl(): string {
    return controllerUrl(this.etcdHosts().map((h) => ({ name: h.name, ip: h.net.ip })));
  }

  async restart(host: ChaosHost): Promise<void> {
    await host.proc.start();
  }

  async teardown(): Promise<void> {
    await Promise.all(this.hosts.map((h) => h.proc.stop()));
  }

  async createTopic(topic: string, queuesPerGroup: number): Promise<void> {
    const want = this.groups().sort();
    for (const ns of this.nameServer().split(';')) {
      const admin = new Admin({ nameServer: ns, requestTimeoutMs: 3000 });
      try {
        for (let i = 0; ; i++) {
          try {
            if (i % 10 === 0) await admin.createTopic(topic, { readQueueNums: queuesPerGroup, writeQueueNums: queuesPerGroup });
            const d = await admin.describeTopic(topic);
            const have = [...new Set(d.route.brokerDatas.map((b) => b.brokerName))].sort();
            if (want.every((g) => have.includes(g))) break;
          } catch (err) {
            if (i >= 100) throw err;
          }
          if (i >= 100) throw new Error(`topic ${topic} not routed to ${want.join(', ')} by ${ns}`);
          await sleep(200);
        }
      } finally {
        await admin.shutdown();
      }
    }
  }
}
