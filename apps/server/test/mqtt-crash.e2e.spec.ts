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

describe('MQTT QoS 2 exactly once across a crash', () => {
  it('stores each QoS 2 message once although the publisher re-sends in-flight ones after a SIGKILL', async () => {
    const dataDir = tempDataDir('apg-mqtt-qos2-');
    const ports = await freePorts();
    try {
      let server = await ServerProcess.start(dataDir, ports, ['--flush', 'sync']);
      const subOpts = { protocolVersion: 5 as const, clientId: 'q2-sub', clean: false, reconnectPeriod: 0, properties: { sessionExpiryInterval: 3600 } };
      const sub = await mqtt.connectAsync(server.mqttUrl, subOpts);
      await sub.subscribeAsync('q2crash/#', { qos: 2 });
      await sub.endAsync();

      // One publisher that keeps its session and in-flight QoS 2 messages across reconnects.
      const pub = mqtt.connect(server.mqttUrl, { protocolVersion: 4, clientId: 'q2-pub', clean: false, reconnectPeriod: 200, connectTimeout: 2000 });
      pub.on('error', () => {});
      await new Promise<void>((r) => pub.once('connect', () => r()));
      const total = 400;
      let completed = 0;
      const sends = Array.from({ length: total }, (_, i) =>
        pub.publishAsync('q2crash/t', `m${i}`, { qos: 2 }).then(() => {
          completed++;
        }),
      );
      await eventually(() => completed >= 50, 'some completed QoS 2 exchanges', 30_000);
      await server.kill();
      server = await ServerProcess.start(dataDir, ports, ['--flush', 'sync']);
      await eventually(() => completed === total, `all ${total} QoS 2 publishes completed after the restart`, 60_000);
      await Promise.all(sends);
      pub.end(true);

      const counts = new Map<string, number>();
      const again = mqtt.connect(server.mqttUrl, subOpts);
      again.on('message', (_t, payload) => counts.set(payload.toString(), (counts.get(payload.toString()) ?? 0) + 1));
      await new Promise<void>((r) => again.once('connect', () => r()));
      await eventually(() => counts.size === total, `all ${total} messages at the subscriber`, 60_000);
      await new Promise((r) => setTimeout(r, 500));
      const dups = [...counts].filter(([, n]) => n > 1);
      expect(dups, `messages stored or delivered twice: ${dups.slice(0, 5).join(' ')}`).toEqual([]);
      await again.endAsync();
      expect(await server.stop()).toBe(0);
    } finally {
      await killAllStarted();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
