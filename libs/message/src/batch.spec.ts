import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_BATCH_MESSAGES, decodeBatchBody, encodeBatchBody, type BatchItem } from './batch.js';
import { encodeProperties } from './properties.js';

describe('batch body (SEND_BATCH_MESSAGE)', () => {
  it('layout: TOTALSIZE, MAGIC 0, BODYCRC 0, FLAG, body length + body, short properties length + properties', () => {
    const buf = encodeBatchBody([
      { flag: 5, body: Buffer.from('ab'), properties: 'k\u0001v\u0002' },
      { flag: -1, body: Buffer.alloc(0), properties: '' },
    ]);
    expect(buf.toString('hex')).toBe(
      [
        '0000001c',
        '00000000',
        '00000000',
        '00000005',
        '00000002',
        '6162',
        '0004',
        '6b01760' + '2', // 28 = 22 + 2 + 4
        '00000016',
        '00000000',
        '00000000',
        'ffffffff',
        '00000000',
        '0000', // 22
      ].join(''),
    );
    expect(decodeBatchBody(buf)).toEqual([
      { flag: 5, body: Buffer.from('ab'), properties: 'k\u0001v\u0002' },
      { flag: -1, body: Buffer.alloc(0), properties: '' },
    ]);
    expect(encodeBatchBody([])).toEqual(Buffer.alloc(0));
    expect(decodeBatchBody(Buffer.alloc(0))).toEqual([]);
  });

  it('decodeBatchBody ignores MAGIC and BODYCRC (Java clients leave them 0, others may not)', () => {
    const buf = encodeBatchBody([{ flag: 1, body: Buffer.from('x'), properties: '' }]);
    buf.writeInt32BE(-626843481, 4);
    buf.writeInt32BE(12345, 8);
    expect(decodeBatchBody(buf)).toEqual([{ flag: 1, body: Buffer.from('x'), properties: '' }]);
  });

  it('decodeBatchBody(encodeBatchBody(x)) round-trips', () => {
    const text = fc.string({ unit: 'binary', maxLength: 20 }).filter((s) => !/[\u0001\u0002]/.test(s));
    const item: fc.Arbitrary<BatchItem> = fc.record({
      flag: fc.integer(),
      body: fc
        .oneof(
          { weight: 4, arbitrary: fc.uint8Array({ maxLength: 200 }) },
          { weight: 1, arbitrary: fc.integer({ min: 0, max: 70_000 }).map((n) => new Uint8Array(n).fill(n & 0xff)) },
        )
        .map((a) => Buffer.from(a)),
      properties: fc.oneof(
        fc
          .dictionary(
            text.filter((s) => s.length > 0),
            text,
          )
          .map((d) => encodeProperties(d)),
        fc.string({ unit: 'binary', maxLength: 50 }),
      ),
    });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 8 }), (items) => {
        const back = decodeBatchBody(encodeBatchBody(items));
        expect(back.map((b) => [b.flag, b.properties, b.body.length])).toEqual(items.map((b) => [b.flag, b.properties, b.body.length]));
        back.forEach((b, i) => expect(b.body.equals(items[i]!.body)).toBe(true));
      }),
      { numRuns: 150, seed: 11 },
    );
  });
});

describe('batch body limits', () => {
  it('a body of more than maxCount entries is refused before the entries past it are decoded', () => {
    const entry = encodeBatchBody([{ flag: 0, body: Buffer.alloc(0), properties: '' }]);
    const body = Buffer.concat(Array.from({ length: 11 }, () => entry));
    expect(() => decodeBatchBody(body, 10)).toThrow(/more than 10 messages/);
    expect(decodeBatchBody(body, 11)).toHaveLength(11);
  });

  it('the default is MAX_BATCH_MESSAGES: 190,000 empty entries in 4 MiB are refused', () => {
    const entry = encodeBatchBody([{ flag: 0, body: Buffer.alloc(0), properties: '' }]);
    const body = Buffer.concat(Array.from({ length: MAX_BATCH_MESSAGES + 1 }, () => entry));
    expect(() => decodeBatchBody(body)).toThrow(new RegExp(`more than ${MAX_BATCH_MESSAGES} messages`));
  });
});
