/**
 * The harness's network: one bridge in a namespace of its own, a namespace per host with a veth
 * whose other end is a port of that bridge, and one veth from the root namespace (where the
 * clients run) to the bridge. Everything carries the run id: namespaces are
 * `apogee-chaos-<rid>-<host>` (the bridge's is `…-net`), the root namespace's only link is
 * `apc<rid>c` (link names have 15 characters at most). The bridge lives in its own namespace so
 * that deleting the namespaces removes every link the run made (a veth dies with its peer's
 * namespace), and the root namespace holds a single link and route for the run.
 *
 * Faults are traffic-control rules on the host's `eth0` (in its namespace, both directions, so
 * they are symmetric): packets to drop are redirected (act_mirred) to `drop0`, an ifb device left
 * down, which discards them. Partition: every packet; bridge: packets to or from the hosts of the
 * other half (u32 on the address); loss: `tc … netem loss N%` when the kernel has sch_netem,
 * otherwise a classic-BPF filter that matches N% of packets at random (`ld rand`), redirected the
 * same way. No iptables/nft needed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, runSync, sh } from './sh.js';

export const NS_PREFIX = 'apogee-chaos-';
const NS_RE = /^apogee-chaos-([0-9a-z]{4})-/;
const LINK_RE = /^apc([0-9a-z]{4})c$/;
const OWNER_DIR = path.join(fs.existsSync('/run') ? '/run' : os.tmpdir(), 'apogee-chaos');

/** One host of the network: its namespace, address, and the bridge port its veth ends on. */
export interface NetHost {
  name: string;
  ns: string;
  ip: string;
  /** The veth's name inside the host namespace. */
  dev: string;
  /** The veth peer's name inside the bridge namespace. */
  port: string;
}

export type LossMethod = 'netem' | 'bpf';
export type PartitionMode = 'drop' | 'down';

/** A fresh 4-character run id. */
export function newRunId(): string {
  return Math.floor(Math.random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0');
}

function ownerFile(rid: string): string {
  return path.join(OWNER_DIR, `${rid}.pid`);
}

function ownerAlive(rid: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(ownerFile(rid), 'utf8').trim());
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function listNamespaces(): Promise<string[]> {
  const out = await run('ip', ['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0);
}

async function rootLinks(): Promise<string[]> {
  const out = await run('ip', ['-o', 'link', 'show']);
  return out
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? '')
    .filter((n) => n.length > 0);
}

/** SIGKILLs every process still inside a namespace (they are the harness's own: its servers). */
async function killInside(ns: string): Promise<number> {
  const r = await sh('ip', ['netns', 'pids', ns]);
  let n = 0;
  for (const pid of r.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p))) {
    try {
      process.kill(Number(pid), 'SIGKILL');
      n++;
    } catch {
      // gone already
    }
  }
  return n;
}

/**
 * Removes what crashed runs left: `apogee-chaos-*` namespaces and `apc*c` root links whose run's
 * owner process is gone (a live run's are left alone). Returns the names removed.
 */
export async function sweepStale(): Promise<string[]> {
  const removed: string[] = [];
  for (const ns of await listNamespaces()) {
    const rid = NS_RE.exec(ns)?.[1];
    if (rid === undefined || ownerAlive(rid)) continue;
    await killInside(ns);
    if ((await sh('ip', ['netns', 'del', ns])).code === 0) removed.push(ns);
  }
  for (const link of await rootLinks()) {
    const rid = LINK_RE.exec(link)?.[1];
    if (rid === undefined || ownerAlive(rid)) continue;
    if ((await sh('ip', ['link', 'del', link])).code === 0) removed.push(link);
  }
  if (fs.existsSync(OWNER_DIR))
    for (const f of fs.readdirSync(OWNER_DIR)) {
      const rid = /^([0-9a-z]{4})\.pid$/.exec(f)?.[1];
      if (rid !== undefined && !ownerAlive(rid)) fs.rmSync(path.join(OWNER_DIR, f), { force: true });
    }
  return removed;
}

/** Why the harness cannot run here, or undefined when it can (root, `ip netns`, `tc`). */
export async function unsupportedReason(): Promise<string | undefined> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not root (network namespaces need root)';
  for (const [cmd, args] of [
    ['ip', ['-V']],
    ['tc', ['-V']],
  ] as const) {
    try {
      const r = await sh(cmd, args);
      if (r.code !== 0) return `${cmd} does not run: ${r.stderr.trim()}`;
    } catch (err) {
      return `${cmd} is not installed (${(err as Error).message})`;
    }
  }
  const probe = `${NS_PREFIX}${newRunId()}-probe`;
  const r = await sh('ip', ['netns', 'add', probe]);
  if (r.code !== 0) return `ip netns add fails: ${r.stderr.trim()}`;
  await sh('ip', ['netns', 'del', probe]);
  return undefined;
}

