/**
 * Hostile input: random bytes, half-valid headers and truncated records. checkRecord never throws;
 * decodeRecord / decodeRecords / decodeBatchBody throw nothing but CorruptRecordError; nothing reads
 * past the buffer (the buffers are exact-size copies, so an out-of-bounds read would raise
 * RangeError, which these tests reject).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBatchBody, encodeBatchBody } from './batch.js';
import { CorruptRecordError } from './errors.js';
import { encodeHost } from './host.js';
import { encodedRecordSize, writeRecord, type RecordInput } from './record.js';
import { checkRecord, decodeRecord, decodeRecords } from './record-decode.js';
import { MessageMagic } from './record-layout.js';

function onlyCorrupt(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof CorruptRecordError)) throw new Error(`expected CorruptRecordError, got ${String(e)}`, { cause: e });
    expect(e.code).toBe('APG_MSG_CORRUPT_RECORD');
  }
}

const KINDS = ['record', 'blank', 'end', 'corrupt'];

function checkNeverThrows(buf: Buffer, pos: number, available: number): void {
  const r = checkRecord(buf, pos, available);
  expect(KINDS).toContain(r.kind);
  if (r.kind === 'record' || r.kind === 'blank') {
    expect(r.size).toBeGreaterThanOrEqual(8);
    expect(pos + r.size).toBeLessThanOrEqual(buf.length);
  }
  for (const opts of [{ requireRecordCrc: true }, { bodyCrc: false, recordCrc: false }, { expectedPhysicalOffset: 0 }]) {
    expect(KINDS).toContain(checkRecord(buf, pos, available, opts).kind);
  }
}

function record(over: Partial<RecordInput>, withCrc: boolean): Buffer {
  const input: RecordInput = {
    topic: Buffer.from('TopicX'),
    queueId: 0,
    flag: 0,
    queueOffset: 1,
    physicalOffset: 2,
    sysFlag: 0,
    bornTimestamp: 3,
    bornHost: encodeHost({ address: '1.2.3.4', port: 5 }),
    storeTimestamp: 6,
    storeHost: encodeHost({ address: '7.8.9.10', port: 11 }),
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body: Buffer.from('some body bytes'),
    properties: 'TAGS\u0001t\u0002KEYS\u0001k\u0002',
    ...over,
  };
  const n = Buffer.byteLength(input.properties);
  const size = encodedRecordSize(input, n, withCrc);
  const out = Buffer.alloc(size);
  writeRecord(input, n, withCrc, size, out, 0);
  return out;
}

const SAMPLES = [
  record({}, false),
  record({}, true),
  record({ topic: Buffer.alloc(300, 'q'), bornHost: encodeHost({ address: '::1', port: 1 }) }, true),
  record({ storeHost: encodeHost({ address: 'fe80::2', port: 2 }), properties: '', body: Buffer.alloc(0) }, false),
];

/** Random bytes with a plausible header: TOTALSIZE = length, a real magic, optional host bits. */
const halfValid = fc
  .tuple(
    fc.uint8Array({ minLength: 0, maxLength: 400 }),
    fc.constantFrom(MessageMagic.V1, MessageMagic.V2, MessageMagic.BLANK),
    fc.constantFrom(0, 0x10, 0x20, 0x30, -1, 0x7fffffff),
    fc.boolean(),
  )
  .map(([raw, magic, sysFlag, fixSize]) => {
    const buf = Buffer.from(raw);
    if (buf.length >= 8) {
      if (fixSize) buf.writeInt32BE(buf.length, 0);
      buf.writeInt32BE(magic, 4);
    }
    if (buf.length >= 40) buf.writeInt32BE(sysFlag, 36);
    return buf;
  });

/** A valid record with a few random bytes overwritten. */
const mutated = fc
  .tuple(fc.constantFrom(...SAMPLES), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat())
  .map(([r, edits, cut]) => {
    const buf = Buffer.from(r);
    for (const [at, v] of edits) buf[at % buf.length] = v;
    return cut % 3 === 0 ? buf.subarray(0, cut % (buf.length + 1)) : buf;
  })
  .map((b) => Buffer.from(b));

