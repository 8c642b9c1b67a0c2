import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { internals } from '../rhea/modules.js';
import { decodeHotFrame, encodeDisposition, encodeFlow, encodeTransfer, type HotFrame } from './hot-frames.js';

// rhea's own codec, unpatched (this spec loads rhea/modules.ts, which patches nothing): the reference.
interface RheaFrame {
  channel: number;
  performative?: Record<string, unknown> & { constructor: { toString(): string } };
  payload?: Buffer;
}
const frames = internals.frames as unknown as {
  read_frame(b: Buffer): RheaFrame;
  write_frame(f: unknown): Buffer;
  amqp_frame(channel: number, performative: unknown, payload?: Buffer): unknown;
  transfer(f: object): unknown;
  disposition(f: object): unknown;
  flow(f: object): unknown;
};
const types = internals.types as unknown as { Reader: new (b: Buffer) => { read(): unknown } };
const message = internals.message as unknown as Record<string, (f?: object) => { described(): unknown }>;
const decodeState = (b: Buffer): unknown => new types.Reader(b).read();

const TRANSFER_FIELDS = [
  'handle',
  'delivery_id',
  'delivery_tag',
  'message_format',
  'settled',
  'more',
  'rcv_settle_mode',
  'state',
  'resume',
  'aborted',
  'batchable',
];
const DISPOSITION_FIELDS = ['role', 'first', 'last', 'settled', 'batchable'];
const FLOW_FIELDS = [
  'next_incoming_id',
  'incoming_window',
  'next_outgoing_id',
  'outgoing_window',
  'handle',
  'delivery_count',
  'link_credit',
  'available',
  'drain',
  'echo',
  'properties',
];

/** The fields as rhea's getters give them. */
function fieldsOf(p: Record<string, unknown>, names: string[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const n of names) o[n] = p[n];
  return o;
}

const uint = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 255 }), fc.integer({ min: 256, max: 0xffffffff }));
const tag = fc.uint8Array({ minLength: 0, maxLength: 32 }).map((a) => Buffer.from(a));
const payload = fc.option(
  fc.uint8Array({ minLength: 1, maxLength: 600 }).map((a) => Buffer.from(a)),
  { nil: undefined },
);
const channel = fc.integer({ min: 0, max: 0xffff });

/** Writes the frame's size into its first four bytes. */
function sized(b: Buffer): Buffer {
  b.writeUInt32BE(b.length, 0);
  return b;
}

function hot(buf: Buffer): HotFrame {
  const h = decodeHotFrame(buf, decodeState);
  expect(h).not.toBeNull();
  return h!;
}

