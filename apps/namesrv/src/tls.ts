/**
 * The standalone NameServer's TLS: --tls-cert/--tls-key/--tls-ca/--tls-client-auth/
 * --tls-handshake-timeout-ms and --remoting-tls, as apps/server takes them (docs/tls.md); the
 * certificate is re-read on SIGHUP and when its files change.
 */
import {
  type ClientAuthMode,
  type RemotingTlsMode,
  ServerTlsContext,
  type SocketGate,
  type TlsLogger,
  parseClientAuth,
  parseRemotingTlsMode,
  remotingTlsGate,
  resolveTlsSettings,
} from '@apogee/tls';

/** The TLS part of the command line. */
export interface NamesrvTlsArgs {
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsClientAuth?: ClientAuthMode;
  tlsHandshakeTimeoutMs?: number;
  remotingTls?: RemotingTlsMode;
}

/** Flag → [setting, environment variable]: the same names as apps/server's. */
export const TLS_FLAGS = {
  '--tls-cert': ['tlsCert', 'APOGEE_TLS_CERT'],
  '--tls-key': ['tlsKey', 'APOGEE_TLS_KEY'],
  '--tls-ca': ['tlsCa', 'APOGEE_TLS_CA'],
  '--tls-client-auth': ['tlsClientAuth', 'APOGEE_TLS_CLIENT_AUTH'],
  '--tls-handshake-timeout-ms': ['tlsHandshakeTimeoutMs', 'APOGEE_TLS_HANDSHAKE_TIMEOUT_MS'],
  '--remoting-tls': ['remotingTls', 'APOGEE_REMOTING_TLS'],
} as const satisfies Record<string, readonly [keyof NamesrvTlsArgs, string]>;

/** Sets one TLS setting from `raw`; throws naming `source` when the value is bad. */
export function setTlsArg(out: NamesrvTlsArgs, key: keyof NamesrvTlsArgs, raw: string, source: string): void {
  if (key === 'tlsClientAuth') out.tlsClientAuth = parseClientAuth(raw, source);
  else if (key === 'remotingTls') out.remotingTls = parseRemotingTlsMode(raw, source);
  else if (key === 'tlsHandshakeTimeoutMs') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${source}: must be a positive number of milliseconds, got ${JSON.stringify(raw)}`);
    out.tlsHandshakeTimeoutMs = n;
  } else out[key] = raw;
}

/** The NameServer port's gate and what stops the reloads; no gate when remoting TLS is disabled. */
export interface NamesrvTls {
  gate: SocketGate | undefined;
  mode: RemotingTlsMode;
  stop(): void;
}

/**
 * Reads and checks the files (throws naming a bad one), makes the port's gate and starts the
 * reloads. Without a certificate the mode defaults to disabled, with one to permissive.
 */
export function namesrvTls(args: NamesrvTlsArgs, log: TlsLogger & { warn(obj: object, msg: string): void }): NamesrvTls {
  const settings = resolveTlsSettings(
    { cert: args.tlsCert, key: args.tlsKey, ca: args.tlsCa, clientAuth: args.tlsClientAuth, handshakeTimeoutMs: args.tlsHandshakeTimeoutMs },
    'TLS settings',
  );
  const mode = args.remotingTls ?? (settings ? 'permissive' : 'disabled');
  if (!settings && mode !== 'disabled') throw new Error(`--remoting-tls ${mode} needs a certificate: set --tls-cert and --tls-key`);
  if (!settings) return { gate: undefined, mode, stop: () => {} };
  const ctx = new ServerTlsContext(settings, log);
  log.info({ ...ctx.summary, clientAuth: settings.clientAuth, remotingTls: mode }, 'namesrv: TLS certificate loaded');
  // Refusals at debug: a plain client retrying against an enforcing port would otherwise flood the log.
  const gate = remotingTlsGate(mode, ctx, 'namesrv', (remote, reason) => log.debug?.({ remote, reason }, 'tls: connection refused'));
  const onHup = () => ctx.reload('SIGHUP');
  process.on('SIGHUP', onHup);
  ctx.watch();
  return {
    gate,
    mode,
    stop: () => {
      process.off('SIGHUP', onHup);
      ctx.close();
    },
  };
}
