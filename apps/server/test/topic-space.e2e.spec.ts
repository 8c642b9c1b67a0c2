/**
 * The topic space lives in the engine, not in the MQTT gateway: a persistent MQTT session that
 * subscribed before a restart receives, after it, what was sent meanwhile over AMQP `topic/…` and
 * over remoting with the topic property — whether or not the MQTT endpoint ran in between.
 */
import fs from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import { Producer } from '@apogee/client';
import mqtt from 'mqtt';
import type * as Rhea from 'rhea';
import { afterAll, describe, expect, it } from 'vitest';
import { createTopic, eventually } from './remoting-helpers.js';
import { ServerProcess, freePorts, killAllStarted, tempDataDir } from './server-process.js';

const rhea = createRequire(import.meta.url)('rhea') as typeof Rhea;

afterAll(killAllStarted);

const SUB = { protocolVersion: 5 as const, clientId: 'away-sub', clean: false, reconnectPeriod: 0, properties: { sessionExpiryInterval: 3600 } };

/** Sends one message to an AMQP address and waits for it to be accepted. */
async function sendAmqp(port: number, address: string, body: string): Promise<void> {
  const c = rhea.create_container({ id: `ts-${Math.random().toString(36).slice(2)}` }).connect({ host: '127.0.0.1', port, reconnect: false });
  c.on('error', () => {});
  c.on('disconnected', () => {});
  await new Promise<void>((resolve, reject) => {
    c.once('connection_open', () => resolve());
    c.once('connection_error', () => reject(new Error('AMQP connection error')));
  });
  const s = c.open_sender({ target: { address } });
  await new Promise<void>((resolve, reject) => {
    s.once('sendable', () => {
      s.send({ body: rhea.message.data_section(Buffer.from(body)) });
      s.once('accepted', () => resolve());
      s.once('rejected', (ctx) => reject(new Error(`rejected: ${JSON.stringify(ctx.delivery?.remote_state)}`)));
    });
  });
  c.close();
}

/** Whether something accepts TCP connections on a loopback port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('the topic space is the engine’s', () => {
  for (const mqttMeanwhile of [false, true]) {
    it(`a persistent MQTT session receives after a restart what AMQP topic/… and remoting sent meanwhile, ${mqttMeanwhile ? 'with' : 'without'} the MQTT gateway running`, async () => {
      const dataDir = tempDataDir('apg-topic-space-');
      const ports = await freePorts();
      try {
        let server = await ServerProcess.start(dataDir, ports);
        const sub = await mqtt.connectAsync(server.mqttUrl, SUB);
        await sub.subscribeAsync('plant/+/temp', { qos: 1 });
        await sub.endAsync();
        expect(await server.stop()).toBe(0);

        // The middle run: the remoting and AMQP endpoints, the MQTT endpoint only if asked.
        server = await ServerProcess.start(dataDir, ports, mqttMeanwhile ? [] : ['--mqtt-port', 'off']);
        expect(await listening(ports.mqttPort)).toBe(mqttMeanwhile);
        await sendAmqp(server.amqpPort, 'topic/plant/p1/temp', 'from-amqp');
        await createTopic(server.brokerAddr, server.namesrvAddr, 'plant');
        const producer = new Producer({ nameServer: server.namesrvAddr, group: 'PG_TOPIC_SPACE' });
        await producer.start();
        await producer.send({ topic: 'plant', body: 'from-remoting', properties: { mqttTopic: 'plant/p2/temp' } });
        // Not for the session: another level, and a property that is no topic of the space.
        await producer.send({ topic: 'plant', body: 'not-matching', properties: { mqttTopic: 'plant/p3/pressure' } });
        await producer.shutdown();
        expect(await server.stop()).toBe(0);

        server = await ServerProcess.start(dataDir, ports);
        const got: Array<{ topic: string; body: string }> = [];
        const again = mqtt.connect(server.mqttUrl, SUB);
        again.on('message', (topic, payload) => got.push({ topic, body: payload.toString() }));
        await new Promise<void>((resolve, reject) => {
          again.once('connect', (ack) => (ack.sessionPresent ? resolve() : reject(new Error('the session was not kept'))));
          again.once('error', reject);
        });
        await eventually(() => got.length >= 2, 'both messages sent while the session was away', 30_000);
        await new Promise((r) => setTimeout(r, 300));
        expect(got.sort((a, b) => a.body.localeCompare(b.body))).toEqual([
          { topic: 'plant/p1/temp', body: 'from-amqp' },
          { topic: 'plant/p2/temp', body: 'from-remoting' },
        ]);
        await again.endAsync();
        expect(await server.stop()).toBe(0);
      } finally {
        await killAllStarted();
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    });
  }
});
