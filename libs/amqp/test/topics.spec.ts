import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpHarness, eventually, openReceiver, openSender, refusedAttach, sendAndWait, text } from './harness.js';

let h: AmqpHarness;
beforeAll(async () => {
  h = await AmqpHarness.start();
});
afterAll(async () => {
  await h.close();
});

const durable = (name: string) => ({ name, source: { address: 'topic/sensors/+', durable: 2, expiry_policy: 'never' } });

describe('topics and addresses', () => {
  it('fans a topic message out to every matching subscription', async () => {
    const c = await h.connect();
    const a = await openReceiver(c, 'topic/fan/+', { autoaccept: true }, 10);
    const b = await openReceiver(c, 'topic/fan/x', { autoaccept: true }, 10);
    const other = await openReceiver(c, 'topic/fan/y', { autoaccept: true }, 10);
    const s = await openSender(c, 'topic/fan/x');
    expect((await sendAndWait(s, { body: 'hi' })).outcome).toBe('accepted');
    await eventually(() => a.got.length === 1 && b.got.length === 1, 'both subscriptions');
    expect(text(a.got[0]!.message)).toBe('hi');
    await new Promise((r) => setTimeout(r, 100));
    expect(other.got.length).toBe(0);
    c.close();
  });

  it('keeps a durable subscription position across reconnects and a restart', async () => {
    const sub = await h.connect({ container_id: 'durable-client' } as never);
    await openReceiver(sub, durable('sub1').source.address, durable('sub1'), 0);
    sub.close();
    const c = await h.connect();
    const s = await openSender(c, 'topic/sensors/t1');
    for (let i = 0; i < 3; i++) await sendAndWait(s, { body: `a${i}` });
    c.close();
    const again = await h.connect({ container_id: 'durable-client' } as never);
    const r = await openReceiver(again, durable('sub1').source.address, { ...durable('sub1'), autoaccept: true }, 10);
    await eventually(() => r.got.length === 3, 'messages sent while detached');
    await new Promise((res) => setTimeout(res, 300)); // positions are committed every 100 ms
    again.close();
    const c2 = await h.connect();
    const s2 = await openSender(c2, 'topic/sensors/t2');
    await sendAndWait(s2, { body: 'after-restart' });
    c2.close();
    await h.restart();
    const back = await h.connect({ container_id: 'durable-client' } as never);
    const r2 = await openReceiver(back, durable('sub1').source.address, { ...durable('sub1'), autoaccept: true }, 10);
    await eventually(() => r2.got.length === 1, 'the message sent before the restart');
    expect(text(r2.got[0]!.message)).toBe('after-restart');
    back.close();
  });

  it('answers an illegal address with attach then detach; the session and connection stay up', async () => {
    const c = await h.connect();
    const bad = await refusedAttach(c, 'sender', 'bad\u0001name');
    expect(bad).toMatchObject({ attached: true, condition: 'amqp:invalid-field' });
    expect(bad.description).toContain('control character');
    expect(await refusedAttach(c, 'receiver', 'x'.repeat(300))).toMatchObject({ attached: true, condition: 'amqp:invalid-field' });
    const s = await openSender(c, 'q-after-refusal');
    expect((await sendAndWait(s, { body: 'still here' })).outcome).toBe('accepted');
    c.close();
  });

  it('creates unknown addresses by default; with autoCreate off it answers not-found', async () => {
    const strict = await AmqpHarness.start({ autoCreate: false });
    try {
      const c = await strict.connect();
      expect(await refusedAttach(c, 'sender', 'nowhere')).toMatchObject({ attached: true, condition: 'amqp:not-found' });
      expect(await refusedAttach(c, 'receiver', 'topic/nowhere/x')).toMatchObject({ attached: true, condition: 'amqp:not-found' });
      c.close();
    } finally {
      await strict.close();
    }
    expect(h.broker.topics.get('fresh-queue')).toBeUndefined();
    const c = await h.connect();
    await openSender(c, 'fresh-queue');
    expect(h.broker.topics.get('fresh-queue')).toBeDefined();
    c.close();
  });
});
