import { RateLimitedWarnings } from '@apogee/message';
import { type TlsLogger, TlsListeners } from '@apogee/tls';
import type { ServerArgs } from './args.js';

export { certificateName } from '@apogee/tls';

/** Logger of the TLS wiring: the context's messages and refused connections. */
export interface TlsWiringLogger extends TlsLogger {
  warn(obj: object, msg: string): void;
}

/**
 * The server's TLS listeners from its flags, environment and config file (checked: a bad file
 * stops the start with its name); refused connections are warned about, rate-limited.
 */
export function serverTls(args: ServerArgs, log: TlsWiringLogger): TlsListeners {
  const refusals = new RateLimitedWarnings(log);
  return TlsListeners.fromArgs(
    args,
    log,
    (listener, remote, reason) => refusals.warn(`tls:${listener}`, { listener, remote, reason }, 'tls: connection refused'),
    () => refusals.flush(),
  );
}