describe('hot frames: decoding what rhea encodes', () => {
  it('transfers: every field, the channel and the payload as rhea reads them', () => {
    fc.assert(
      fc.property(
        channel,
        uint,
        uint,
        tag,
        uint,
        fc.boolean(),
        fc.boolean(),
        fc.option(fc.integer({ min: 0, max: 1 }), { nil: undefined }),
        payload,
        (ch, handle, id, t, format, settled, more, rcv, body) => {
          const fields: Record<string, unknown> = { handle, delivery_id: id, delivery_tag: t, message_format: format, settled, more };
          if (rcv !== undefined) fields['rcv_settle_mode'] = rcv;
          const buf = frames.write_frame(frames.amqp_frame(ch, frames.transfer(fields), body));
          const ref = frames.read_frame(buf);
          const h = hot(buf);
          expect(h.channel).toBe(ref.channel);
          expect(fieldsOf(h.performative as never, TRANSFER_FIELDS)).toEqual(fieldsOf(ref.performative!, TRANSFER_FIELDS));
          expect(h.payload).toEqual(ref.payload);
        },
      ),
    );
  });

  it('dispositions: role, range, settled and the state exactly as rhea holds it', () => {
    const state = fc.constantFrom(undefined, 'accepted', 'released', 'rejected', 'modified');
    fc.assert(
      fc.property(channel, fc.boolean(), uint, fc.option(uint, { nil: undefined }), fc.boolean(), state, (ch, role, first, last, settled, s) => {
        const fields: Record<string, unknown> = { role, first, settled };
        if (last !== undefined) fields['last'] = last;
        if (s === 'rejected') fields['state'] = message[s]!({ error: { condition: 'amqp:internal-error', description: 'x' } }).described();
        else if (s === 'modified') fields['state'] = message[s]!({ delivery_failed: true }).described();
        else if (s) fields['state'] = message[s]!().described();
        const buf = frames.write_frame(frames.amqp_frame(ch, frames.disposition(fields)));
        const ref = frames.read_frame(buf);
        const h = hot(buf);
        expect(fieldsOf(h.performative as never, DISPOSITION_FIELDS)).toEqual(fieldsOf(ref.performative!, DISPOSITION_FIELDS));
        expect(JSON.stringify((h.performative as { state?: unknown }).state)).toBe(JSON.stringify(ref.performative!['state']));
      }),
    );
  });

  it('flows: session and link flows', () => {
    fc.assert(
      fc.property(channel, uint, uint, uint, uint, fc.option(fc.tuple(uint, uint, uint, fc.boolean()), { nil: undefined }), (ch, nii, iw, noi, ow, link) => {
        const fields: Record<string, unknown> = { next_incoming_id: nii, incoming_window: iw, next_outgoing_id: noi, outgoing_window: ow };
        if (link) Object.assign(fields, { handle: link[0], delivery_count: link[1], link_credit: link[2], drain: link[3] });
        const buf = frames.write_frame(frames.amqp_frame(ch, frames.flow(fields)));
        const ref = frames.read_frame(buf);
        expect(fieldsOf(hot(buf).performative as never, FLOW_FIELDS)).toEqual(fieldsOf(ref.performative!, FLOW_FIELDS));
      }),
    );
  });

  it('dispatches to the handler rhea would call', () => {
    const calls: string[] = [];
    const target = { on_transfer: () => calls.push('transfer'), on_disposition: () => calls.push('disposition'), on_flow: () => calls.push('flow') };
    for (const p of [
      frames.transfer({ handle: 0, delivery_id: 0, delivery_tag: Buffer.from('t'), message_format: 0, settled: false, more: false }),
      frames.disposition({ role: true, first: 0 }),
      frames.flow({ next_incoming_id: 0, incoming_window: 1, next_outgoing_id: 0, outgoing_window: 1 }),
    ]) {
      const h = hot(frames.write_frame(frames.amqp_frame(0, p)));
      h.performative.dispatch(target, h);
    }
    expect(calls).toEqual(['transfer', 'disposition', 'flow']);
  });

  it('leaves everything else to rhea: other performatives, a transfer with a state, flow properties, symbolic descriptors, odd encodings, truncation', () => {
    const others = [
      // A transfer with an accepted state (rhea cannot build one itself): handle, id, tag, format, settled, more, rcv-settle-mode, state.
      sized(
        Buffer.from([0, 0, 0, 0, 2, 0, 0, 0, 0x00, 0x53, 0x14, 0xc0, 0x0e, 0x08, 0x43, 0x43, 0xa0, 0x01, 0x74, 0x43, 0x42, 0x42, 0x40, 0x00, 0x53, 0x24, 0x45]),
      ),
      frames.write_frame(
        frames.amqp_frame(0, frames.flow({ next_incoming_id: 0, incoming_window: 1, next_outgoing_id: 0, outgoing_window: 1, properties: { a: 1 } })),
      ),
      frames.write_frame(frames.amqp_frame(0, frames.disposition({ role: true, first: 0, state: null }))),
      frames.write_frame({
        channel: 0,
        type: 0,
        performative: (frames as unknown as Record<string, (f: object) => unknown>)['detach']!({ handle: 0, closed: true }),
      }),
    ];
    for (const b of others) {
      expect(frames.read_frame(b).performative).toBeDefined(); // a valid frame, for rhea
      expect(decodeHotFrame(b, decodeState)).toBeNull();
    }
    // A flow whose descriptor is the symbol amqp:flow:list, and one with its handle as a ulong.
    expect(
      decodeHotFrame(
        sized(Buffer.concat([Buffer.from([0, 0, 0, 0, 2, 0, 0, 0, 0x00, 0xa3, 14]), Buffer.from('amqp:flow:list'), Buffer.from([0x45])])),
        decodeState,
      ),
    ).toBeNull();
    const ulongHandle = sized(
      Buffer.from([0, 0, 0, 0, 2, 0, 0, 0, 0x00, 0x53, 0x13, 0xc0, 0x10, 0x05, 0x43, 0x52, 0x0a, 0x43, 0x52, 0x0a, 0x80, 0, 0, 0, 0, 0, 0, 0, 1]),
    );
    expect(frames.read_frame(ulongHandle).performative!['handle']).toBe(1);
    expect(decodeHotFrame(ulongHandle, decodeState)).toBeNull();
    const good = frames.write_frame(frames.amqp_frame(0, frames.flow({ next_incoming_id: 0, incoming_window: 1, next_outgoing_id: 0, outgoing_window: 1 })));
    for (let cut = 9; cut < good.length; cut++) {
      const truncated = Buffer.from(good.subarray(0, cut));
      truncated.writeUInt32BE(cut, 0);
      expect(decodeHotFrame(truncated, decodeState)).toBeNull();
    }
  });
});

