import path from 'node:path';
import { NameServer } from '@apogee/namesrv';
import { openStore } from '@apogee/store';
import type { ServerArgs } from './args.js';

/** Opens the store and waits for SIGTERM/SIGINT, then closes it cleanly (flushes everything). */
export async function runServer(args: ServerArgs): Promise<void> {
  const dataDir = path.resolve(args.dataDir);
  const log = (level: string, msg: string, extra: object = {}) =>
    process.stdout.write(`${JSON.stringify({ level, time: Date.now(), msg, ...extra })}\n`);
  const store = await openStore({ dataDir: path.join(dataDir, 'store'), flushMode: args.flush }, {
    info: (o, m) => log('info', m, o),
    warn: (o, m) => log('warn', m, o),
    error: (o, m) => log('error', m, o),
  });
  log('info', 'apogee: store open', { dataDir, flush: args.flush, ...store.stats() });
  const namesrv = new NameServer({ kvFile: path.join(dataDir, 'namesrv', 'kvConfig.json') });
  let namesrvAddr: string;
  try {
    namesrvAddr = await namesrv.start(args.namesrvPort, args.listenHost);
  } catch (err) {
    await store.close();
    throw new Error(`cannot start the NameServer on ${args.listenHost}:${args.namesrvPort}: ${(err as Error).message}`);
  }
  log('info', 'apogee: namesrv listening', { addr: namesrvAddr });
  log('info', 'apogee: no broker endpoint yet — the broker, MQTT and AMQP endpoints land in the next issues', {
    ports: { broker: args.brokerPort, mqtt: args.mqttPort, mqttWs: args.mqttWsPort, amqp: args.amqpPort, http: args.httpPort },
  });
  const keepAlive = setInterval(() => {}, 1 << 30);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log('info', `apogee: ${signal}, shutting down`);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  clearInterval(keepAlive);
  await namesrv.close();
  await store.close();
  log('info', 'apogee: stopped cleanly');
}
