/**
 * `cluster ha` without I/O: the broker groups read from the controller's etcd keys
 * (docs/ha-design.md, decision 6; GroupKeys of @apogee/ha), the HA fields of each broker's
 * GET_BROKER_RUNTIME_INFO table, and their text rendering. Values are decoded with the brokers' own
 * parsers (libs/ha/src/controller/keys.ts); one another writer garbled is shown as such, never
 * half-trusted.
 */
import type { KeyValue } from '@apogee/etcd';
import { type CandidateRecord, GroupKeys, type InSyncRecord, type MasterRecord, parseCandidate, parseEpoch, parseInSync, parseMaster } from '@apogee/ha';
import { table } from './format.js';

/** Every group's keys live under this prefix: `/apogee/<cluster>/<brokerName>/…`. */
export const HA_ROOT = '/apogee/';

/** The prefix `cluster ha` ranges over: every cluster, or one. */
export function haPrefix(cluster?: string): string {
  return cluster === undefined ? HA_ROOT : `${HA_ROOT}${cluster}/`;
}

/** What the controller's keys say of one group. */
export interface HaGroupKeys {
  cluster: string;
  brokerName: string;
  /** The `epoch` counter; null when the key is absent or garbled. */
  epoch: number | null;
  /** The `master` key (on the master's lease); null while there is none (an election, or no controller). */
  master: (MasterRecord & { lease: string }) | null;
  /** The `in-sync` key. */
  inSync: InSyncRecord | null;
  /** `candidates/<id>`: brokers campaigning right now, with how far their logs reach. */
  candidates: Array<{ brokerId: number } & CandidateRecord>;
  /** Keys of the group whose values do not decode ("master: …"). */
  errors: string[];
}

