/**
 * etcd members for topologies with a controller (the coming `ha` topology): a member per host
 * namespace (`/usr/bin/etcd`, client port 2379, peer port 2380 on the host's address), and the
 * few reads a topology needs through etcd's JSON gateway (`/v3/kv/range`, `/health`) — e.g. to
 * answer "who is master now" from `/apogee/<cluster>/<brokerName>/master` (docs/ha-design.md,
 * decision 6).
 */
import path from 'node:path';

export const ETCD_BIN = process.env['APOGEE_CHAOS_ETCD'] ?? '/usr/bin/etcd';
export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;

export interface EtcdMemberSpec {
  name: string;
  ip: string;
}

/** The command line of one member of a fresh cluster of `members`. */
export function etcdCommand(me: EtcdMemberSpec, members: readonly EtcdMemberSpec[], dataDir: string, token: string): string[] {
  const peer = (m: EtcdMemberSpec): string => `http://${m.ip}:${ETCD_PEER_PORT}`;
  return [
    ETCD_BIN,
    '--name',
    me.name,
    '--data-dir',
    path.join(dataDir, `${me.name}.etcd`),
    '--listen-client-urls',
    `http://${me.ip}:${ETCD_CLIENT_PORT}`,
    '--advertise-client-urls',
    `http://${me.ip}:${ETCD_CLIENT_PORT}`,
    '--listen-peer-urls',
    peer(me),
    '--initial-advertise-peer-urls',
    peer(me),
    '--initial-cluster',
    members.map((m) => `${m.name}=${peer(m)}`).join(','),
    '--initial-cluster-state',
    'new',
    '--initial-cluster-token',
    token,
  ];
}

/** What etcd 3.4 logs once it serves clients (after the cluster has a leader). */
export const ETCD_READY = 'ready to serve client requests';

/** `etcd://ip:2379,ip:2379,…`, the form of the brokers' `--controller`. */
export function controllerUrl(members: readonly EtcdMemberSpec[]): string {
  return `etcd://${members.map((m) => `${m.ip}:${ETCD_CLIENT_PORT}`).join(',')}`;
}

async function post(endpoint: string, route: string, body: unknown, timeoutMs: number): Promise<unknown> {
  const res = await fetch(`http://${endpoint}${route}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`etcd ${route} at ${endpoint}: HTTP ${res.status}`);
  return res.json();
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** The value of `key`, or undefined when absent; tries each endpoint in turn. */
export async function etcdGet(endpoints: readonly string[], key: string, timeoutMs = 2000): Promise<string | undefined> {
  let last: unknown;
  for (const ep of endpoints) {
    try {
      const r = (await post(ep, '/v3/kv/range', { key: b64(key) }, timeoutMs)) as { kvs?: Array<{ value?: string }> };
      const v = r.kvs?.[0]?.value;
      return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
    } catch (err) {
      last = err;
    }
  }
  throw last ?? new Error('no etcd endpoint');
}

/** Puts `key` = `value` (plain, no lease); tries each endpoint in turn. */
export async function etcdPut(endpoints: readonly string[], key: string, value: string, timeoutMs = 2000): Promise<void> {
  let last: unknown;
  for (const ep of endpoints) {
    try {
      await post(ep, '/v3/kv/put', { key: b64(key), value: b64(value) }, timeoutMs);
      return;
    } catch (err) {
      last = err;
    }
  }
  throw last ?? new Error('no etcd endpoint');
}

/** True when the member answers `/health` with health "true". */
export async function etcdHealthy(endpoint: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch(`http://${endpoint}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    const j = (await res.json()) as { health?: string };
    return j.health === 'true';
  } catch {
    return false;
  }
}
