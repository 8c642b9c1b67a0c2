import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDescriptor, listElements, readBool, readUint } from '../src/codec/types.js';
import { AmqpHarness, eventually, openReceiver, openSender, sendAndWait, text } from './harness.js';
import { RawAmqp, type RawFrame, dataMessage } from './raw-amqp.js';

let h: AmqpHarness;
beforeAll(async () => {
  h = await AmqpHarness.start();
});
afterAll(async () => {
  await h.close();
});

async function fill(address: string, bodies: string[]): Promise<void> {
  const c = await h.connect();
  const s = await openSender(c, address);
  for (const body of bodies) expect((await sendAndWait(s, { body })).outcome).toBe('accepted');
  c.close();
}

/** Lets rhea write what is scheduled (it writes on process.nextTick) before the next call. */
const written = () => new Promise((r) => setImmediate(r));

describe('credit after drains and outcomes', () => {
  it('after a drain on an empty queue, new credit is the limit: the rest goes to a competing receiver', async () => {
    const c = await h.connect();
    const a = await openReceiver(c, 'q-after-drain', {}, 5);
    a.link.drain_credit();
    await eventually(() => a.drained === 1, 'the drain answered');
    const b = await openReceiver(c, 'q-after-drain', {}, 0);
    await fill('q-after-drain', ['x0', 'x1', 'x2']);
    a.link.add_credit(1);
    await eventually(() => a.got.length === 1, 'a gets its one');
    b.link.add_credit(10);
    // Before the fix, a's link was handed all three (rhea held two without credit) and b got none.
    await eventually(() => b.got.length === 2, 'b gets the other two');
    expect([...a.got, ...b.got].map((g) => text(g.message)).sort()).toEqual(['x0', 'x1', 'x2']);
    c.close();
  });

  it('a reject, with the new credit written before the disposition as Qpid Proton does, keeps delivery going on that session', async () => {
    await fill('q-reject-flow', ['r0', 'r1', 'r2']);
    const c = await h.connect();
    const r = await openReceiver(c, 'q-reject-flow', {}, 1);
    await eventually(() => r.got.length === 1, 'the first message');
    r.link.add_credit(10);
    await written();
    r.got[0]!.delivery.reject({ condition: 'app:bad', description: 'no' });
    await eventually(() => r.got.length === 3, 'the other two after the reject');
    for (const g of r.got.slice(1)) g.delivery.accept();
    const dlq = await openReceiver(c, '$dlq/q-reject-flow', {}, 10);
    await eventually(() => dlq.got.length === 1, 'the dead letter on the same session');
    expect(text(dlq.got[0]!.message)).toBe('r0');
    await fill('q-reject-flow', ['r3']);
    await eventually(() => r.got.length === 4, 'a live message with the credit left');
    expect(r.got.map((g) => text(g.message))).toEqual(['r0', 'r1', 'r2', 'r3']);
    c.close();
  });
});

/** Field `i` of a received frame's performative list, read as a uint or a boolean. */
function field(f: RawFrame, i: number): number | boolean | undefined {
  const at = listElements(f.body, readDescriptor(f.body, 0).pos).items[i];
  if (at === undefined) return undefined;
  return f.body[at] === 0x41 || f.body[at] === 0x42 || f.body[at] === 0x56 ? readBool(f.body, at) : readUint(f.body, at);
}

describe('links are named by name and role', () => {
  it('attaches a sending and a receiving link with the same name on one session, and both work', async () => {
    const raw = await RawAmqp.connect(h.port);
    raw.open();
    raw.begin(0);
    raw.attachSender(0, 0, 'same', 'q-same-name');
    raw.attachReceiver(0, 1, 'same', 'q-same-name');
    const attaches = () => raw.frames.filter((f) => f.code === 0x12);
    await eventually(() => attaches().length === 2 || raw.closed, 'both attaches answered');
    // attach fields: name, handle, role (true: the server receives).
    const serverSending = attaches().find((f) => field(f, 2) === false);
    const serverReceiving = attaches().find((f) => field(f, 2) === true);
    expect(serverSending && serverReceiving).toBeTruthy();
    raw.flow(0, 1, 0, 10);
    raw.transfer(0, 0, 0, Buffer.from('t0'), dataMessage(Buffer.from('both-ways')), false);
    const disposition = await raw.waitFor((f) => f.code === 0x15, 'the sent message settled');
    expect(disposition.body.includes(Buffer.from([0x00, 0x53, 0x24]))).toBe(true); // accepted
    const transfer = await raw.waitFor((f) => f.code === 0x14, 'the message delivered on the receiving link');
    expect(field(transfer, 0)).toBe(field(serverSending!, 1));
    expect(transfer.body.includes(Buffer.from('both-ways'))).toBe(true);
    expect(raw.frames.some((f) => f.code === 0x17 || f.code === 0x18)).toBe(false);
    raw.end();
  });
});
