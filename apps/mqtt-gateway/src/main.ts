/**
 * The MQTT gateway alone, on an embedded store and broker engine:
 *   tsx apps/mqtt-gateway/src/main.ts [--data-dir DIR] [--mqtt-port N] [--mqtt-ws-port N]
 *                                     [--listen-host ADDR] [--flush sync|async] [--config FILE]
 *                                     [--tls-cert FILE --tls-key FILE [--tls-ca FILE] [--tls-client-auth MODE]
 *                                      [--mqtts-port N] [--mqtt-wss-port N]]
 * Defaults: ./data-mqtt, 1883, 8083, 127.0.0.1, async; with a certificate also MQTT over TLS on
 * 8883 and secure WebSocket on 8084 (the TLS flags and APOGEE_TLS_* variables as apps/server's,
 * docs/tls.md; SIGHUP or a changed file re-reads the certificate). The config file takes the same
 * "mqtt", "auth" and "broker" sections as apps/server, checked the same way. SIGTERM/SIGINT stop it cleanly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Authorizer, BROKER_DEFAULTS, Broker, checkSettings, parseAuthConfig } from '@apogee/broker';
import { MQTT_DEFAULTS, MqttGateway, listenWebSocket } from '@apogee/mqtt';
import { DEFAULT_LOG_LEVEL, type LogLevel, createLogger, parseLogLevel } from '@apogee/logging';
import { openStore } from '@apogee/store';
import { TLS_FLAGS, type TlsListenerArgs, TlsListeners, certificateName, setTlsArg, tlsArgsFromEnv } from '@apogee/tls';

interface Args {
  dataDir: string;
  mqttPort: number;
  mqttWsPort: number;
  mqttsPort: number;
  mqttWssPort: number;
  tls: TlsListenerArgs;
  listenHost: string;
  flush: 'ASYNC_FLUSH' | 'SYNC_FLUSH';
  config: Record<string, unknown>;
  configFile: string;
  logLevel: LogLevel;
}

const USAGE =
  'usage: mqtt-gateway [--data-dir DIR] [--mqtt-port N] [--mqtt-ws-port N] [--listen-host ADDR] [--flush sync|async] [--log-level LEVEL] [--config FILE]\n' +
  '                    [--tls-cert FILE --tls-key FILE [--tls-ca FILE] [--tls-client-auth none|optional|required]\n' +
  '                     [--tls-handshake-timeout-ms N] [--mqtts-port N] [--mqtt-wss-port N]]\n';

/** Flags, then APOGEE_LOG_LEVEL, then the config file's "logLevel" (as apps/server orders its options). */
function parse(argv: readonly string[], env: NodeJS.ProcessEnv): Args {
  const a: Args = {
    dataDir: './data-mqtt',
    mqttPort: 1883,
    mqttWsPort: 8083,
    mqttsPort: 8883,
    mqttWssPort: 8084,
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
    else if (flag === '--mqtt-port' || flag === '--mqtt-ws-port' || flag === '--mqtts-port' || flag === '--mqtt-wss-port') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${flag} must be a port 0-65535, got ${JSON.stringify(v)}`);
      if (flag === '--mqtt-port') a.mqttPort = n;
      else if (flag === '--mqtt-ws-port') a.mqttWsPort = n;
      else if (flag === '--mqtts-port') a.mqttsPort = n;
      else a.mqttWssPort = n;
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
  const dataDir = path.resolve(args.dataDir);
  const store = await openStore({ dataDir: path.join(dataDir, 'store'), flushMode: args.flush }, log);
  const broker = await Broker.open({
    store,
    configDir: path.join(dataDir, 'config'),
    config: checkSettings('broker', BROKER_DEFAULTS, args.config['broker'], args.configFile),
    logger: log,
  });
  const gateway = new MqttGateway({ broker, config: checkSettings('mqtt', MQTT_DEFAULTS, args.config['mqtt'], args.configFile), auth, logger: log });
  const addr = await gateway.listen(args.mqttPort, args.listenHost);
  const ws = await listenWebSocket(gateway, args.mqttWsPort, args.listenHost);
  const secure: { mqtts?: string; mqttWss?: string } = {};
  let wss: Awaited<ReturnType<typeof listenWebSocket>> | undefined;
  if (tlsListeners.context) {
    secure.mqtts = await gateway.listen(args.mqttsPort, args.listenHost, { name: 'mqtts', createServer: tlsListeners.tlsServer('mqtts'), certificateName });
    wss = await listenWebSocket(gateway, args.mqttWssPort, args.listenHost, '/mqtt', {
      name: 'mqtt-wss',
      createServer: tlsListeners.httpsServer('mqtt-wss'),
      certificateName,
    });
    secure.mqttWss = wss.addr;
  }
  const stopReloads = tlsListeners.watchReloads();
  log.info({ mqtt: addr, mqttWs: ws.addr, ...secure, dataDir, flush: args.flush }, 'mqtt-gateway: ready');
  const stop = async (signal: string): Promise<void> => {
    log.info({ signal }, 'mqtt-gateway: shutting down');
    stopReloads();
    await ws.close();
    await wss?.close();
    await gateway.close();
    await broker.close();
    await store.close();
    log.info({}, 'mqtt-gateway: stopped cleanly');
    log.flush();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
} catch (err) {
  process.stderr.write(`mqtt-gateway: ${(err as Error).message}\n`);
  process.exit(1);
}