describe('hot frames: encoding what rhea reads', () => {
  it('transfers', () => {
    fc.assert(
      fc.property(
        channel,
        uint,
        uint,
        fc.oneof(
          tag,
          fc.uint8Array({ minLength: 256, maxLength: 300 }).map((a) => Buffer.from(a)),
        ),
        uint,
        fc.boolean(),
        fc.boolean(),
        payload,
        (ch, handle, id, t, format, settled, more, body) => {
          const f = { handle, delivery_id: id, delivery_tag: t, message_format: format, settled, more };
          const ref = frames.read_frame(encodeTransfer(ch, f, body)!);
          expect(ref.channel).toBe(ch);
          expect(String(ref.performative!.constructor)).toBe('transfer#14');
          expect(fieldsOf(ref.performative!, Object.keys(f))).toEqual(f);
          expect(ref.payload).toEqual(body);
        },
      ),
    );
  });

  it('dispositions with no state, accepted or released', () => {
    const state = fc.constantFrom(undefined, 'accepted', 'released');
    fc.assert(
      fc.property(
        channel,
        fc.boolean(),
        uint,
        fc.option(uint, { nil: undefined }),
        fc.option(fc.boolean(), { nil: undefined }),
        state,
        (ch, role, first, last, settled, s) => {
          const buf = encodeDisposition(ch, { role, first, last, settled, state: s ? message[s]!().described() : undefined })!;
          const p = frames.read_frame(buf).performative!;
          expect(String(p.constructor)).toBe('disposition#15');
          expect(fieldsOf(p, ['role', 'first', 'last', 'settled'])).toEqual({ role, first, last: last ?? null, settled: settled ?? null });
          if (s)
            expect(JSON.stringify(p['state'])).toBe(
              JSON.stringify(
                frames.read_frame(frames.write_frame(frames.amqp_frame(0, frames.disposition({ role, first, state: message[s]!().described() }))))
                  .performative!['state'],
              ),
            );
          else expect((p['state'] as { value: unknown }).value).toBeNull();
        },
      ),
    );
  });

  it('session and link flows', () => {
    fc.assert(
      fc.property(
        channel,
        uint,
        uint,
        uint,
        uint,
        fc.option(fc.tuple(uint, uint, uint, fc.option(fc.boolean(), { nil: undefined })), { nil: undefined }),
        (ch, nii, iw, noi, ow, link) => {
          const f: Record<string, unknown> = { next_incoming_id: nii, incoming_window: iw, next_outgoing_id: noi, outgoing_window: ow };
          if (link) Object.assign(f, { handle: link[0], delivery_count: link[1], link_credit: link[2] }, link[3] === undefined ? {} : { drain: link[3] });
          const p = frames.read_frame(encodeFlow(ch, f as never)!).performative!;
          expect(String(p.constructor)).toBe('flow#13');
          const expected = { ...f, ...(link ? { drain: link[3] === true } : {}) };
          expect(fieldsOf(p, Object.keys(expected))).toEqual(expected);
        },
      ),
    );
  });

  it('declines what it does not write, so rhea encodes it', () => {
    const base = { handle: 0, delivery_id: 0, delivery_tag: Buffer.from('t'), message_format: 0, settled: false, more: false };
    expect(encodeTransfer(0, { ...base, handle: -1 }, undefined)).toBeNull();
    expect(encodeTransfer(0, { ...base, delivery_tag: 'text' }, undefined)).toBeNull();
    expect(encodeTransfer(0, { ...base, settled: undefined }, undefined)).toBeNull();
    expect(encodeTransfer(0, { ...base, message_format: 2 ** 32 }, undefined)).toBeNull();
    expect(
      encodeDisposition(0, { role: true, first: 0, last: 1, settled: true, state: message['rejected']!({ error: { condition: 'c' } }).described() }),
    ).toBeNull();
    expect(
      encodeDisposition(0, { role: true, first: 0, last: 1, settled: true, state: message['modified']!({ delivery_failed: true }).described() }),
    ).toBeNull();
    expect(encodeFlow(0, { next_incoming_id: 0, incoming_window: 1, next_outgoing_id: 0, outgoing_window: 1, echo: true })).toBeNull();
    expect(
      encodeFlow(0, { next_incoming_id: 0, incoming_window: 1, next_outgoing_id: 0, outgoing_window: 1, handle: 0, delivery_count: 0, link_credit: 1.5 }),
    ).toBeNull();
  });
});
