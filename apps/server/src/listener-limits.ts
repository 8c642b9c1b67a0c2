import { checkSettings } from '@apogee/broker';

/** The config file's "remoting" section: limits of the NameServer's and the broker's listeners (each counted apart). */
export interface RemotingLimitSettings {
  /** Most connections open at once per listener; more are closed at once. 0 = no limit. */
  maxConnections: number;
  /** A connection with no bytes either way for this long is closed (RocketMQ's 120 s). 0 = never. */
  idleTimeoutSeconds: number;
  /** A connection that completes no frame this long after connecting is closed. 0 = never. */
  firstFrameTimeoutSeconds: number;
}

/** The config file's "http" section: limits of the metrics HTTP listener. */
export interface HttpLimitSettings {
  /** Most connections open at once; more are closed at once. 0 = no limit. */
  maxConnections: number;
  /** Seconds a client has to send a request's headers, from connecting (Node's headersTimeout). */
  headersTimeoutSeconds: number;
  /** Seconds a whole request may take (Node's requestTimeout). */
  requestTimeoutSeconds: number;
  /** Seconds an idle keep-alive connection stays open between requests. */
  keepAliveTimeoutSeconds: number;
}

export const REMOTING_LIMIT_DEFAULTS: RemotingLimitSettings = { maxConnections: 10_000, idleTimeoutSeconds: 120, firstFrameTimeoutSeconds: 10 };

export const HTTP_LIMIT_DEFAULTS: HttpLimitSettings = {
  maxConnections: 1_000,
  headersTimeoutSeconds: 10,
  requestTimeoutSeconds: 30,
  keepAliveTimeoutSeconds: 5,
};

/** RemotingServer's options of the same meaning (RemotingListenerLimits of @apogee/remoting). */
export interface RemotingListenerOptions {
  maxConnections: number;
  idleTimeoutMs: number;
  firstFrameTimeoutMs: number;
}

/** The "remoting" section checked and overlaid on the defaults, as RemotingServer options. */
export function remotingLimitsFrom(section: unknown, source: string): RemotingListenerOptions {
  const s = { ...REMOTING_LIMIT_DEFAULTS, ...checkSettings('remoting', REMOTING_LIMIT_DEFAULTS, section, source) };
  integers('remoting', s, source);
  return { maxConnections: s.maxConnections, idleTimeoutMs: s.idleTimeoutSeconds * 1000, firstFrameTimeoutMs: s.firstFrameTimeoutSeconds * 1000 };
}

/** The "http" section checked and overlaid on the defaults. */
export function httpLimitsFrom(section: unknown, source: string): HttpLimitSettings {
  const s = { ...HTTP_LIMIT_DEFAULTS, ...checkSettings('http', HTTP_LIMIT_DEFAULTS, section, source) };
  integers('http', s, source);
  for (const k of ['headersTimeoutSeconds', 'requestTimeoutSeconds'] as const)
    if (s[k] < 1) throw new Error(`${source}: http.${k} must be at least 1 (a request must not wait forever)`);
  if (s.headersTimeoutSeconds > s.requestTimeoutSeconds) throw new Error(`${source}: http.headersTimeoutSeconds may not exceed http.requestTimeoutSeconds`);
  return s;
}

function integers(name: string, s: object, source: string): void {
  for (const [k, v] of Object.entries(s))
    if (!Number.isInteger(v) || (v as number) > 2_000_000_000) throw new Error(`${source}: ${name}.${k} must be a whole number, got ${JSON.stringify(v)}`);
}
