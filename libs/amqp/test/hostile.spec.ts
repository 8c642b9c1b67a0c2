/**
 * The hostile frames of issue 13, byte for byte, against a real gateway: the connection that sent
 * them is closed or served within its limits, and the process keeps answering everyone else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_DISPOSITION_RANGE, DEFAULT_MAX_LINK_CREDIT } from '../src/codec/frame-guard.js';
import { listElements, readDescriptor, readUint } from '../src/codec/types.js';
import { AmqpHarness, openReceiver, openSender, sendAndWait } from './harness.js';
import { RawAmqp, perf } from './raw-amqp.js';
import { encodeBool, encodeUint } from '../src/codec/types.js';

let h: AmqpHarness;
beforeAll(async () => {
  h = await AmqpHarness.start();
});
afterAll(async () => {
  await h.close();
});

const hex = (s: string) => Buffer.from(s, 'hex');

/** A full round trip through the gateway on a fresh rhea connection. */
async function stillServing(queue: string): Promise<void> {
  const c = await h.connect();
  const s = await openSender(c, queue);
  expect((await sendAndWait(s, { body: 'alive' })).outcome).toBe('accepted');
  const r = await openReceiver(c, queue, {}, 1);
  for (let i = 0; i < 200 && r.got.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
  expect(r.got.length).toBe(1);
  c.close();
}

/**
 * Attaches a receiver from an empty `queue`, sends a drain flow with `deliveryCount` and
 * `linkCredit` (session windows 5,000 from 0), and returns the server's drained flow's count and credit.
 */
async function drainedFlow(link: string, queue: string, deliveryCount: number, linkCredit: number): Promise<{ deliveryCount?: number; linkCredit?: number }> {
  const raw = await RawAmqp.connect(h.port);
  try {
    raw.open();
    await raw.waitFor((f) => f.code === 0x10, 'open');
    raw.begin(0);
    await raw.waitFor((f) => f.code === 0x11, 'begin');
    raw.attachReceiver(0, 0, link, queue);
    await raw.waitFor((f) => f.code === 0x12, 'attach');
    // flow: windows, handle 0, delivery-count, link-credit, available null, drain true.
    raw.write(
      perf(0, 0x13, [
        encodeUint(0),
        encodeUint(5000),
        encodeUint(0),
        encodeUint(5000),
        encodeUint(0),
        encodeUint(deliveryCount),
        encodeUint(linkCredit),
        Buffer.from([0x40]),
        encodeBool(true),
      ]),
    );
    const answer = await raw.waitFor((f) => f.code === 0x13, 'the drained flow');
    const { items } = listElements(answer.body, readDescriptor(answer.body, 0).pos);
    return { deliveryCount: readUint(answer.body, items[5]!), linkCredit: readUint(answer.body, items[6]!) };
  } finally {
    raw.socket.destroy();
  }
}

describe('hostile AMQP frames', () => {
  it('32 bytes: an open whose array declares 2^31 zero-width elements closes that connection, heap untouched', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const raw = await RawAmqp.connect(h.port);
    raw.write(hex('414d5150000100000000001802000000005310c00b01f0000000057fffffff41'));
    await raw.done;
    // Before the guard checked it, rhea allocated 2^31 elements here until the process died.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
    await stillServing('q-hostile-1');
  });

  it('35 bytes: drain with link-credit 4,294,967,295 on a link to an empty queue is answered at the credit cap, not counted down for minutes', async () => {
    const raw = await RawAmqp.connect(h.port);
    raw.open();
    await raw.waitFor((f) => f.code === 0x10, 'open');
    raw.begin(0);
    await raw.waitFor((f) => f.code === 0x11, 'begin');
    raw.attachReceiver(0, 0, 'hostile-drain', 'q-hostile-empty');
    await raw.waitFor((f) => f.code === 0x12, 'attach');
    raw.write(hex('0000002302000000005313c01609437000000800437000000800434370ffffffff4341'));
    const answer = await raw.waitFor((f) => f.code === 0x13, 'the drained flow');
    const d = readDescriptor(answer.body, 0);
    const { items } = listElements(answer.body, d.pos);
    expect(readUint(answer.body, items[5]!)).toBe(DEFAULT_MAX_LINK_CREDIT); // delivery-count advanced by the capped credit
    expect(readUint(answer.body, items[6]!)).toBe(0); // link-credit drained
    await stillServing('q-hostile-2');
    raw.socket.destroy();
  });

  it('a disposition of deliveries 0..4,294,967,295 closes that connection (rhea would visit every id: ~20 s for every endpoint)', async () => {
    const raw = await RawAmqp.connect(h.port);
    raw.open();
    await raw.waitFor((f) => f.code === 0x10, 'open');
    raw.begin(0);
    await raw.waitFor((f) => f.code === 0x11, 'begin');
    raw.disposition(0, true, 0, 0xffffffff);
    const close = await raw.waitFor((f) => f.code === 0x18, 'close');
    expect(RawAmqp.errorOf(close).condition).toBe('amqp:resource-limit-exceeded');
    expect(RawAmqp.errorOf(close).description).toContain(`the limit is ${DEFAULT_MAX_DISPOSITION_RANGE}`);
    await raw.done;
    await stillServing('q-hostile-3');
  });

  it('a range as wide as the limit passes (a receiver settling many deliveries at once)', async () => {
    const raw = await RawAmqp.connect(h.port);
    raw.open();
    await raw.waitFor((f) => f.code === 0x10, 'open');
    raw.begin(0);
    await raw.waitFor((f) => f.code === 0x11, 'begin');
    raw.disposition(0, true, 5, 5 + DEFAULT_MAX_DISPOSITION_RANGE - 1);
    raw.write(perf(0, 0x17, [])); // end: answered only if the connection is still served
    await raw.waitFor((f) => f.code === 0x17, 'end');
    expect(raw.closed).toBe(false);
    raw.socket.destroy();
  });

  it('drain with a lying delivery-count (credit 2^32 − 16 + 1,000 in rhea) is answered at once with the count advanced', async () => {
    const answer = await drainedFlow('hostile-count', 'q-hostile-empty-2', 0xfffffff0, 1000);
    expect(answer.deliveryCount).toBe((0xfffffff0 + 1000) % 0x1_0000_0000); // serial arithmetic (RFC 1982)
    expect(answer.linkCredit).toBe(0);
    await stillServing('q-hostile-4');
  });

  it('a drain whose count would end exactly at 2^32 is answered without a count that cannot be encoded', async () => {
    // delivery-count 4,294,967,040 + link-credit 256 = 2^32: rhea's credit, counted from 0.
    const answer = await drainedFlow('hostile-wrap', 'q-hostile-empty-3', 0xffffff00, 256);
    expect(answer.deliveryCount).toBe(0xffffffff); // held at the largest count rhea can write
    expect(answer.linkCredit).toBe(0);
    await stillServing('q-hostile-5');
  });
});
