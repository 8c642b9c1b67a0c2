/**
 * Apogee NameServer alone:
 *   npm run namesrv -- [--port N] [--listen-host ADDR (or --host)] [--kv-file FILE] [--config FILE] [--log-level LEVEL]
 *     [--tls-cert FILE --tls-key FILE [--tls-ca FILE] [--tls-client-auth MODE] [--remoting-tls MODE]]
 * Defaults: port 9876 (APOGEE_NAMESRV_PORT), host 127.0.0.1 (APOGEE_NAMESRV_HOST), no KV file
 * (APOGEE_NAMESRV_KV_FILE), no config file (APOGEE_CONFIG), log level info (APOGEE_LOG_LEVEL),
 * no TLS (the TLS flags and APOGEE_TLS_* variables as apps/server's, docs/tls.md). Flags override
 * the environment. The config file's `auth` section (the server's format) turns on RocketMQ ACL
 * 1.0 signature checks: its users' access keys, allowAnonymous and globalWhiteRemoteAddresses;
 * brokers then register with one of those keys (docs/security.md).
 * SIGTERM/SIGINT stop it cleanly; SIGHUP re-reads the TLS certificate.
 */
import fs from 'node:fs';
import { parseAuthConfig, remotingAccounts } from '@apogee/broker';
import { DEFAULT_LOG_LEVEL, type LogLevel, createLogger, parseLogLevel } from '@apogee/logging';
import { NameServer, type NameServerOptions } from '@apogee/namesrv';
import { type NamesrvTlsArgs, TLS_FLAGS, namesrvTls, setTlsArg } from './tls.js';

interface Args extends NamesrvTlsArgs {
  port: number;
  host: string;
  kvFile: string | undefined;
  configFile: string | undefined;
  logLevel: LogLevel;
}

function parse(argv: readonly string[], env: NodeJS.ProcessEnv): Args {
  const args: Args = {
    port: Number(env['APOGEE_NAMESRV_PORT'] ?? 9876),
    host: env['APOGEE_NAMESRV_HOST'] ?? '127.0.0.1',
    kvFile: env['APOGEE_NAMESRV_KV_FILE'],
    configFile: env['APOGEE_CONFIG'],
    logLevel: env['APOGEE_LOG_LEVEL'] ? parseLogLevel(env['APOGEE_LOG_LEVEL'], 'APOGEE_LOG_LEVEL') : DEFAULT_LOG_LEVEL,
  };
  for (const [key, name] of Object.values(TLS_FLAGS)) {
    const v = env[name];
    if (v !== undefined && v !== '') setTlsArg(args, key, v, name);
  }
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (flag === '--help' || flag === '-h') {
      process.stdout.write(
        'usage: namesrv [--port N] [--listen-host ADDR] [--kv-file FILE] [--config FILE] [--log-level trace|debug|info|warn|error|fatal|silent]\n' +
          '               [--tls-cert FILE --tls-key FILE [--tls-ca FILE] [--tls-client-auth none|optional|required]\n' +
          '                [--tls-handshake-timeout-ms N] [--remoting-tls disabled|permissive|enforcing]]\n',
      );
      process.exit(0);
    }
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--port') args.port = Number(value);
    else if (flag === '--host' || flag === '--listen-host') args.host = value;
    else if (flag === '--kv-file') args.kvFile = value;
    else if (flag === '--config') args.configFile = value;
    else if (flag === '--log-level') args.logLevel = parseLogLevel(value, flag);
    else if (flag in TLS_FLAGS) setTlsArg(args, TLS_FLAGS[flag as keyof typeof TLS_FLAGS][0], value, flag);
    else throw new Error(`unknown option ${flag}`);
    i++;
  }
  if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) throw new Error(`port must be an integer 0-65535, got ${args.port}`);
  return args;
}

/** NameServer access checks from a config file's `auth` section; none without one. */
function accessFrom(configFile: string | undefined): NameServerOptions['access'] {
  if (configFile === undefined) return undefined;
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`config file ${configFile}: ${(err as Error).message}`);
  }
  if (doc['auth'] === undefined) return undefined;
  const auth = parseAuthConfig(doc['auth'], configFile);
  return {
    accounts: remotingAccounts(auth),
    allowAnonymous: auth.allowAnonymous,
    globalWhiteRemoteAddresses: auth.globalWhiteRemoteAddresses,
  };
}

try {
  const args = parse(process.argv.slice(2), process.env);
  const access = accessFrom(args.configFile);
  const log = createLogger({ level: args.logLevel });
  const tls = namesrvTls(args, log);
  const ns = new NameServer({
    logger: log,
    ...(args.kvFile === undefined ? {} : { kvFile: args.kvFile }),
    ...(access ? { access } : {}),
    ...(tls.gate ? { socketGate: tls.gate } : {}),
  });
  const addr = await ns.start(args.port, args.host);
  log.info({ addr, tls: tls.mode }, 'namesrv: listening');
  const stop = async (signal: string): Promise<void> => {
    log.info({ signal }, 'namesrv: shutting down');
    tls.stop();
    await ns.close();
    log.info({}, 'namesrv: stopped cleanly');
    log.flush();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
} catch (err) {
  process.stderr.write(`namesrv: ${(err as Error).message}\n`);
  process.exit(1);
}
