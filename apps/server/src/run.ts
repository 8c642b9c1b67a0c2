import path from 'node:path';
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
  log('info', 'apogee: no endpoint yet — the broker, MQTT and AMQP endpoints land in the next issues; the store is ready', {
    ports: { namesrv: args.namesrvPort, broker: args.brokerPort, mqtt: args.mqttPort, mqttWs: args.mqttWsPort, amqp: args.amqpPort, http: args.httpPort },
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
  await store.close();
  log('info', 'apogee: stopped cleanly');
}
