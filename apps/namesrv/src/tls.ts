/**
 * The standalone NameServer's TLS: --tls-cert/--tls-key/--tls-ca/--tls-client-auth/
 * --tls-handshake-timeout-ms and --remoting-tls, as apps/server takes them (docs/tls.md); the
 * certificate is re-read on SIGHUP and when its files change.
 */
import {
  type RemotingTlsMode,
  ServerTlsContext,
  type SocketGate,
  type TlsListenerArgs,
  type TlsLogger,
  remotingTlsGate,
  resolveTlsSettings,
} from '@apogee/tls';

/** The TLS part of the command line. */
export type NamesrvTlsArgs = TlsListenerArgs;

export { REMOTING_TLS_FLAGS as TLS_FLAGS, setTlsArg } from '@apogee/tls';

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
