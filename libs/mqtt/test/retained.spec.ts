import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MqttHarness, eventually, inbox } from './harness.js';

let h: MqttHarness;
beforeEach(async () => {
  h = await MqttHarness.start();
});
afterEach(async () => {
  await h.close();
});

describe('retained messages', () => {
  for (const protocolVersion of [4, 5] as const) {
    it(`v${protocolVersion}: delivered on subscribe (exact and wildcard) with the retain flag; replaced by a newer one; cleared by an empty payload`, async () => {
      const pub = await h.connect({ protocolVersion });
      await pub.publishAsync('rooms/a/temp', 'old', { qos: 1, retain: true });
      await pub.publishAsync('rooms/a/temp', 'new', { qos: 1, retain: true });
      await pub.publishAsync('rooms/b/temp', 'b', { qos: 1, retain: true });
      await pub.publishAsync('rooms/c/temp', 'c', { qos: 1, retain: true });
      await pub.publishAsync('rooms/c/temp', '', { qos: 1, retain: true });
      await pub.publishAsync('rooms/d/temp', 'not retained', { qos: 1 });
      const sub = await h.connect({ protocolVersion });
      const got = inbox(sub);
      await sub.subscribeAsync('rooms/+/temp', { qos: 1 });
      await eventually(() => got.length >= 2, 'the retained messages');
      await new Promise((r) => setTimeout(r, 100));
      expect(got.map((m) => [m.topic, m.payload, m.retain]).sort()).toEqual([
        ['rooms/a/temp', 'new', true],
        ['rooms/b/temp', 'b', true],
      ]);
      const exact = await h.connect({ protocolVersion });
      const one = inbox(exact);
      await exact.subscribeAsync('rooms/a/temp', { qos: 0 });
      await eventually(() => one.length === 1, 'the exact-topic retained message');
      expect(one[0]).toMatchObject({ payload: 'new', retain: true, qos: 0 });
      // A live publish to a subscribed topic arrives with retain = 0 [MQTT-3.3.1-9].
      await pub.publishAsync('rooms/a/temp', 'live', { qos: 1, retain: true });
      await eventually(() => got.some((m) => m.payload === 'live'), 'the live message');
      expect(got.find((m) => m.payload === 'live')!.retain).toBe(false);
    });
  }

  it('survives a restart', async () => {
    const pub = await h.connect({ protocolVersion: 5 });
    await pub.publishAsync('config/site', 'v1', { qos: 1, retain: true });
    await h.restart();
    const sub = await h.connect({ protocolVersion: 5 });
    const got = inbox(sub);
    await sub.subscribeAsync('config/#', { qos: 1 });
    await eventually(() => got.length === 1, 'the retained message after restart');
    expect(got[0]).toMatchObject({ topic: 'config/site', payload: 'v1', retain: true });
  });

  it('v5 retain handling: 1 = only for a new subscription, 2 = never', async () => {
    const pub = await h.connect({ protocolVersion: 5 });
    await pub.publishAsync('rh/t', 'kept', { qos: 1, retain: true });
    const sub = await h.connect({ protocolVersion: 5 });
    const got = inbox(sub);
    await sub.subscribeAsync('rh/t', { qos: 1, rh: 1 });
    await eventually(() => got.length === 1, 'the first retained delivery');
    await sub.subscribeAsync('rh/t', { qos: 1, rh: 1 }); // not new: nothing again
    await sub.subscribeAsync('rh/#', { qos: 1, rh: 2 }); // never
    await pub.publishAsync('rh/sentinel', 'x', { qos: 1 });
    await eventually(() => got.some((m) => m.topic === 'rh/sentinel'), 'the sentinel');
    expect(got.filter((m) => m.topic === 'rh/t')).toHaveLength(1);
  });
});