/** Classic BPF (cls_bpf `bytecode`): match with probability percent/100, from the kernel's per-packet random value. */
export function randomMatchBytecode(percent: number): string {
  const p = Math.min(100, Math.max(0, percent));
  const threshold = Math.min(4_294_967_295, Math.floor((p / 100) * 4_294_967_296));
  // ld rand (SKF_AD_OFF + SKF_AD_RANDOM); if A >= threshold: ret 0 (no match) else ret -1 (match)
  return `4,32 0 0 4294963256,53 0 1 ${threshold},6 0 0 0,6 0 0 4294967295`;
}
const MATCH_ALL = '1,6 0 0 4294967295';

export class ChaosNet {
  readonly bridgeNs: string;
  readonly clientLink: string;
  readonly clientIp: string;
  lossMethod: LossMethod = 'bpf';
  private readonly hosts = new Map<string, NetHost>();
  /** Hosts whose veth a partition set down. */
  private readonly downed = new Set<string>();
  private created = false;

  private constructor(
    readonly rid: string,
    /** The first three octets of the run's /24. */
    readonly subnet: string,
  ) {
    this.bridgeNs = `${NS_PREFIX}${rid}-net`;
    this.clientLink = `apc${rid}c`;
    this.clientIp = `${subnet}.1`;
  }

