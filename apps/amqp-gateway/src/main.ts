/**
 * The AMQP 1.0 endpoint alone, on an embedded store and broker engine:
 *   tsx apps/amqp-gateway/src/main.ts [--data-dir DIR] [--amqp-port N] [--listen-host ADDR]
 *                                     [--flush sync|async] [--config FILE]
 *                                     [--tls-cert FILE --tls-key FILE [--tls-ca FILE] [--tls-client-auth MODE]
 *                                      [--amqps-port N]]
 * Defaults: ./data-amqp, 5672, 127.0.0.1, async; with a certificate also AMQP over TLS on 5671 and
 * AMQP's TLS protocol header on the plain port (the TLS flags and APOGEE_TLS_* variables as
 * apps/server's, docs/tls.md; SIGHUP or a changed file re-reads the certificate). The config file
 * takes the same "amqp", "auth" and "broker" sections as apps/server, checked the same way.
 * SIGTERM/SIGINT stop it cleanly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AMQP_DEFAULTS, AmqpGateway, resolveAmqpConfig } from '@apogee/amqp';
import { Authorizer, BROKER_DEFAULTS, Broker, checkSettings, parseAuthConfig } from '@apogee/broker';
import { DEFAULT_LOG_LEVEL, type LogLevel, createLogger, parseLogLevel } from '@apogee/logging';
import { openStore } from '@apogee/store';
import { TLS_FLAGS, type TlsListenerArgs, TlsListeners, setTlsArg, tlsArgsFromEnv } from '@apogee/tls';

interface Args {
  dataDir: string;
  amqpPort: number;
  amqpsPort: number;
  tls: TlsListenerArgs;
  listenHost: string;
  flush: 'ASYNC_FLUSH' | 'SYNC_FLUSH';
  config: Record<string, unknown>;
  configFile: string;
  logLevel: LogLevel;
}

const USAGE =
  'usage: amqp-gateway [--data-dir DIR] [--amqp-port N] [--listen-host ADDR] [--flush sync|async] [--log-level LEVEL] [--config FILE]\n' +
  '                    [--tls-cert FILE --tls-key FILE [--tls-ca FILE] [--tls-client-auth none|optional|required]\n' +
  '                     [--tls-handshake-timeout-ms N] [--amqps-port N]]\n';

/** Flags, then APOGEE_LOG_LEVEL, then the config file's "logLevel" (as apps/server orders its options). */
function parse(argv: readonly string[], env: NodeJS.ProcessEnv): Args {
  const a: Args = {
    dataDir: './data-amqp',
    amqpPort: 5672,
    amqpsPort: 5671,
    tls: {},
    listenHost: '127.0.0.1',
    flush: 'ASYNC_FLUSH',
    config: {},
    configFile: 'config',
    logLevel: DEFAULT_LOG_LEVEL,
  };
  let flagLevel: LogLevel | undefined;
  tlsArgsFromEnv(a.tls, TLS_FLAGS, env);
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    if (flag === '--help' || flag === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
    if (flag === '--data-dir') a.dataDir = v;
    else if (flag === '--amqp-port' || flag === '--amqps-port') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${flag} must be a port 0-65535, got ${JSON.stringify(v)}`);
      if (flag === '--amqp-port') a.amqpPort = n;
      else a.amqpsPort = n;
    } else if (flag in TLS_FLAGS) setTlsArg(a.tls, TLS_FLAGS[flag as keyof typeof TLS_FLAGS][0], v, flag);
    else if (flag === '--listen-host') a.listenHost = v;
    else if (flag === '--flush') {
      if (v !== 'sync' && v !== 'async') throw new Error(`--flush must be sync or async, got ${JSON.stringify(v)}`);
      a.flush = v === 'sync' ? 'SYNC_FLUSH' : 'ASYNC_FLUSH';
    } else if (flag === '--log-level') flagLevel = parseLogLevel(v, flag);
    else if (flag === '--config') {
      a.configFile = v;
      a.config = JSON.parse(fs.readFileSync(v, 'utf8')) as Record<string, unknown>;
    } else throw new Error(`unknown option ${flag}\n${USAGE}`);
  }
  const fileLevel = a.config['logLevel'];
  const envLevel = env['APOGEE_LOG_LEVEL'];
  if (flagLevel !== undefined) a.logLevel = flagLevel;
  else if (envLevel) a.logLevel = parseLogLevel(envLevel, 'APOGEE_LOG_LEVEL');
  else if (fileLevel !== undefined) a.logLevel = parseLogLevel(String(fileLevel), `${a.configFile}: logLevel`);
  return a;
}

try {
  const args = parse(process.argv.slice(2), process.env);
  const log = createLogger({ level: args.logLevel });
  // Certificate files are checked before anything opens. Refusals at debug: a plain client
  // retrying against a TLS port would otherwise flood the log.
  const tlsListeners = TlsListeners.fromArgs(args.tls, log, (listener, remote, reason) => log.debug({ listener, remote, reason }, 'tls: connection refused'));
  const auth = new Authorizer(parseAuthConfig(args.config['auth'], args.configFile));
  const amqpSettings = checkSettings('amqp', AMQP_DEFAULTS, args.config['amqp'], args.configFile);
  resolveAmqpConfig(amqpSettings);
  const dataDir = path.resolve(args.dataDir);
  const store = await openStore({ dataDir: path.join(dataDir, 'store'), flushMode: args.flush }, log);
  const broker = await Broker.open({
    store,
    configDir: path.join(dataDir, 'config'),
    config: checkSettings('broker', BROKER_DEFAULTS, args.config['broker'], args.configFile),
    logger: log,
  });
  const gateway = new AmqpGateway({ broker, config: amqpSettings, auth, logger: log });
  // With a certificate the plain port also serves AMQP's TLS protocol header (spec 5.2.1).
  const tlsCtx = tlsListeners.context;
  const addr = await gateway.listen(args.amqpPort, args.listenHost, tlsCtx ? tlsListeners.amqpHeaderServer('amqp') : undefined);
  const amqps = tlsCtx ? await gateway.listen(args.amqpsPort, args.listenHost, tlsListeners.tlsServer('amqps'), 'amqps') : undefined;
  const stopReloads = tlsListeners.watchReloads();
  log.info({ amqp: addr, ...(amqps ? { amqps, tlsHeader: true } : {}), dataDir, flush: args.flush }, 'amqp-gateway: ready');
  const stop = async (signal: string): Promise<void> => {
    log.info({ signal }, 'amqp-gateway: shutting down');
    stopReloads();
    await gateway.close();
    await broker.close();
    await store.close();
    log.info({}, 'amqp-gateway: stopped cleanly');
    log.flush();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
} catch (err) {
  process.stderr.write(`amqp-gateway: ${(err as Error).message}\n`);
  process.exit(1);
}
