import type { Session } from './session.js';

/** A session as the admin API shows it. */
export interface MqttSessionView {
  clientId: string;
  connected: boolean;
  /** 3 (3.1), 4 (3.1.1) or 5, while connected. */
  protocolVersion: number | null;
  /** "ip:port" of the connection, while connected. */
  remoteAddress: string | null;
  /** The user who owns the session (null: anonymous; undefined until claimed). */
  username: string | null;
  persistent: boolean;
  /** -1 = never expires; meaningful when persistent. */
  expirySeconds: number;
  /** When the connection went (ms), for a persistent session waiting offline; 0 while connected. */
  disconnectedAt: number;
  inflight: number;
  subscriptions: Array<{ filter: string; qos: number; shared: boolean; noLocal?: boolean; retainAsPublished?: boolean; subscriptionId?: number }>;
}

export function sessionView(s: Session): MqttSessionView {
  const conn = s.connection;
  const subscriptions: MqttSessionView['subscriptions'] = [];
  for (const sub of s.subs.values()) {
    const v: MqttSessionView['subscriptions'][number] = { filter: sub.filter, qos: sub.qos, shared: false };
    if (sub.noLocal !== undefined) v.noLocal = sub.noLocal;
    if (sub.retainAsPublished !== undefined) v.retainAsPublished = sub.retainAsPublished;
    if (sub.subscriptionId !== undefined) v.subscriptionId = sub.subscriptionId;
    subscriptions.push(v);
  }
  for (const [filter, o] of s.sharedSubs) subscriptions.push({ filter, qos: o.qos, shared: true });
  return {
    clientId: s.clientId,
    connected: conn !== null && !conn.isClosed,
    protocolVersion: conn ? conn.protocolVersion : null,
    remoteAddress: conn ? conn.opts.remote : null,
    username: s.owner ?? null,
    persistent: s.persistent,
    expirySeconds: s.expirySeconds,
    disconnectedAt: conn ? 0 : s.disconnectedAt,
    inflight: s.inflightCount,
    subscriptions,
  };
}
