/**
 * Cross-check against an independent decoder: ali-ons 3.12.0 (pure JS RocketMQ client) decodes
 * records written by writeRecord. ali-ons only reads IPv4 hosts and one-byte topic lengths, so the
 * records here use IPv4 hosts and topics of at most 127 bytes.
 */
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compressBody, uncompressBody } from './compression.js';
import { encodeHost } from './host.js';
import { encodeProperties } from './properties.js';
import { encodedRecordSize, writeRecord, type RecordInput } from './record.js';
import { decodeRecord } from './record-decode.js';
import { SysFlag } from './sysflag.js';

interface AliMessage {
  storeSize: number;
  bodyCRC: number;
  queueId: number;
  flag: number;
  queueOffset: number;
  commitLogOffset: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: string;
  storeTimestamp: number;
  storeHost: string;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  body: Buffer | undefined;
  topic: string;
  properties: Record<string, string | null | undefined>;
  msgId: string;
  tags: string | null | undefined;
}

const require = createRequire(import.meta.url);
const aliDecoder = require('ali-ons/lib/message/message_decoder.js') as {
  decode(buf: unknown): AliMessage | null;
  decodes(buf: unknown): AliMessage[];
};
const ByteBuffer = require('byte') as { wrap(b: Buffer): unknown };

interface Msg {
  topic: string;
  queueId: number;
  flag: number;
  queueOffset: number;
  physicalOffset: number;
  sysFlag: number;
  compressed: boolean;
  bornTimestamp: number;
  bornHost: { address: string; port: number };
  storeTimestamp: number;
  storeHost: { address: string; port: number };
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  body: Buffer;
  properties: [string, string][];
  withCrc: boolean;
}

const text = (min: number, max: number) =>
  fc
    .string({
      unit: fc.oneof(fc.constantFrom('a', 'B', '_', ' ', '-'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })),
      minLength: min,
      maxLength: max,
    })
    .filter((s) => !/[\u0001\u0002]/.test(s));
const int64 = fc.oneof(fc.maxSafeInteger(), fc.constantFrom(0, -1, 2 ** 32, -(2 ** 32), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER));
const host = fc.record({ address: fc.ipV4(), port: fc.integer({ min: 0, max: 65535 }) });

const msg: fc.Arbitrary<Msg> = fc.record({
  topic: fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9_%|-]{1,127}$/),
    text(0, 30).filter((s) => Buffer.byteLength(s) <= 127),
    fc.constant('T'.repeat(127)),
  ),
  queueId: fc.integer(),
  flag: fc.integer(),
  queueOffset: int64,
  physicalOffset: int64,
  // any sysFlag bits except COMPRESSED (set separately, with a real zlib body) and the compression type
  sysFlag: fc.integer({ min: 0, max: 0xff }).map((f) => f & ~SysFlag.COMPRESSED),
  compressed: fc.boolean(),
  bornTimestamp: int64,
  bornHost: host,
  storeTimestamp: int64,
  storeHost: host,
  reconsumeTimes: fc.integer(),
  preparedTransactionOffset: int64,
  body: fc
    .oneof(
      fc.uint8Array({ maxLength: 500 }),
      fc.integer({ min: 0, max: 20_000 }).map((n) => new Uint8Array(n).map((_, i) => (i * 7) & 0xff)),
    )
    .map((a) => Buffer.from(a)),
  properties: fc
    .uniqueArray(fc.tuple(text(1, 12), text(1, 30)), { maxLength: 10, selector: ([k]) => k })
    .map((ps) => ps.filter(([k]) => k !== '__proto__' && k !== '__CRC32#')),
  withCrc: fc.boolean(),
});

function write(m: Msg): Buffer {
  let body = m.body;
  let sysFlag = m.sysFlag;
  if (m.compressed) {
    const c = compressBody(m.body);
    body = c.body;
    sysFlag |= c.sysFlagBits;
  }
  const properties = encodeProperties(new Map(m.properties));
  const input: RecordInput = {
    topic: Buffer.from(m.topic),
    queueId: m.queueId,
    flag: m.flag,
    queueOffset: m.queueOffset,
    physicalOffset: m.physicalOffset,
    sysFlag,
    bornTimestamp: m.bornTimestamp,
    bornHost: encodeHost(m.bornHost),
    storeTimestamp: m.storeTimestamp,
    storeHost: encodeHost(m.storeHost),
    reconsumeTimes: m.reconsumeTimes,
    preparedTransactionOffset: m.preparedTransactionOffset,
    body,
    properties,
  };
  const n = Buffer.byteLength(properties);
  const size = encodedRecordSize(input, n, m.withCrc);
  const out = Buffer.alloc(size);
  writeRecord(input, n, m.withCrc, size, out, 0);
  return out;
}