/** Groups of a range over HA_ROOT (keys outside a group's layout are ignored), by cluster and name. */
export function groupsFromKvs(kvs: readonly KeyValue[]): HaGroupKeys[] {
  const groups = new Map<string, { keys: GroupKeys; g: HaGroupKeys }>();
  for (const kv of kvs) {
    const key = kv.key.toString('utf8');
    if (!key.startsWith(HA_ROOT)) continue;
    const parts = key.slice(HA_ROOT.length).split('/');
    const [cluster, brokerName] = parts;
    if (parts.length < 3 || !cluster || !brokerName) continue;
    const id = `${cluster}/${brokerName}`;
    let entry = groups.get(id);
    if (!entry) {
      entry = {
        keys: new GroupKeys(cluster, brokerName),
        g: { cluster, brokerName, epoch: null, master: null, inSync: null, candidates: [], errors: [] },
      };
      groups.set(id, entry);
    }
    const { keys, g } = entry;
    const text = kv.value.toString('utf8');
    try {
      if (key === keys.epoch) g.epoch = parseEpoch(text);
      else if (key === keys.master) g.master = { ...parseMaster(text), lease: kv.lease };
      else if (key === keys.inSync) g.inSync = parseInSync(text);
      else if (key.startsWith(keys.candidates)) {
        const rest = key.slice(keys.candidates.length);
        if (!/^[0-9]{1,15}$/.test(rest)) throw new SyntaxError(`candidates/${rest.slice(0, 40)}: not a broker id`);
        g.candidates.push({ brokerId: Number(rest), ...parseCandidate(text) });
      }
      // Any other key under the group is not the controller's (or a newer one's): left alone.
    } catch (err) {
      g.errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  const out = [...groups.values()].map(({ g }) => ({ ...g, candidates: g.candidates.sort((a, b) => a.brokerId - b.brokerId) }));
  return out.sort((a, b) => a.cluster.localeCompare(b.cluster) || a.brokerName.localeCompare(b.brokerName));
}

const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** A replica as its master's runtime info lists it (haConnectionInfo). */
export interface ReplicaProgress {
  replicaId: number;
  addr: string;
  ackedOffset: number;
  lagBytes: number;
  inSync?: boolean;
}

/** The HA fields of a GET_BROKER_RUNTIME_INFO table (apps/server's replicationRuntimeInfo writes them). */
export interface BrokerHaInfo {
  /** ASYNC_MASTER, SYNC_MASTER or SLAVE; null: the broker reports none (a lone broker, or not Apogee). */
  role: string | null;
  brokerId: number | null;
  epoch: number | null;
  commitLogMaxOffset: number | null;
  /** A replica: the bytes it is behind its master. A master: the bytes its most advanced replica is behind. */
  lagBytes: number | null;
  /** A replica: the HA master it follows, and whether it is connected to it. */
  haMaster: string | null;
  masterConnected: boolean | null;
  /** A sync master: its in-sync replicas (itself not counted). */
  inSyncReplicas: number | null;
  /** A master: its connected replicas. */
  replicas: ReplicaProgress[] | null;
}

const int = (v: string | undefined): number | null => (v !== undefined && /^-?[0-9]{1,16}$/.test(v) ? Number(v) : null);

export function parseRuntimeInfo(t: Readonly<Record<string, string>>): BrokerHaInfo {
  const connected = t['haMasterConnected'];
  return {
    role: t['brokerRole'] || null,
    brokerId: int(t['brokerId']),
    epoch: int(t['masterEpoch']),
    commitLogMaxOffset: int(t['commitLogMaxOffset']),
    lagBytes: int(t['slaveFallBehindMuch']),
    haMaster: t['haMasterAddress'] || null,
    masterConnected: connected === 'true' ? true : connected === 'false' ? false : null,
    inSyncReplicas: int(t['inSyncSlaveNums']),
    replicas: parseConnections(t['haConnectionInfo']),
  };
}

function parseConnections(text: string | undefined): ReplicaProgress[] | null {
  if (text === undefined) return null;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(v)) return null;
  const out: ReplicaProgress[] = [];
  for (const c of v as Array<Record<string, unknown> | null>) {
    if (typeof c !== 'object' || c === null || !isId(c['replicaId'])) continue;
    const n = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : 0);
    out.push({
      replicaId: c['replicaId'],
      addr: typeof c['addr'] === 'string' ? c['addr'] : '',
      ackedOffset: n(c['slaveAckOffset']),
      lagBytes: n(c['diff']),
      ...(typeof c['inSync'] === 'boolean' ? { inSync: c['inSync'] } : {}),
    });
  }
  return out.sort((a, b) => a.replicaId - b.replicaId);
}

export type BrokerSource = 'controller' | 'namesrv';

/** A broker address to ask: where it was learnt and the id it was listed under. */
export interface BrokerTarget {
  addr: string;
  /** The controller's master record's id, else the NameServer route's id (0 = the registered master). */
  brokerId: number | null;
  sources: BrokerSource[];
}

/** The controller's master first, then the NameServer route's addresses by id; each address once. */
export function brokerTargets(group: HaGroupKeys, route: Readonly<Record<string, string>> | undefined): BrokerTarget[] {
  const out: BrokerTarget[] = [];
  if (group.master && group.master.addr !== '') out.push({ addr: group.master.addr, brokerId: group.master.brokerId, sources: ['controller'] });
  const ids = Object.entries(route ?? {}).sort(([a], [b]) => Number(a) - Number(b));
  for (const [id, addr] of ids) {
    const known = out.find((t) => t.addr === addr);
    if (known) known.sources.push('namesrv');
    else out.push({ addr, brokerId: /^[0-9]+$/.test(id) ? Number(id) : null, sources: ['namesrv'] });
  }
  return out;
}

/** One broker as `cluster ha` reports it. */
export type BrokerReport = BrokerTarget & { warnings: string[] } & ({ reachable: true; info: BrokerHaInfo } | { reachable: false; error: string });

export interface HaGroupReport extends HaGroupKeys {
  brokers: BrokerReport[];
}

