import type { ClientLogger } from '../logger.js';

/** Options every client object (Producer, PushConsumer, PullConsumer, Admin) accepts. */
export interface ClientOptions {
  /** NameServer address(es), "host:port"; a string may also hold a ";"-separated list. */
  nameServer: string | string[];
  /** Part of the client id; lets several clients of one process tell themselves apart. Default: a counter. */
  instanceName?: string;
  /** Timeout of NameServer and admin-style broker requests. Default 3,000 ms. */
  requestTimeoutMs?: number;
  /** How often cached topic routes are re-read from the NameServer. Default 30,000 ms. */
  routeRefreshMs?: number;
  /** How often the client sends HEART_BEAT to its brokers. Default 30,000 ms. */
  heartbeatMs?: number;
  /** Logging hook; nothing is logged without one. */
  logger?: ClientLogger;
  /**
   * RocketMQ ACL 1.0 credentials: with both keys every request (NameServer and broker) is signed
   * (AccessKey, Signature = HmacSHA1 over the extension-field values and body). Unsigned without.
   */
  accessKey?: string;
  secretKey?: string;
  /** Sent and signed with the keys (temporary credentials). */
  securityToken?: string;
}

export function nameServerList(ns: string | string[]): string[] {
  const list = (Array.isArray(ns) ? ns : ns.split(';')).map((s) => s.trim()).filter((s) => s.length > 0);
  return list;
}