  /** Makes the bridge namespace and the root namespace's link; records this process as the run's owner. */
  static async create(rid = newRunId()): Promise<ChaosNet> {
    const used = await run('ip', ['-4', '-o', 'addr', 'show']);
    let k = (parseInt(rid, 36) % 254) + 1;
    for (let i = 0; i < 254 && used.includes(` 10.213.${k}.`); i++) k = (k % 254) + 1;
    const net = new ChaosNet(rid, `10.213.${k}`);
    fs.mkdirSync(OWNER_DIR, { recursive: true });
    fs.writeFileSync(ownerFile(rid), `${process.pid}\n`);
    net.created = true;
    const b = net.bridgeNs;
    await run('ip', ['netns', 'add', b]);
    await run('ip', ['-n', b, 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', b, 'link', 'add', 'br0', 'type', 'bridge']);
    await run('ip', ['-n', b, 'link', 'set', 'br0', 'up']);
    await run('ip', ['link', 'add', net.clientLink, 'type', 'veth', 'peer', 'name', 'c0', 'netns', b]);
    await run('ip', ['-n', b, 'link', 'set', 'c0', 'master', 'br0', 'up']);
    await run('ip', ['addr', 'add', `${net.clientIp}/24`, 'dev', net.clientLink]);
    await run('ip', ['link', 'set', net.clientLink, 'up']);
    // netem where the kernel has it; the random BPF filter elsewhere.
    if ((await sh('tc', ['-n', b, 'qdisc', 'add', 'dev', 'br0', 'root', 'netem', 'loss', '1%'])).code === 0) {
      net.lossMethod = 'netem';
      await sh('tc', ['-n', b, 'qdisc', 'del', 'dev', 'br0', 'root']);
    }
    return net;
  }

  /** A host namespace with `eth0` on the bridge, its address, `lo` up, the drop device and the clsact hooks. */
  async addHost(name: string): Promise<NetHost> {
    if (!/^[a-z0-9-]{1,24}$/.test(name) || name === 'net') throw new Error(`bad host name ${name}`);
    if (this.hosts.has(name)) throw new Error(`host ${name} exists`);
    const i = this.hosts.size + 1;
    if (i > 200) throw new Error('too many hosts');
    const h: NetHost = { name, ns: `${NS_PREFIX}${this.rid}-${name}`, ip: `${this.subnet}.${10 + i}`, dev: 'eth0', port: `h${i}` };
    this.hosts.set(name, h);
    await run('ip', ['netns', 'add', h.ns]);
    await run('ip', ['-n', h.ns, 'link', 'set', 'lo', 'up']);
    await run('ip', ['link', 'add', h.dev, 'netns', h.ns, 'type', 'veth', 'peer', 'name', h.port, 'netns', this.bridgeNs]);
    await run('ip', ['-n', this.bridgeNs, 'link', 'set', h.port, 'master', 'br0', 'up']);
    await run('ip', ['-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', h.dev]);
    await run('ip', ['-n', h.ns, 'link', 'set', h.dev, 'up']);
    await run('ip', ['-n', h.ns, 'link', 'add', 'drop0', 'type', 'ifb']);
    await this.tc(h.ns, ['qdisc', 'add', 'dev', h.dev, 'clsact']);
    return h;
  }

  host(name: string): NetHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host ${name}`);
    return h;
  }

  allHosts(): NetHost[] {
    return [...this.hosts.values()];
  }

  private tc(ns: string, args: string[]): Promise<string> {
    return run('tc', ['-n', ns, ...args]);
  }

  /** Several tc commands in one process (`tc -batch`), so a fault is in force at once. */
  private async tcBatch(ns: string, lines: string[], force = false): Promise<void> {
    if (lines.length === 0) return;
    const r = await sh('tc', [...(force ? ['-force'] : []), '-n', ns, '-batch', '-'], 10_000, `${lines.join('\n')}\n`);
    if (r.code !== 0 && !force) throw new Error(`tc -n ${ns} -batch failed (${r.code}): ${r.stderr.trim()}\n${lines.join('\n')}`);
  }

  private dropLine(h: NetHost, dir: 'egress' | 'ingress', match: string): string {
    return `filter add dev ${h.dev} ${dir} prio 1 ${match} action mirred egress redirect dev drop0`;
  }

  /**
   * The host cut off from everyone. `drop` (default): every packet in and out dropped (as `netem
   * loss 100%`, without netem) — peers see silence and time out. `down`: the host's veth set down —
   * its own sends fail at once (no route), peers see silence.
   */
  async partition(h: NetHost, mode: PartitionMode = 'drop'): Promise<void> {
    if (mode === 'down') {
      await run('ip', ['-n', h.ns, 'link', 'set', h.dev, 'down']);
      this.downed.add(h.name);
      return;
    }
    await this.tcBatch(h.ns, [this.dropLine(h, 'egress', `bpf bytecode "${MATCH_ALL}"`), this.dropLine(h, 'ingress', `bpf bytecode "${MATCH_ALL}"`)]);
  }

  /** `percent`% of the host's packets lost, both directions. */
  async loss(h: NetHost, percent: number): Promise<void> {
    if (this.lossMethod === 'netem') {
      await this.tc(h.ns, ['qdisc', 'add', 'dev', h.dev, 'root', 'netem', 'loss', `${percent}%`]);
      await this.tc(this.bridgeNs, ['qdisc', 'add', 'dev', h.port, 'root', 'netem', 'loss', `${percent}%`]);
    } else {
      const bpf = `bpf bytecode "${randomMatchBytecode(percent)}"`;
      await this.tcBatch(h.ns, [this.dropLine(h, 'egress', bpf), this.dropLine(h, 'ingress', bpf)]);
    }
  }

  /** The host stops exchanging packets with `others` (both directions); the rest of the network is untouched. */
  async cutFrom(h: NetHost, others: readonly NetHost[]): Promise<void> {
    await this.tcBatch(
      h.ns,
      others.flatMap((o) => [
        this.dropLine(h, 'egress', `protocol ip u32 match ip dst ${o.ip}/32`),
        this.dropLine(h, 'ingress', `protocol ip u32 match ip src ${o.ip}/32`),
      ]),
    );
  }

  /** Removes every fault rule of the host (filters on both hooks, a netem qdisc if any) and sets its veth up. */
  async heal(h: NetHost): Promise<void> {
    if (this.downed.delete(h.name)) await run('ip', ['-n', h.ns, 'link', 'set', h.dev, 'up']);
    const lines = [`filter del dev ${h.dev} egress`, `filter del dev ${h.dev} ingress`];
    if (this.lossMethod === 'netem') lines.push(`qdisc del dev ${h.dev} root`);
    await this.tcBatch(h.ns, lines, true);
    if (this.lossMethod === 'netem') await sh('tc', ['-n', this.bridgeNs, 'qdisc', 'del', 'dev', h.port, 'root']);
  }

  /** The host's fault rules now (`tc filter show` of both hooks), for checks. */
  async rules(h: NetHost): Promise<string> {
    const e = await this.tc(h.ns, ['filter', 'show', 'dev', h.dev, 'egress']);
    const i = await this.tc(h.ns, ['filter', 'show', 'dev', h.dev, 'ingress']);
    return `${e}${i}`;
  }

  private namespaces(): string[] {
    return [...[...this.hosts.values()].map((h) => h.ns), this.bridgeNs];
  }

  /** Kills anything left inside the run's namespaces, deletes them and the root link. Returns what is still there after. */
  async destroy(): Promise<string[]> {
    if (!this.created) return [];
    for (const ns of this.namespaces()) {
      await killInside(ns);
      await sh('ip', ['netns', 'del', ns]);
    }
    await sh('ip', ['link', 'del', this.clientLink]);
    fs.rmSync(ownerFile(this.rid), { force: true });
    return this.leftovers();
  }

  /** The synchronous form of destroy(), for a signal handler's last resort. */
  destroySync(): void {
    if (!this.created) return;
    for (const ns of this.namespaces()) {
      const r = runSync('ip', ['netns', 'pids', ns]);
      for (const pid of r.stdout.split(/\s+/).filter((p) => /^\d+$/.test(p)))
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone
        }
      runSync('ip', ['netns', 'del', ns]);
    }
    runSync('ip', ['link', 'del', this.clientLink]);
    fs.rmSync(ownerFile(this.rid), { force: true });
  }

  /** The run's namespaces and root link that still exist. */
  async leftovers(): Promise<string[]> {
    const nss = (await listNamespaces()).filter((n) => n.startsWith(`${NS_PREFIX}${this.rid}-`));
    const links = (await rootLinks()).filter((l) => l === this.clientLink);
    return [...nss, ...links];
  }
}
