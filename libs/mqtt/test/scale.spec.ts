/**
 * 100 connections × 1,000 distinct subscriptions = 100,000 filters (and LMQs); one message per
 * filter; each connection receives exactly its own 1,000.
 */
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttHarness, eventually } from './harness.js';

const CONNECTIONS = 100;
const PER_CONNECTION = 1000;

let h: MqttHarness;
beforeAll(async () => {
  h = await MqttHarness.start();
});
afterAll(async () => {
  await h.close();
});

describe('scale', () => {
  it(`${CONNECTIONS} connections × ${PER_CONNECTION} subscriptions each receive their own messages`, async () => {
    const clients: MqttClient[] = [];
    const received: Array<Set<string>> = [];
    const foreign: string[] = [];
    for (let c = 0; c < CONNECTIONS; c++) {
      const got = new Set<string>();
      received.push(got);
      const client = await h.connect({ protocolVersion: 4, clientId: `scale-${c}` }, (x) =>
        x.on('message', (topic) => {
          if (topic.startsWith(`scale/${c}/`)) got.add(topic);
          else foreign.push(topic);
        }),
      );
      clients.push(client);
    }
    // 1,000 subscriptions per connection, 100 filters per SUBSCRIBE packet.
    await Promise.all(
      clients.map(async (client, c) => {
        for (let b = 0; b < PER_CONNECTION; b += 100) {
          const filters: Record<string, { qos: 0 | 1 }> = {};
          for (let i = b; i < b + 100; i++) filters[`scale/${c}/${i}`] = { qos: 1 };
          await client.subscribeAsync(filters);
        }
      }),
    );
    expect(h.gateway.stats().subscriptions).toBe(CONNECTIONS * PER_CONNECTION);
    const pubs = await Promise.all([0, 1, 2, 3].map(() => h.connect({ protocolVersion: 4 })));
    await Promise.all(
      pubs.map(async (pub, p) => {
        const pending: Array<Promise<unknown>> = [];
        for (let c = p; c < CONNECTIONS; c += pubs.length) {
          for (let i = 0; i < PER_CONNECTION; i++) {
            pending.push(pub.publishAsync(`scale/${c}/${i}`, 'x', { qos: 1 }));
            if (pending.length >= 500) await Promise.all(pending.splice(0));
          }
        }
        await Promise.all(pending);
      }),
    );
    await eventually(() => received.every((s) => s.size === PER_CONNECTION), 'every connection’s 1,000 messages', 120_000);
    expect(foreign).toEqual([]);
  }, 300_000);
});
