import { PropertyKey, decodeRecord } from '@apogee/message';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpHarness, eventually, openReceiver, openSender, sendAndWait, text } from './harness.js';

let h: AmqpHarness;
beforeAll(async () => {
  h = await AmqpHarness.start();
});
afterAll(async () => {
  await h.close();
});

describe('queues', () => {
  it('stores an at-least-once send before accepting it, and delivers it', async () => {
    const c = await h.connect();
    const s = await openSender(c, 'q-basic');
    expect(await sendAndWait(s, { body: 'hello' })).toEqual({ outcome: 'accepted' });
    expect(h.store.getMaxOffset('q-basic', 0)).toBe(1);
    const r = await openReceiver(c, 'q-basic', {}, 10);
    await eventually(() => r.got.length === 1, 'one message');
    expect(text(r.got[0]!.message)).toBe('hello');
    r.got[0]!.delivery.accept();
  });

  it('stores AMQP messages without a UNIQ_KEY (no key-index entry per message)', async () => {
    const c = await h.connect();
    const s = await openSender(c, 'q-nouniq');
    expect(await sendAndWait(s, { body: 'x', message_id: 'client-id-1' })).toEqual({ outcome: 'accepted' });
    const r = await h.store.get('q-nouniq', 0, 0, 1);
    expect(r.status).toBe('FOUND');
    const m = decodeRecord(r.messages[0]!.record);
    expect(m.properties.has(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX)).toBe(false);
    // The client's message-id still travels with the message.
    const rc = await openReceiver(c, 'q-nouniq', {}, 1);
    await eventually(() => rc.got.length === 1, 'one message');
    expect(rc.got[0]!.message.message_id).toBe('client-id-1');
  });

  it('delivers on a new queue without waiting for the first position commit to reach the disk', async () => {
    const store = h.store;
    const commit = store.commitOffset.bind(store);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    store.commitOffset = async (...args) => {
      await held;
      return commit(...args);
    };
    try {
      const c = await h.connect();
      const r = await openReceiver(c, 'q-nowait', {}, 10);
      const s = await openSender(c, 'q-nowait');
      expect(await sendAndWait(s, { body: 'first' })).toEqual({ outcome: 'accepted' });
      await eventually(() => r.got.length === 1, 'delivery while the position commit is still pending');
      expect(text(r.got[0]!.message)).toBe('first');
    } finally {
      store.commitOffset = commit;
      release();
    }
  });

  it('keeps the order of one sender across backlog and live delivery', async () => {
    const c = await h.connect();
    const s = await openSender(c, 'q-order');
    for (let i = 0; i < 50; i++) await sendAndWait(s, { body: `m${i}` });
    const r = await openReceiver(c, 'q-order', {}, 1000);
    const live = Array.from({ length: 50 }, (_, i) => sendAndWait(s, { body: `m${50 + i}` }));
    await Promise.all(live);
    await eventually(() => r.got.length === 100, '100 messages');
    expect(r.got.map((g) => text(g.message))).toEqual(Array.from({ length: 100 }, (_, i) => `m${i}`));
  });
});
