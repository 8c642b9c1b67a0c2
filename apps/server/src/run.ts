import type http from 'node:http';
import path from 'node:path';
import { Authorizer, Broker, parseAuthConfig } from '@apogee/broker';
import { AmqpGateway } from '@apogee/amqp';
import { BrokerRemotingService } from '@apogee/broker-remoting';
import { MqttGateway, listenWebSocket } from '@apogee/mqtt';
import { NameServer } from '@apogee/namesrv';
import { formatError } from '@apogee/message';
import { openStore } from '@apogee/store';
import { pino } from 'pino';
import { advertisedIp, freePort } from './advertised-ip.js';
import type { ServerArgs } from './args.js';
import { amqpSettingsFrom, brokerSettingsFrom, mqttSettingsFrom } from './broker-settings.js';
import { startMetricsServer } from './metrics-http.js';

/**
 * Runs the all-in-one server: store, NameServer, broker (remoting endpoint), MQTT, AMQP and the metrics port,
 * until SIGTERM/SIGINT; then closes everything in reverse order and flushes the store.
 */
export async function runServer(args: ServerArgs): Promise<void> {
  const log = pino({ base: { pid: process.pid }, formatters: { level: (label) => ({ level: label }) } });
  const dataDir = path.resolve(args.dataDir);
  const brokerSettings = brokerSettingsFrom(args.brokerSettings, args.configFile ?? 'config');
  const mqttSettings = mqttSettingsFrom(args.mqttSettings, args.configFile ?? 'config');
  const amqpSettings = amqpSettingsFrom(args.amqpSettings, args.configFile ?? 'config');
  const authConfig = parseAuthConfig(args.authSettings, args.configFile ?? 'config');
  const auth = new Authorizer(authConfig);
  const ip = advertisedIp(args.brokerIp, args.listenHost);
  const brokerPort = args.brokerPort === 0 ? await freePort(args.listenHost) : args.brokerPort;
  const advertised = `${ip}:${brokerPort}`;
  const store = await openStore({ dataDir: path.join(dataDir, 'store'), flushMode: args.flush, storeHost: { address: ip, port: brokerPort } }, log);
  log.info({ dataDir, flush: args.flush, ...store.stats() }, 'apogee: store open');
  const closers: Array<() => Promise<unknown>> = [() => store.close()];
  const shutdown = async () => {
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch (err) {
        log.error({ err: formatError(err) }, 'apogee: error while stopping');
      }
    }
  };
  try {
    const namesrv = new NameServer({ kvFile: path.join(dataDir, 'namesrv', 'kvConfig.json') });
    const namesrvAddr = await listenOrExplain(() => namesrv.start(args.namesrvPort, args.listenHost), 'NameServer', args.listenHost, args.namesrvPort);
    closers.push(() => namesrv.close());
    log.info({ addr: namesrvAddr }, 'apogee: namesrv listening');

    const broker = await Broker.open({ store, configDir: path.join(dataDir, 'config'), config: { ...brokerSettings, brokerName: args.brokerName, clusterName: args.clusterName }, logger: log });
    closers.push(() => broker.close());
    const localNamesrv = namesrvAddr.replace(/^0\.0\.0\.0:/, '127.0.0.1:');
    const service = new BrokerRemotingService({ broker, advertisedAddr: advertised, namesrvAddrs: [localNamesrv], logger: log });
    const bound = await listenOrExplain(() => service.start(brokerPort, args.listenHost), 'broker', args.listenHost, brokerPort);
    closers.push(() => service.close());
    log.info({ listen: bound, advertised, brokerName: args.brokerName, cluster: args.clusterName }, 'apogee: broker listening; clients are told to connect to the advertised address');

    const mqtt = new MqttGateway({ broker, config: mqttSettings, auth, logger: log });
    log.info({ users: authConfig.users.length, allowAnonymous: authConfig.allowAnonymous }, 'apogee: authentication for MQTT');
    const mqttAddr = await listenOrExplain(() => mqtt.listen(args.mqttPort, args.listenHost), 'MQTT endpoint', args.listenHost, args.mqttPort);
    closers.push(() => mqtt.close());
    log.info({ addr: mqttAddr }, 'apogee: MQTT listening (3.1, 3.1.1, 5.0; see docs/mqtt.md for what is implemented)');
    const mqttWs = await listenOrExplain(() => listenWebSocket(mqtt, args.mqttWsPort, args.listenHost), 'MQTT WebSocket endpoint', args.listenHost, args.mqttWsPort);
    closers.push(() => mqttWs.close());
    log.info({ addr: mqttWs.addr, path: '/mqtt' }, 'apogee: MQTT over WebSocket listening');

    const amqp = new AmqpGateway({ broker, config: amqpSettings, auth, logger: log });
    const amqpAddr = await listenOrExplain(() => amqp.listen(args.amqpPort, args.listenHost), 'AMQP endpoint', args.listenHost, args.amqpPort);
    closers.push(() => amqp.close());
    log.info({ addr: amqpAddr }, 'apogee: AMQP 1.0 listening (see docs/amqp.md)');

    let http: http.Server | null = null;
    http = await listenOrExplain(() => startMetricsServer(broker, args.httpPort, args.listenHost, () => mqtt.stats(), () => amqp.stats()), 'metrics HTTP', args.listenHost, args.httpPort);
    const httpAddr = http.address();
    closers.push(() => new Promise<void>((r) => http!.close(() => r())));
    log.info({ addr: typeof httpAddr === 'object' && httpAddr ? `${httpAddr.address}:${httpAddr.port}` : String(httpAddr) }, 'apogee: metrics on /metrics');
    log.info({ namesrv: namesrvAddr, broker: advertised, mqtt: mqttAddr, mqttWs: mqttWs.addr, amqp: amqpAddr }, 'apogee: ready');
  } catch (err) {
    await shutdown();
    throw err;
  }
  const keepAlive = setInterval(() => {}, 1 << 30);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'apogee: shutting down');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  clearInterval(keepAlive);
  await shutdown();
  log.info({}, 'apogee: stopped cleanly');
  log.flush();
}

async function listenOrExplain<T>(start: () => Promise<T>, what: string, host: string, port: number): Promise<T> {
  try {
    return await start();
  } catch (err) {
    throw new Error(`cannot start the ${what} on ${host}:${port}: ${(err as Error).message}`);
  }
}
