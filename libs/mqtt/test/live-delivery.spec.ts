import { afterEach, describe, expect, it } from 'vitest';
import { MqttHarness, eventually, inbox } from './harness.js';

/**
 * Caught-up subscriptions take QoS 0/1 publishes straight from memory, before the record is
 * written; everything else reads the LMQ. These tests hold the two paths to one order and one
 * copy per message, and check which path carried what.
 */
let h: MqttHarness;
afterEach(async () => {
  await h.close();
});

describe('delivery from memory to caught-up subscriptions', () => {
  it('delivers QoS 0 and 1 from memory to an idle subscriber, in order, once each', async () => {
    h = await MqttHarness.start();
    const sub = await h.connect({ clientId: 'live-sub' });
    const got = inbox(sub);
    await sub.subscribeAsync('live/#', { qos: 1 });
    const pub = await h.connect({ clientId: 'live-pub' });
    for (let i = 0; i < 50; i++) await pub.publishAsync('live/a', `m${i}`, { qos: (i % 2) as 0 | 1 });
    await eventually(() => got.length >= 50, '50 messages');
    expect(got.map((m) => m.payload)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`));
    const s = h.gateway.stats();
    expect(s.messagesOut).toBe(50);
    // Published one at a time to an idle subscriber: every one of them went from memory.
    expect(s.messagesOutFromMemory).toBe(50);
  });

  it('mixes memory and store reads under a small in-flight window without losing, repeating or reordering', async () => {
    h = await MqttHarness.start({ maxInflight: 3 });
    const sub = await h.connect({ clientId: 'slow-sub' });
    const got = inbox(sub);
    await sub.subscribeAsync('burst/#', { qos: 1 });
    const pub = await h.connect({ clientId: 'burst-pub' });
    const n = 2000;
    // Not awaited one by one: the publishes arrive in bursts, so the window is often full and
    // the subscription falls behind and catches up again many times.
    await Promise.all(Array.from({ length: n }, (_, i) => pub.publishAsync(`burst/${i % 3}`, `m${i}`, { qos: 1 })));
    await eventually(() => got.length >= n, `${n} messages`, 30_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(got.map((m) => m.payload)).toEqual(Array.from({ length: n }, (_, i) => `m${i}`));
    const s = h.gateway.stats();
    expect(s.messagesOut).toBe(n);
    expect(s.messagesOutFromMemory).toBeGreaterThan(0);
    expect(s.messagesOutFromMemory).toBeLessThan(n);
  });

  it('sends a message matching two overlapping subscriptions once, from memory', async () => {
    h = await MqttHarness.start();
    const sub = await h.connect({ clientId: 'overlap-sub', protocolVersion: 5 });
    const got = inbox(sub);
    await sub.subscribeAsync({ 'ov/#': { qos: 1 }, 'ov/+/x': { qos: 0 } });
    const pub = await h.connect({ clientId: 'overlap-pub' });
    for (let i = 0; i < 20; i++) await pub.publishAsync('ov/a/x', `m${i}`, { qos: 1 });
    await pub.publishAsync('ov/end', 'end', { qos: 1 });
    await eventually(() => got.some((m) => m.payload === 'end'), 'the end marker');
    await new Promise((r) => setTimeout(r, 100));
    expect(got.map((m) => m.payload)).toEqual([...Array.from({ length: 20 }, (_, i) => `m${i}`), 'end']);
    expect(got.every((m) => m.qos === 1)).toBe(true);
  });

  it('never delivers a QoS 2 publish before it is stored', async () => {
    h = await MqttHarness.start();
    const sub = await h.connect({ clientId: 'q2-sub' });
    const got = inbox(sub);
    await sub.subscribeAsync('q2/#', { qos: 2 });
    const pub = await h.connect({ clientId: 'q2-pub' });
    for (let i = 0; i < 10; i++) await pub.publishAsync('q2/a', `m${i}`, { qos: 2 });
    await eventually(() => got.length >= 10, '10 messages');
    expect(got.map((m) => m.payload)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    expect(h.gateway.stats().messagesOutFromMemory).toBe(0);
  });

  it('commits a persistent session no further than what is written, and resumes from there after a restart', async () => {
    h = await MqttHarness.start();
    const sub = await h.connect({ clientId: 'durable-sub', clean: false });
    const got = inbox(sub);
    await sub.subscribeAsync('dur/#', { qos: 1 });
    const pub = await h.connect({ clientId: 'durable-pub' });
    for (let i = 0; i < 30; i++) await pub.publishAsync('dur/a', `m${i}`, { qos: 1 });
    await eventually(() => got.length >= 30, '30 messages');
    expect(h.gateway.stats().messagesOutFromMemory).toBe(30);
    await sub.endAsync();
    for (let i = 30; i < 40; i++) await pub.publishAsync('dur/a', `m${i}`, { qos: 1 });
    await h.restart();
    let later: ReturnType<typeof inbox> = [];
    // The inbox must be there before CONNACK: the backlog follows it at once.
    await h.connect({ clientId: 'durable-sub', clean: false }, (c) => (later = inbox(c)));
    await eventually(() => later.length >= 10, 'the 10 offline messages');
    await new Promise((r) => setTimeout(r, 200));
    expect(later.map((m) => m.payload)).toEqual(Array.from({ length: 10 }, (_, i) => `m${30 + i}`));
  });
});