describe('checkRecord / decodeRecord on bad input', () => {
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 310 }), (raw, pos) => {
        const buf = Buffer.from(raw);
        checkNeverThrows(buf, 0, buf.length);
        checkNeverThrows(buf, Math.min(pos, buf.length), buf.length - Math.min(pos, buf.length));
        onlyCorrupt(() => decodeRecord(buf));
        onlyCorrupt(() => decodeRecords(buf));
      }),
      { numRuns: 500, seed: 0xbad01 },
    );
  });

  it('random bytes behind a plausible header', () => {
    fc.assert(
      fc.property(halfValid, (buf) => {
        checkNeverThrows(buf, 0, buf.length);
        onlyCorrupt(() => decodeRecord(buf));
        onlyCorrupt(() => decodeRecords(buf));
      }),
      { numRuns: 500, seed: 0xbad02 },
    );
  });

  it('valid records with random bytes overwritten and cut', () => {
    fc.assert(
      fc.property(mutated, (buf) => {
        checkNeverThrows(buf, 0, buf.length);
        onlyCorrupt(() => decodeRecord(buf));
        onlyCorrupt(() => decodeRecords(buf));
      }),
      { numRuns: 500, seed: 0xbad03 },
    );
  });

  it('every truncation of a valid record is refused', () => {
    for (const r of SAMPLES) {
      for (let len = 0; len < r.length; len++) {
        const cut = Buffer.from(r.subarray(0, len));
        // A prefix of zeros is indistinguishable from never-written space: 'end'.
        const expected = cut.every((b) => b === 0) ? 'end' : 'corrupt';
        expect(checkRecord(cut, 0, len).kind, `cut at ${len}`).toBe(expected);
        // the same with the full buffer but fewer bytes said to be available
        expect(checkRecord(r, 0, len).kind).toBe(expected);
        expect(() => decodeRecord(cut)).toThrow(CorruptRecordError);
      }
      expect(checkRecord(r, 0, r.length).kind).toBe('record');
    }
  });

  it('an `available` larger than the buffer is not trusted', () => {
    for (const r of SAMPLES) {
      const cut = Buffer.from(r.subarray(0, r.length - 1));
      expect(checkRecord(cut, 0, r.length)).toMatchObject({ kind: 'corrupt' });
      expect(checkRecord(cut, 0, 1_000_000)).toMatchObject({ kind: 'corrupt' });
      expect(checkRecord(Buffer.from([0, 0, 1]), 0, 100)).toEqual({ kind: 'corrupt', reason: 'truncated header' });
      expect(checkRecord(Buffer.alloc(3), 0, 100)).toEqual({ kind: 'end' });
      expect(checkRecord(r, r.length + 10, 50)).toEqual({ kind: 'end' });
    }
  });

  it('specific malformed fields', () => {
    const base = SAMPLES[0]!;
    const at = (mut: (b: Buffer) => void) => {
      const b = Buffer.from(base);
      mut(b);
      return checkRecord(b, 0, b.length);
    };
    expect(at((b) => b.writeInt32BE(0x12345678, 4))).toEqual({ kind: 'corrupt', reason: 'bad magic 0x12345678' });
    expect(at((b) => b.writeInt32BE(-1, 0)).kind).toBe('corrupt');
    expect(at((b) => b.writeInt32BE(55, 0)).kind).toBe('corrupt');
    expect(at((b) => b.writeInt32BE(-1, 84))).toMatchObject({ kind: 'corrupt', reason: 'body length -1 overruns record' });
    expect(at((b) => b.writeInt32BE(0x7fffffff, 84)).kind).toBe('corrupt');
    expect(at((b) => b.writeInt32BE(0x30, 36)).kind).toBe('corrupt');
    expect(at((b) => b.writeInt32BE(MessageMagic.V2, 4)).kind).toBe('corrupt');
    // properties length that does not end the record
    expect(at((b) => b.writeInt16BE(b.readInt16BE(b.length - 14 - 2) + 1, b.length - 14 - 2))).toEqual({
      kind: 'corrupt',
      reason: 'properties do not end the record',
    });
  });
});

describe('decodeBatchBody on bad input', () => {
  const good = encodeBatchBody([
    { flag: 1, body: Buffer.from('abc'), properties: 'a\u0001b\u0002' },
    { flag: 2, body: Buffer.alloc(0), properties: '' },
  ]);

  it('random bytes and mutated batches throw only CorruptRecordError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
          fc.tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat()).map(([edits, cut]) => {
            const b = Buffer.from(good);
            for (const [i, v] of edits) b[i % b.length] = v;
            return Buffer.from(b.subarray(0, cut % (b.length + 1)));
          }),
        ),
        (buf) => {
          onlyCorrupt(() => {
            const items = decodeBatchBody(buf);
            for (const it of items) expect(it.body.length).toBeLessThanOrEqual(buf.length);
          });
        },
      ),
      { numRuns: 500, seed: 0xbad04 },
    );
  });

  it('every truncation of a batch is refused', () => {
    const first = good.readInt32BE(0);
    expect(first).toBe(22 + 3 + 4);
    for (let len = 1; len < good.length; len++) {
      if (len === first) continue; // the first entry alone is a valid batch
      expect(() => decodeBatchBody(Buffer.from(good.subarray(0, len))), `cut at ${len}`).toThrow(CorruptRecordError);
    }
    expect(decodeBatchBody(Buffer.from(good.subarray(0, first)))).toHaveLength(1);
    expect(decodeBatchBody(Buffer.alloc(0))).toEqual([]);
  });
});
