/**
 * The MQTT endpoint of a real server process with mqtt.js, and what a native RocketMQ consumer
 * sees of MQTT publishes (stored once under the first level, MQTT topic kept as a property).
 */
import fs from 'node:fs';
import { Producer, PullConsumer } from '@apogee/client';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './remoting-helpers.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';

let server: ServerProcess;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDataDir('apg-mqtt-');
  server = await ServerProcess.start(dataDir);
});

afterAll(async () => {
  await killAllStarted();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('MQTT on apps/server', () => {
  it('delivers MQTT publishes to MQTT subscribers and to a native consumer of the first-level topic', async () => {
    const sub = await mqtt.connectAsync(server.mqttUrl, { protocolVersion: 5, clientId: 'e2e-sub', reconnectPeriod: 0 });
    const got: string[] = [];
    sub.on('message', (topic, payload) => got.push(`${topic}=${payload.toString()}`));
    await sub.subscribeAsync('plant/+/pressure', { qos: 1 });
    // The publisher comes in over WebSocket.
    const pub = await mqtt.connectAsync(server.mqttWsUrl, { protocolVersion: 4, reconnectPeriod: 0 });
    try {
      await pub.publishAsync('plant/p1/pressure', '1.2', { qos: 1 });
      await pub.publishAsync('plant/p2/flow', '7', { qos: 1 });
      await eventually(() => got.length >= 1, 'the MQTT delivery');
      expect(got).toEqual(['plant/p1/pressure=1.2']);

      const consumer = new PullConsumer({ nameServer: server.namesrvAddr, group: 'native-reader' });
      await consumer.start();
      try {
        const seen: Array<{ body: string; mqttTopic: string | undefined }> = [];
        for (let i = 0; i < 100 && seen.length < 2; i++) {
          seen.length = 0;
          try {
            for (const q of await consumer.fetchSubscribeQueues('plant')) {
              const r = await consumer.pull(q, '*', 0, 32);
              for (const m of r.messages) seen.push({ body: m.body.toString(), mqttTopic: m.properties['mqttTopic'] });
            }
          } catch {
            // the store topic becomes routable right after the first publish
          }
          if (seen.length < 2) await new Promise((r) => setTimeout(r, 50));
        }
        expect(seen.sort((a, b) => a.body.localeCompare(b.body))).toEqual([
          { body: '1.2', mqttTopic: 'plant/p1/pressure' },
          { body: '7', mqttTopic: 'plant/p2/flow' },
        ]);
      } finally {
        await consumer.shutdown();
      }
      // And the other way: a native producer's message carrying mqttTopic reaches MQTT subscribers.
      const producer = new Producer({ nameServer: server.namesrvAddr, group: 'native-writer' });
      await producer.start();
      try {
        await producer.send({ topic: 'plant', body: '2.5', properties: { mqttTopic: 'plant/p9/pressure' } });
      } finally {
        await producer.shutdown();
      }
      await eventually(() => got.length >= 2, 'the native message over MQTT');
      expect(got[1]).toBe('plant/p9/pressure=2.5');
      const metrics = await (await fetch(`http://${server.httpAddr}/metrics`)).text();
      expect(metrics).toMatch(/^apogee_mqtt_connections 2$/m);
    } finally {
      await sub.endAsync();
      await pub.endAsync();
    }
  });
});