/** ali-ons' property object minus its artefacts: a default TAGS null and a '' key from the trailing separator. */
function aliProps(p: Record<string, string | null | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) {
    if (k === '' || v === null || v === undefined) continue;
    out[k] = v;
  }
  return out;
}

function compare(ali: AliMessage | null, m: Msg, record: Buffer): void {
  expect(ali).not.toBeNull();
  const a = ali!;
  const ours = decodeRecord(record);
  expect(a.storeSize).toBe(record.length);
  expect(a.storeSize).toBe(ours.storeSize);
  expect(a.bodyCRC).toBe(ours.bodyCrc);
  expect(a.queueId).toBe(m.queueId);
  expect(a.flag).toBe(m.flag);
  expect(a.queueOffset).toBe(m.queueOffset);
  expect(a.commitLogOffset).toBe(m.physicalOffset);
  expect(a.sysFlag).toBe(ours.sysFlag);
  expect(a.sysFlag & SysFlag.COMPRESSED).toBe(m.compressed ? 1 : 0);
  expect(a.bornTimestamp).toBe(m.bornTimestamp);
  expect(a.storeTimestamp).toBe(m.storeTimestamp);
  expect(a.bornHost).toBe(`${m.bornHost.address}:${m.bornHost.port}`);
  expect(a.storeHost).toBe(`${m.storeHost.address}:${m.storeHost.port}`);
  expect(a.reconsumeTimes).toBe(m.reconsumeTimes);
  expect(a.preparedTransactionOffset).toBe(m.preparedTransactionOffset);
  expect(a.topic).toBe(m.topic);
  expect(a.topic).toBe(ours.topic);
  expect(a.msgId).toBe(ours.msgId);
  // ali-ons inflates compressed bodies and leaves an empty body undefined
  if (m.body.length === 0) expect(a.body === undefined || a.body.length === 0).toBe(true);
  else expect(Buffer.compare(a.body!, m.body)).toBe(0);
  expect(uncompressBody(ours.body, ours.sysFlag).equals(m.body)).toBe(true);
  expect(aliProps(a.properties)).toEqual(Object.fromEntries(ours.properties));
  const expected = Object.fromEntries(m.properties);
  if (m.withCrc) expect(aliProps(a.properties)).toEqual({ ...expected, '__CRC32#': ours.properties.get('__CRC32#') });
  else expect(aliProps(a.properties)).toEqual(expected);
}

describe('ali-ons decodes what writeRecord writes', () => {
  it('every field agrees (single records)', () => {
    let compressed = 0;
    let crc = 0;
    fc.assert(
      fc.property(msg, (m) => {
        if (m.compressed) compressed++;
        if (m.withCrc) crc++;
        const record = write(m);
        compare(aliDecoder.decode(ByteBuffer.wrap(record)), m, record);
      }),
      { numRuns: 250, seed: 0xa11 },
    );
    expect(compressed).toBeGreaterThan(50);
    expect(crc).toBeGreaterThan(50);
  });

  it('a pull body of several records decodes to the same messages', () => {
    fc.assert(
      fc.property(fc.array(msg, { minLength: 1, maxLength: 6 }), (ms) => {
        const records = ms.map(write);
        const all = aliDecoder.decodes(ByteBuffer.wrap(Buffer.concat(records)));
        expect(all).toHaveLength(ms.length);
        all.forEach((a, i) => compare(a, ms[i]!, records[i]!));
      }),
      { numRuns: 40, seed: 0xa12 },
    );
  });

  it('a concrete message: TAGS, KEYS, msgId', () => {
    const m: Msg = {
      topic: 'TopicTest',
      queueId: 2,
      flag: 0,
      queueOffset: 41,
      physicalOffset: 123_456,
      sysFlag: 0,
      compressed: false,
      bornTimestamp: 1_700_000_000_000,
      bornHost: { address: '10.0.0.7', port: 53_211 },
      storeTimestamp: 1_700_000_000_003,
      storeHost: { address: '10.0.0.1', port: 10911 },
      reconsumeTimes: 3,
      preparedTransactionOffset: 0,
      body: Buffer.from('Hello RocketMQ'),
      properties: [
        ['TAGS', 'TagA'],
        ['KEYS', 'order-1 order-2'],
        ['UNIQ_KEY', 'C0A80102000100000001000A0000'],
        ['RETRY_TOPIC', 'TopicTest'],
      ],
      withCrc: false,
    };
    const record = write(m);
    const a = aliDecoder.decode(ByteBuffer.wrap(record))!;
    compare(a, m, record);
    expect(a.tags).toBe('TagA');
    expect(a.msgId).toBe('0A000001' + '00002A9F' + '000000000001E240');
    expect(a.body!.toString()).toBe('Hello RocketMQ');
  });
});