/** What a broker's answer says that disagrees with the controller's keys. */
export function disagreements(group: HaGroupKeys, target: BrokerTarget, info: BrokerHaInfo): string[] {
  const out: string[] = [];
  const isMaster = group.master !== null && target.addr === group.master.addr;
  const saysMaster = info.role === 'ASYNC_MASTER' || info.role === 'SYNC_MASTER';
  if (isMaster && info.role === 'SLAVE') out.push('the controller names it the master, it reports SLAVE');
  if (!isMaster && saysMaster) out.push(`it reports ${info.role}, the controller's master is ${group.master ? group.master.addr : 'none'}`);
  if (info.epoch !== null && group.epoch !== null && info.epoch !== group.epoch) out.push(`it is in epoch ${info.epoch}, the group's is ${group.epoch}`);
  return out;
}

const num = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : String(v));

function brokerState(b: BrokerReport): string {
  if (!b.reachable) return `unreachable: ${b.error}`;
  const i = b.info;
  if (i.role === null) return 'no HA fields in its runtime info (a lone broker, or not Apogee)';
  if (i.role === 'SLAVE') return `${i.masterConnected === false ? 'not connected to' : 'connected to'} ${i.haMaster ?? 'no master'}`;
  const replicas = i.replicas ?? [];
  const inSync = i.inSyncReplicas === null ? '' : `, ${i.inSyncReplicas} in sync`;
  if (replicas.length === 0) return `no replica connected${inSync}`;
  const each = replicas.map((r) => `${r.replicaId} lag ${r.lagBytes}${r.inSync === true ? ' (in sync)' : r.inSync === false ? ' (not in sync)' : ''}`);
  return `replicas ${each.join(', ')}${inSync}`;
}

/** The text of `cluster ha`: one block per group. `namesrv`: whether the NameServer's route was read. */
export function renderHaGroups(groups: readonly HaGroupReport[], opts: { namesrv?: boolean } = {}): string[] {
  const lines: string[] = [];
  for (const g of groups) {
    if (lines.length > 0) lines.push('');
    lines.push(`${g.cluster}/${g.brokerName}  epoch ${num(g.epoch)}`);
    const m = g.master;
    lines.push(
      `  master      ${m ? `broker ${m.brokerId} at ${m.addr}, HA ${m.haAddr || '-'} (epoch ${m.epoch})` : 'none (no master key: an election is under way, or no broker of the group runs the controller)'}`,
    );
    lines.push(`  in-sync     ${g.inSync ? `${g.inSync.members.join(', ') || 'none'} (epoch ${g.inSync.epoch})` : '-'}`);
    lines.push(`  candidates  ${g.candidates.length === 0 ? 'none' : g.candidates.map((c) => `${c.brokerId} (log end ${c.endOffset})`).join(', ')}`);
    for (const e of g.errors) lines.push(`  garbled     ${e}`);
    if (g.brokers.length === 0) {
      lines.push(
        opts.namesrv
          ? '  no broker address known (no master key, and the NameServer routes no broker of the group)'
          : '  no broker address known (no master key; pass --namesrv to ask the NameServer for the route)',
      );
      continue;
    }
    const rows = g.brokers.map((b) => {
      const i = b.reachable ? b.info : null;
      const lag = i?.role === 'SLAVE' ? num(i.lagBytes) : '-';
      return [num(i?.brokerId ?? b.brokerId), b.addr, b.sources.join('+'), i ? (i.role ?? '-') : 'unreachable', num(i?.epoch), lag, brokerState(b)];
    });
    lines.push(...table(['BROKER', 'ADDRESS', 'FROM', 'ROLE', 'EPOCH', 'LAG_BYTES', 'STATE'], rows).map((l) => `  ${l}`));
    for (const b of g.brokers) for (const w of b.warnings) lines.push(`  warning: ${b.addr}: ${w}`);
  }
  return lines;
}
