import type { TlsListenerArgs } from './tls-listeners.js';
import { parseClientAuth, parseRemotingTlsMode } from './tls-settings.js';

/** Flag → [setting, environment variable] of the certificate settings: the names every app takes (docs/tls.md). */
export const TLS_FLAGS = {
  '--tls-cert': ['tlsCert', 'APOGEE_TLS_CERT'],
  '--tls-key': ['tlsKey', 'APOGEE_TLS_KEY'],
  '--tls-ca': ['tlsCa', 'APOGEE_TLS_CA'],
  '--tls-client-auth': ['tlsClientAuth', 'APOGEE_TLS_CLIENT_AUTH'],
  '--tls-handshake-timeout-ms': ['tlsHandshakeTimeoutMs', 'APOGEE_TLS_HANDSHAKE_TIMEOUT_MS'],
} as const satisfies Record<string, readonly [keyof TlsListenerArgs, string]>;

/** TLS_FLAGS and the remoting TLS mode, for apps with a remoting port. */
export const REMOTING_TLS_FLAGS = {
  ...TLS_FLAGS,
  '--remoting-tls': ['remotingTls', 'APOGEE_REMOTING_TLS'],
} as const satisfies Record<string, readonly [keyof TlsListenerArgs, string]>;

/** Sets one TLS setting from `raw`; throws naming `source` when the value is bad. */
export function setTlsArg(out: TlsListenerArgs, key: keyof TlsListenerArgs, raw: string, source: string): void {
  if (key === 'tlsClientAuth') out.tlsClientAuth = parseClientAuth(raw, source);
  else if (key === 'remotingTls') out.remotingTls = parseRemotingTlsMode(raw, source);
  else if (key === 'tlsHandshakeTimeoutMs') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${source}: must be a positive number of milliseconds, got ${JSON.stringify(raw)}`);
    out.tlsHandshakeTimeoutMs = n;
  } else out[key] = raw;
}

/** Reads the `flags`' environment variables into `out` (flags parsed afterwards override them). */
export function tlsArgsFromEnv(out: TlsListenerArgs, flags: Record<string, readonly [keyof TlsListenerArgs, string]>, env: NodeJS.ProcessEnv): void {
  for (const [key, name] of Object.values(flags)) {
    const v = env[name];
    if (v !== undefined && v !== '') setTlsArg(out, key, v, name);
  }
}
