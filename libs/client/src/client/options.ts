import type { ClientLogger } from '../logger.js';

/**
 * TLS for the NameServer and broker connections: PEM contents (not file names) of the CAs to
 * trust, and of a client certificate and key for servers that ask for one; `servername` for SNI
 * and the certificate name check when the address is not the name the certificate carries.
 */
export interface ClientTlsOptions {
  /** CA certificate(s) the server's certificate must chain to. Default: the system CAs. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Client certificate (mutual TLS). */
  cert?: string | Buffer;
  /** Private key of `cert`. */
  key?: string | Buffer;
  /** Refuse a server whose certificate does not verify. Default true. */
  rejectUnauthorized?: boolean;
  /** Name sent in SNI and checked against the server certificate. Default: the address's host. */
  servername?: string;
}

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
  /**
   * Connect to the NameServers and brokers over TLS (the servers' remoting TLS mode permissive or
   * enforcing): true for the defaults, or the CA and client certificate to use. Default: plain TCP.
   */
  tls?: boolean | ClientTlsOptions;
}

/** The transport's TLS options for ClientOptions.tls (undefined: plain TCP). */
export function transportTls(t: ClientOptions['tls']): ClientTlsOptions | undefined {
  if (t === undefined || t === false) return undefined;
  return t === true ? {} : t;
}

export function nameServerList(ns: string | string[]): string[] {
  const list = (Array.isArray(ns) ? ns : ns.split(';')).map((s) => s.trim()).filter((s) => s.length > 0);
  return list;
}
