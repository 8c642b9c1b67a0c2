/**
 * The MQTT gateway alone, on an embedded store and broker engine:
 *   tsx apps/mqtt-gateway/src/main.ts [--data-dir DIR] [--mqtt-port N] [--mqtt-ws-port N]
 *                                     [--listen-host ADDR] [--flush sync|async] [--config FILE]
 * Defaults: ./data-mqtt, 1883, 8083, 127.0.0.1, async. The config file takes the same "mqtt",
 * "auth" and "broker" sections as apps/server, checked the same way. SIGTERM/SIGINT stop it cleanly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Authorizer, BROKER_DEFAULTS, Broker, checkSettings, parseAuthConfig } from '@apogee/broker';
import { MQTT_DEFAULTS, MqttGateway, listenWebSocket } from '@apogee/mqtt';
import { DEFAULT_LOG_LEVEL, type LogLevel, createLogger, parseLogLevel } from '@apogee/logging';
import { openStore } from '@apogee/store';

interface Args {
  dataDir: string;
  mqttPort: number;
  mqttWsPort: number;
  listenHost: string;
  flush: 'ASYNC_FLUSH' | 'SYNC_FLUSH';
  config: Record<string, unknown>;
  configFile: string;
  logLevel: LogLevel;
}

const USAGE =
  'usage: mqtt-gateway [--data-dir DIR] [--mqtt-port N] [--mqtt-ws-port N] [--listen-host ADDR] [--flush sync|async] [--log-level LEVEL] [--config FILE]\n';

/** Flags, then APOGEE_LOG_LEVEL, then the config file's "logLevel" (as apps/server orders its options). */
function parse(argv: readonly string[], env: NodeJS.ProcessEnv): Args {
  const a: Args = {
    dataDir: './data-mqtt',
    mqttPort: 1883,
    mqttWsPort: 8083,
    listenHost: '127.0.0.1',
    flush: 'ASYNC_FLUSH',
    config: {},
    configFile: 'config',
    logLevel: DEFAULT_LOG_LEVEL,
  };
  let flagLevel: LogLevel | undefined;
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    if (flag === '--help' || flag === '-h') {
      process.stdout.write(USAGE);
      process.exit(0);
    }
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
    if (flag === '--data-dir') a.dataDir = v;
    else if (flag === '--mqtt-port' || flag === '--mqtt-ws-port') {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${flag} must be a port 0-65535, got ${JSON.stringify(v)}`);
      if (flag === '--mqtt-port') a.mqttPort = n;
      else a.mqttWsPort = n;
    } else if (flag === '--listen-host') a.listenHost = v;
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
  log.info({ mqtt: addr, mqttWs: ws.addr, dataDir, flush: args.flush }, 'mqtt-gateway: ready');
  const stop = async (signal: string): Promise<void> => {
    log.info({ signal }, 'mqtt-gateway: shutting down');
    await ws.close();
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
