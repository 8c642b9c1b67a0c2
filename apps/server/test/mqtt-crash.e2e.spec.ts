/**
 * SIGKILL the server while MQTT publishers send QoS 1 under SYNC_FLUSH: every message whose PUBACK
 * the publisher got reaches the persistent subscriber after the restart.
 */
import fs from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { eventually } from './remoting-helpers.js';
import { ServerProcess, freePorts, killAllStarted, tempDataDir } from './server-process.js';

afterAll(killAllStarted);

const SUB = { protocolVersion: 5 as const, clientId: 'crash-sub', clean: false, reconnectPeriod: 0, properties: { sessionExpiryInterval: 3600 } };

describe('MQTT crash safety', () => {
  it('delivers every QoS 1 message acknowledged before a SIGKILL to a persistent subscriber after restart', async () => {
    const dataDir = tempDataDir('apg-mqtt-crash-');
    const ports = await freePorts();
    try {
      let server = await ServerProcess.start(dataDir, ports, ['--flush', 'sync']);
      const sub = await mqtt.connectAsync(server.mqttUrl, SUB);
      await sub.subscribeAsync('crash/#', { qos: 1 });
      await sub.endAsync();

      const acked = new Set<string>();
      let killed = false;
      const publishers: MqttClient[] = [];
      const load = Promise.all(
        [0, 1, 2, 3].map(async (w) => {
          const pub = await mqtt.connectAsync(server.mqttUrl, { protocolVersion: 4, reconnectPeriod: 0 });
          pub.on('error', () => {});
          publishers.push(pub);
          const one = async (lane: number) => {
            for (let i = 0; !killed && i < 100_000; i++) {
              const id = `w${w}-l${lane}-${i}`;
              try {
                await pub.publishAsync(`crash/w${w}`, id, { qos: 1 });
                acked.add(id);
              } catch {
                return; // connection gone: the server was killed
              }
            }
          };
          await Promise.all([0, 1, 2, 3].map(one));
        }),
      );
      await eventually(() => acked.size >= 300, '300 acknowledged publishes', 30_000);
      await server.kill();
      killed = true;
      await Promise.race([load, new Promise((r) => setTimeout(r, 5000))]);
      for (const p of publishers) p.end(true);

      server = await ServerProcess.start(dataDir, ports, ['--flush', 'sync']);
      const got = new Set<string>();
      const again = mqtt.connect(server.mqttUrl, SUB);
      again.on('message', (_t, payload) => got.add(payload.toString()));
      await new Promise<void>((resolve, reject) => {
        again.once('connect', () => resolve());
        again.once('error', reject);
      });
      await eventually(() => [...acked].every((id) => got.has(id)), `all ${acked.size} acknowledged messages`, 60_000);
      await again.endAsync();
      expect(await server.stop()).toBe(0);
    } finally {
      await killAllStarted();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
