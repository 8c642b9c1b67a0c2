/**
 * TLS for the CLI's NameServer and broker connections (the servers' remoting TLS mode permissive
 * or enforcing) and for the HTTP admin API at an https:// --http URL (a server with TLS serves
 * HTTPS on its HTTP port): --tls, --tls-ca, --tls-cert, --tls-key, --tls-servername,
 * --tls-insecure, each also from an APOGEE_TLS* variable. A CA or certificate alone turns TLS on
 * for remoting; for the admin API the URL's scheme decides.
 */
import { readPemFile } from '@apogee/tls';
import type { ClientTlsOptions } from '@apogee/client';
import { type OptionSpec, type ParsedArgs, UsageError } from './args.js';

/** The global options of TLS (in usage.ts's GLOBAL_OPTIONS). */
export const TLS_OPTIONS: readonly OptionSpec[] = [
  { name: 'tls', kind: 'flag', help: 'connect over TLS (env APOGEE_TLS=1); implied by --tls-ca / --tls-cert' },
  {
    name: 'tls-ca',
    kind: 'string',
    value: 'FILE',
    help: 'PEM CA(s) the server certificate must chain to, over remoting TLS and for an https:// --http (default: system CAs; env APOGEE_TLS_CA)',
  },
  { name: 'tls-cert', kind: 'string', value: 'FILE', help: 'PEM client certificate, for servers that want one (remoting and https://; env APOGEE_TLS_CERT)' },
  { name: 'tls-key', kind: 'string', value: 'FILE', help: 'PEM private key of --tls-cert (env APOGEE_TLS_KEY)' },
  { name: 'tls-servername', kind: 'string', value: 'NAME', help: 'name the server certificate must carry (default: the address host)' },
  { name: 'tls-insecure', kind: 'flag', help: 'do not verify the server certificate (testing only)' },
];

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The client's TLS options from the command line and environment (options win), or undefined for
 * plain TCP. Throws UsageError for a certificate without its key (or the reverse) and an Error
 * naming a file that cannot be read.
 */
export function tlsFromArgs(args: ParsedArgs, env: Env, path: readonly string[]): ClientTlsOptions | undefined {
  const ca = args.str('tls-ca') ?? nonEmpty(env['APOGEE_TLS_CA']);
  const cert = args.str('tls-cert') ?? nonEmpty(env['APOGEE_TLS_CERT']);
  const key = args.str('tls-key') ?? nonEmpty(env['APOGEE_TLS_KEY']);
  const on = args.flag('tls') || isTrue(env['APOGEE_TLS']) || ca !== undefined || cert !== undefined || args.has('tls-insecure');
  if (!on) {
    if (key !== undefined || args.has('tls-servername')) throw new UsageError('--tls-key and --tls-servername need TLS (--tls or --tls-cert)', path);
    return undefined;
  }
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together', path);
  const out: ClientTlsOptions = {};
  if (ca !== undefined) out.ca = readPemFile(ca, 'CA');
  if (cert !== undefined && key !== undefined) {
    out.cert = readPemFile(cert, 'certificate');
    out.key = readPemFile(key, 'private key');
  }
  const servername = args.str('tls-servername');
  if (servername !== undefined) out.servername = servername;
  if (args.flag('tls-insecure')) out.rejectUnauthorized = false;
  return out;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

function isTrue(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v);
}
