import type http from 'node:http';
import type { AuthConfig, Broker, Principal } from '@apogee/broker';
import type { AclEditor } from './acl-editor.js';
import type { AmqpGateway } from '@apogee/amqp';
import type { MqttGateway } from '@apogee/mqtt';
import type { PathParams } from './router.js';
import type { StatsSampler } from './stats-sampler.js';

/** What the admin routes read and act on: the engine and the endpoints running in this process. */
export interface AdminDeps {
  broker: Broker;
  mqtt: MqttGateway | null;
  amqp: AmqpGateway | null;
  /** The `auth` section in force (it changes with edits). */
  authConfig: () => AuthConfig;
  /** Edits of the `auth` section (GET /api/v1/acl says whether they are possible). */
  aclEditor: AclEditor;
  /** Listener addresses by name (namesrv, broker, mqtt, …) for the cluster view. */
  listeners: () => Record<string, string | null>;
  /** Data directory of the store, for disk figures. */
  dataDir: string;
  version: string;
  startedAt: number;
  /** The one-second samples behind GET /api/v1/stats/overview (the console's live charts). */
  stats?: StatsSampler | undefined;
  /** This broker's place in its group (brokerId, role, replication progress); absent: a lone master. */
  replication?: (() => ReplicationView) | undefined;
  /** The store's recent fsync latency (ms), when it measures it; null or absent: not known. */
  fsyncLatencyMs?: (() => { p50: number; p99: number } | null) | undefined;
}

/** A broker's place in its group, as GET /api/v1/cluster shows it. */
export interface ReplicationView {
  brokerId: number;
  role: 'MASTER' | 'SLAVE';
  /** The newest epoch of this broker's log (0 before any controller election). */
  epoch?: number;
  /** A replica: the master's HA address, whether it is connected and how many confirmed bytes it lacks. */
  following?: { master: string; connected: boolean; lagBytes: number };
  /** A master with an HA port: its replicas, with what each acknowledged. */
  replicas?: Array<{ replicaId: number; remote: string; ackedOffset: number; lagBytes: number; inSync?: boolean }>;
  /** A master with an HA port: whether sends wait for the in-sync replicas. */
  replication?: 'sync' | 'async';
}

/** One admin request as a route handler sees it. */
export interface AdminRequest {
  params: PathParams;
  query: URLSearchParams;
  /** The admin who asks; null on public routes (health). */
  principal: Principal | null;
  /** The JSON object body (read on demand). */
  body(): Promise<Record<string, unknown>>;
  raw: http.IncomingMessage;
}

/** A handler answers with a JSON value (status 200 unless it says otherwise). */
export type AdminHandler = (deps: AdminDeps, req: AdminRequest) => Promise<AdminAnswer | unknown> | AdminAnswer | unknown;

export class AdminAnswer {
  constructor(
    readonly status: number,
    readonly value: unknown,
  ) {}
}
