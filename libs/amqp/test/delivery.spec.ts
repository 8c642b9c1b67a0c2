import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpHarness, eventually, openReceiver, openSender, refusedAttach, sendAndWait, text } from './harness.js';

let h: AmqpHarness;
beforeAll(async () => {
  h = await AmqpHarness.start({ maxMessageSize: 8192 });
});
afterAll(async () => {
  await h.close();
});

async function fill(address: string, n: number, prefix = 'm'): Promise<void> {
  const c = await h.connect();
  const s = await openSender(c, address);
  for (let i = 0; i < n; i++) expect((await sendAndWait(s, { body: `${prefix}${i}` })).outcome).toBe('accepted');
  c.close();
}

const settle = () => new Promise((r) => setTimeout(r, 150));

describe('sending to Apogee', () => {
  it('stores pre-settled (at-most-once) sends', async () => {
    const c = await h.connect();
    const s = c.open_sender({ target: { address: 'q-presettled' }, snd_settle_mode: 1 });
    await new Promise((r) => s.once('sendable', r));
    for (let i = 0; i < 5; i++) s.send({ body: `p${i}` });
    await eventually(() => h.store.getMaxOffset('q-presettled', 0) === 5, 'five stored messages');
    c.close();
  });

  it('rejects an oversize message (single and multi-frame) with message-size-exceeded', async () => {
    const c = await h.connect({ max_frame_size: 1024 } as never);
    const s = await openSender(c, 'q-oversize');
    const r = await sendAndWait(s, { body: Buffer.alloc(50_000, 1) });
    expect(r).toMatchObject({ outcome: 'rejected', error: { condition: 'amqp:link:message-size-exceeded' } });
    expect(r.error!.description).toContain('8192');
    expect((await sendAndWait(s, { body: 'small' })).outcome).toBe('accepted');
    expect(h.store.getMaxOffset('q-oversize', 0)).toBe(1);
    c.close();
  });
});

describe('receiving from Apogee', () => {
  it('never delivers beyond the credit granted, and settling grants none', async () => {
    await fill('q-credit', 10);
    const c = await h.connect();
    const r = await openReceiver(c, 'q-credit', {}, 3);
    await eventually(() => r.got.length === 3, 'three messages');
    for (const g of r.got) g.delivery.accept();
    await settle();
    expect(r.got.length).toBe(3);
    r.link.add_credit(2);
    await eventually(() => r.got.length === 5, 'two more');
    await settle();
    expect(r.got.length).toBe(5);
    c.close();
  });

  it('drains an empty queue: a flow advances the delivery-count and leaves no credit', async () => {
    const c = await h.connect();
    const r = await openReceiver(c, 'q-drain-empty', {}, 0);
    r.link.add_credit(7);
    r.link.drain_credit();
    await eventually(() => r.drained === 1, 'drain answered');
    expect((r.link as unknown as { credit: number }).credit).toBe(0);
    expect((r.link as unknown as { delivery_count: number }).delivery_count).toBe(7);
    c.close();
  });

  it('drains a non-empty queue: what is there, then the flow', async () => {
    await fill('q-drain', 3);
    const c = await h.connect();
    const r = await openReceiver(c, 'q-drain', {}, 0);
    r.link.add_credit(10);
    r.link.drain_credit();
    await eventually(() => r.drained === 1, 'drain answered');
    expect(r.got.map((g) => text(g.message))).toEqual(['m0', 'm1', 'm2']);
    expect((r.link as unknown as { delivery_count: number }).delivery_count).toBe(10);
    c.close();
  });

  it('released redelivers as is; modified(delivery-failed) redelivers with delivery-count + 1', async () => {
    await fill('q-modified', 1);
    const c = await h.connect();
    const r = await openReceiver(c, 'q-modified', {}, 10);
    await eventually(() => r.got.length === 1, 'first delivery');
    expect(r.got[0]!.message.delivery_count ?? 0).toBe(0);
    r.got[0]!.delivery.release();
    await eventually(() => r.got.length === 2, 'redelivery after released');
    expect(r.got[1]!.message.delivery_count ?? 0).toBe(0);
    r.got[1]!.delivery.modified({ delivery_failed: true });
    await eventually(() => r.got.length === 3, 'redelivery after modified');
    expect(text(r.got[2]!.message)).toBe('m0');
    expect(r.got[2]!.message.delivery_count).toBe(1);
    r.got[2]!.delivery.accept();
    await settle();
    expect(r.got.length).toBe(3);
    c.close();
  });

  it('rejected moves the message to $dlq/<address>', async () => {
    await fill('q-reject', 2);
    const c = await h.connect();
    const r = await openReceiver(c, 'q-reject', {}, 10);
    await eventually(() => r.got.length === 2, 'two messages');
    r.got[0]!.delivery.reject({ condition: 'app:bad', description: 'cannot parse' });
    await settle(); // rhea merges dispositions issued in one tick into one range
    r.got[1]!.delivery.accept();
    const dlq = await openReceiver(c, '$dlq/q-reject', {}, 10);
    await eventually(() => dlq.got.length === 1, 'the dead letter');
    expect(text(dlq.got[0]!.message)).toBe('m0');
    expect(await refusedAttach(c, 'sender', '$dlq/q-reject')).toMatchObject({ attached: true, condition: 'amqp:not-allowed' });
    c.close();
  });

  it('gives unsettled deliveries to another receiver on detach and on connection loss', async () => {
    await fill('q-handover', 4);
    const other = await h.connect();
    const b = await openReceiver(other, 'q-handover', {}, 0);
    const c1 = await h.connect();
    const a = await openReceiver(c1, 'q-handover', {}, 2);
    await eventually(() => a.got.length === 2, 'a holds two');
    a.link.detach();
    b.link.add_credit(10);
    await eventually(() => b.got.length === 4, 'b gets all four');
    expect(b.got.map((g) => text(g.message)).sort()).toEqual(['m0', 'm1', 'm2', 'm3']);
    for (const g of b.got.slice(0, 2)) g.delivery.accept();
    // Now the connection holding two unsettled messages goes away.
    const c2 = await h.connect();
    const d = await openReceiver(c2, 'q-handover', {}, 0);
    other.close();
    await settle();
    d.link.add_credit(10);
    await eventually(() => d.got.length === 2, 'd gets the two b left unsettled');
    expect(d.got.every((g) => (g.message.delivery_count ?? 0) >= 1)).toBe(true);
    c1.close();
    c2.close();
  });

  it('competing receivers each get distinct messages', async () => {
    const c = await h.connect();
    const rs = await Promise.all([0, 1, 2].map(() => openReceiver(c, 'q-compete', { autoaccept: true }, 100)));
    await fill('q-compete', 60);
    await eventually(() => rs.reduce((n, r) => n + r.got.length, 0) === 60, 'sixty deliveries');
    const all = rs.flatMap((r) => r.got.map((g) => text(g.message)));
    expect(new Set(all).size).toBe(60);
    expect(rs.every((r) => r.got.length > 0)).toBe(true);
    c.close();
  });
});
