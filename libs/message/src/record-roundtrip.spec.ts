/**
 * Property-based round trips of the stored record: writeRecord -> checkRecord / decodeRecord,
 * and single-byte damage detection of records written with the `__CRC32#` record checksum.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeHost, type HostAddress } from './host.js';
import { decodeProperties, encodeProperties } from './properties.js';
import { encodedRecordSize, writeRecord, type RecordInput } from './record.js';
import { checkRecord, decodeRecord, decodeRecords, readRecordProperties, type RecordCheck } from './record-decode.js';
import { SysFlag } from './sysflag.js';

// ---------------------------------------------------------------------------------------------
// Independent references
// ---------------------------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Plain table CRC-32 (IEEE), masked to 31 bits like RocketMQ's UtilAll.crc32. */
function refCrc(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ((c ^ 0xffffffff) >>> 0) & 0x7fffffff;
}

/** 16 address bytes of an IPv6 text address, via the WHATWG URL canonical form. */
function ipv6Bytes(address: string): Buffer {
  const canon = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const [head, tail] = canon.includes('::') ? canon.split('::') : [canon, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** What a host is expected to decode to: [ipv6?, address bytes]. IPv4-mapped IPv6 is stored as IPv4. */
function expectedHost(h: HostAddress): { v6: boolean; bytes: Buffer } {
  if (!h.address.includes(':')) return { v6: false, bytes: Buffer.from(h.address.split('.').map(Number)) };
  const b = ipv6Bytes(h.address);
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return { v6: false, bytes: b.subarray(12) };
  return { v6: true, bytes: b };
}

function decodedHostBytes(h: HostAddress): Buffer {
  return h.address.includes(':') ? ipv6Bytes(h.address) : Buffer.from(h.address.split('.').map(Number));
}

function int64Bytes(v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(v));
  return b;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

interface Msg {
  topic: string;
  queueId: number;
  flag: number;
  queueOffset: number;
  physicalOffset: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: HostAddress;
  storeTimestamp: number;
  storeHost: HostAddress;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  body: Buffer;
  properties: [string, string][];
  withCrc: boolean;
}

const int32 = fc.oneof(fc.integer(), fc.constantFrom(0, -1, 1, 0x7fffffff, -0x80000000));
const int64 = fc.oneof(
  fc.maxSafeInteger(),
  fc.integer({ min: -1000, max: 1000 }),
  fc.constantFrom(
    0,
    -1,
    2 ** 31,
    -(2 ** 31),
    2 ** 32,
    -(2 ** 32),
    2 ** 32 - 1,
    -(2 ** 32) - 1,
    Number.MAX_SAFE_INTEGER,
    Number.MIN_SAFE_INTEGER,
    1_700_000_000_000,
  ),
);
const port = fc.integer({ min: 0, max: 65535 });
const host = fc.oneof(
  fc.record({ address: fc.ipV4(), port }),
  fc.record({ address: fc.ipV6(), port }),
  fc.record({ address: fc.ipV4().map((a) => `::ffff:${a}`), port }),
);

/** Deterministic pseudo-random bytes (large bodies without generating every byte with fast-check). */
function bytes(len: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(len);
  let x = seed | 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const body = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 0, max: 65536 }), fc.integer()).map(([n, s]) => bytes(n, s)) },
  { weight: 1, arbitrary: fc.constantFrom(65536, 65535, 0).map((n) => bytes(n, 7)) },
);

/** Any Unicode text without U+0001 / U+0002 (the property separators). */
const text = (minLength: number, maxLength: number) =>
  fc
    .string({ unit: fc.oneof(fc.constantFrom('a', 'Z', '_', '%', ' '), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), minLength, maxLength })
    .filter((s) => !/[\u0001\u0002]/.test(s));

const topic = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_%|-]{0,127}$/),
  fc.integer({ min: 120, max: 600 }).map((n) => 'T'.repeat(n)),
  fc.constantFrom('T'.repeat(127), 'T'.repeat(128), 'é'.repeat(63) + 'x', 'é'.repeat(64)),
  text(0, 100),
);

const properties = fc
  .uniqueArray(fc.tuple(text(1, 20), text(1, 40)), {
    maxLength: 12,
    selector: ([k]) => k,
  })
  .map((ps) => ps.filter(([k]) => k !== '__CRC32#'));

const sysFlag = fc.oneof(
  fc.integer({ min: 0, max: 0x7ff }),
  fc.integer(),
  fc.constantFrom(
    0,
    SysFlag.COMPRESSED,
    SysFlag.COMPRESSED | 0x300,
    SysFlag.COMPRESSED | 0x100,
    SysFlag.TRANSACTION_PREPARED_TYPE,
    SysFlag.INNER_BATCH | SysFlag.NEED_UNWRAP,
  ),
);

const msg: fc.Arbitrary<Msg> = fc.record({
  topic,
  queueId: int32,
  flag: int32,
  queueOffset: int64,
  physicalOffset: int64,
  sysFlag,
  bornTimestamp: int64,
  bornHost: host,
  storeTimestamp: int64,
  storeHost: host,
  reconsumeTimes: int32,
  preparedTransactionOffset: int64,
  body,
  properties,
  withCrc: fc.boolean(),
});

function toInput(m: Msg): { input: RecordInput; propsBytes: number } {
  const props = encodeProperties(new Map(m.properties));
  return {
    input: {
      topic: Buffer.from(m.topic, 'utf8'),
      queueId: m.queueId,
      flag: m.flag,
      queueOffset: m.queueOffset,
      physicalOffset: m.physicalOffset,
      sysFlag: m.sysFlag,
      bornTimestamp: m.bornTimestamp,
      bornHost: encodeHost(m.bornHost),
      storeTimestamp: m.storeTimestamp,
      storeHost: encodeHost(m.storeHost),
      reconsumeTimes: m.reconsumeTimes,
      preparedTransactionOffset: m.preparedTransactionOffset,
      body: m.body,
      properties: props,
    },
    propsBytes: Buffer.byteLength(props, 'utf8'),
  };
}

/** Writes the record at `lead` bytes into a buffer with `trail` bytes after it. */
function write(m: Msg, lead = 0, trail = 0, filler = 0): { buf: Buffer; size: number } {
  const { input, propsBytes } = toInput(m);
  const size = encodedRecordSize(input, propsBytes, m.withCrc);
  const buf = Buffer.alloc(lead + size + trail, filler);
  writeRecord(input, propsBytes, m.withCrc, size, buf, lead);
  return { buf, size };
}

function expectedSize(m: Msg): number {
  const t = Buffer.byteLength(m.topic);
  const p = Buffer.byteLength(encodeProperties(new Map(m.properties)));
  const crcBytes = m.withCrc ? 20 : 0;
  const hostBytes = (h: HostAddress) => (expectedHost(h).v6 ? 20 : 8);
  // TOTALSIZE..BORNTIMESTAMP, born host, STORETIMESTAMP, store host, RECONSUMETIMES, PREPARED, body, topic, properties
  return (
    4 +
    4 +
    4 +
    4 +
    4 +
    8 +
    8 +
    4 +
    8 +
    hostBytes(m.bornHost) +
    8 +
    hostBytes(m.storeHost) +
    4 +
    8 +
    4 +
    m.body.length +
    (t > 127 ? 2 : 1) +
    t +
    2 +
    p +
    crcBytes
  );
}

function isVersion(m: Msg): 1 | 2 {
  return Buffer.byteLength(m.topic) > 127 ? 2 : 1;
}

// ---------------------------------------------------------------------------------------------

describe('record round trip (fast-check)', () => {
  it('writeRecord -> decodeRecord gives every field back; checkRecord says record with the right size', () => {
    let v1 = 0;
    let v2 = 0;
    let v6 = 0;
    let crc = 0;
    let big = 0;
    fc.assert(
      fc.property(msg, fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), (m, lead, trail) => {
        const { buf, size } = write(m, lead, trail, 0xa5);
        expect(size).toBe(expectedSize(m));
        expect(checkRecord(buf, lead, buf.length - lead)).toEqual({ kind: 'record', size });
        expect(checkRecord(buf, lead, size, { expectedPhysicalOffset: m.physicalOffset, requireRecordCrc: m.withCrc })).toEqual({ kind: 'record', size });
        if (m.withCrc) crc++;
        if (m.body.length > 30000) big++;

        const d = decodeRecord(buf, lead);
        const born = expectedHost(m.bornHost);
        const store = expectedHost(m.storeHost);
        if (born.v6 || store.v6) v6++;
        if (isVersion(m) === 1) v1++;
        else v2++;
        expect(d.storeSize).toBe(size);
        expect(d.version).toBe(isVersion(m));
        expect(d.bodyCrc).toBe(refCrc(m.body));
        expect(d.queueId).toBe(m.queueId);
        expect(d.flag).toBe(m.flag);
        expect(d.queueOffset).toBe(m.queueOffset);
        expect(d.commitLogOffset).toBe(m.physicalOffset);
        expect(d.sysFlag).toBe((m.sysFlag & ~0x30) | (born.v6 ? 0x10 : 0) | (store.v6 ? 0x20 : 0));
        expect(d.bornTimestamp).toBe(m.bornTimestamp);
        expect(d.storeTimestamp).toBe(m.storeTimestamp);
        expect(d.reconsumeTimes).toBe(m.reconsumeTimes);
        expect(d.preparedTransactionOffset).toBe(m.preparedTransactionOffset);
        expect(d.bornHost.port).toBe(m.bornHost.port);
        expect(d.storeHost.port).toBe(m.storeHost.port);
        expect(decodedHostBytes(d.bornHost).equals(born.bytes)).toBe(true);
        expect(decodedHostBytes(d.storeHost).equals(store.bytes)).toBe(true);
        expect(d.body.equals(m.body)).toBe(true);
        expect(d.topic).toBe(m.topic);
        const props = [...d.properties];
        if (m.withCrc) {
          const last = props.pop()!;
          expect(last[0]).toBe('__CRC32#');
          const crcValue = refCrc(buf.subarray(lead, lead + size - 20));
          expect(last[1]).toBe(String(crcValue).padStart(10, '0').split('').reverse().join(''));
        }
        expect(props).toEqual(m.properties);

        const portBytes = Buffer.alloc(4);
        portBytes.writeInt32BE(m.storeHost.port);
        expect(d.msgId).toBe(
          Buffer.concat([store.bytes, portBytes, int64Bytes(m.physicalOffset)])
            .toString('hex')
            .toUpperCase(),
        );

        const propString = readRecordProperties(buf, lead);
        expect(propString.startsWith(encodeProperties(new Map(m.properties)))).toBe(true);
      }),
      { numRuns: 300, seed: 0x5eed01 },
    );
    // every interesting shape was generated
    expect(v1).toBeGreaterThan(20);
    expect(v2).toBeGreaterThan(20);
    expect(v6).toBeGreaterThan(20);
    expect(crc).toBeGreaterThan(20);
    expect(big).toBeGreaterThan(5);
  });

  it('decodeRecords splits concatenated records', () => {
    fc.assert(
      fc.property(fc.array(msg, { minLength: 1, maxLength: 5 }), (ms) => {
        const parts = ms.map((m) => write(m).buf);
        const all = decodeRecords(Buffer.concat(parts));
        expect(all.map((d) => d.storeSize)).toEqual(parts.map((p) => p.length));
        expect(all.map((d) => d.topic)).toEqual(ms.map((m) => m.topic));
        let pos = 0;
        const joined = Buffer.concat(parts);
        for (const p of parts) {
          expect(checkRecord(joined, pos, joined.length - pos)).toEqual({ kind: 'record', size: p.length });
          pos += p.length;
        }
        expect(checkRecord(joined, pos, joined.length - pos)).toEqual({ kind: 'end' });
      }),
      { numRuns: 40, seed: 0x5eed02 },
    );
  });
});

describe('checkRecord accepts whatever writeRecord writes', () => {
  const S1 = '\u0001';
  const S2 = '\u0002';
  const digits = fc.stringMatching(/^[0-9]{10}$/);
  /** Property-string endings that resemble a record CRC property. */
  const lookAlike = fc.oneof(
    digits.map((d) => `__CRC32#${S1}${d}${S2}`),
    fc.tuple(digits, fc.nat({ max: 9 }), fc.integer({ min: 0, max: 0x7f })).map(([d, i, c]) => {
      const fixed = `__CRC32#${S1}`.split('');
      fixed[i] = String.fromCharCode(c);
      return `${fixed.join('')}${d}${S2}`;
    }),
    fc.tuple(digits, fc.integer({ min: 0, max: 0x7f })).map(([d, c]) => `__CRC32#${S1}${d}${String.fromCharCode(c)}`),
    fc.tuple(digits, fc.nat({ max: 9 })).map(([d, i]) => `__CRC32#${S1}${d}${S2}`.slice(0, 9 + i)),
    text(0, 12).map((t) => `__CRC32#${S1}${t}${S2}`),
  );
  const propString = fc.tuple(properties, fc.oneof(fc.constant(''), lookAlike), fc.boolean()).map(([ps, tail, sep]) => {
    const head = encodeProperties(new Map(ps));
    return head + (sep || head.length === 0 ? '' : S2) + tail;
  });

  it('also when the properties end like a (damaged) record CRC property', () => {
    fc.assert(
      fc.property(msg, propString, (m, props) => {
        const { input } = toInput(m);
        input.properties = props;
        const n = Buffer.byteLength(props);
        const size = encodedRecordSize(input, n, m.withCrc);
        const buf = Buffer.alloc(size);
        writeRecord(input, n, m.withCrc, size, buf, 0);
        expect(checkRecord(buf, 0, size)).toEqual({ kind: 'record', size });
        if (m.withCrc) expect(checkRecord(buf, 0, size, { requireRecordCrc: true })).toEqual({ kind: 'record', size });
        const decoded = decodeRecord(buf).properties;
        const expected = decodeProperties(props);
        if (m.withCrc) {
          expect(decoded.get('__CRC32#')).toBe(buf.subarray(size - 11, size - 1).toString('latin1'));
          decoded.delete('__CRC32#');
          expected.delete('__CRC32#');
        }
        expect(decoded).toEqual(expected);
      }),
      { numRuns: 300, seed: 0x5eed04 },
    );
  });
});

// ---------------------------------------------------------------------------------------------

/** A damaged record must never pass as the original record. */
function assertDetected(result: RecordCheck, index: number, original: Buffer, damaged: Buffer, pos: number): void {
  if (index >= 8) {
    expect(result.kind, `byte ${index} of ${original.length}`).toBe('corrupt');
    return;
  }
  // TOTALSIZE / MAGIC: anything but a valid record of the same content.
  if (result.kind === 'record') {
    expect(damaged.subarray(pos, pos + result.size).equals(original)).toBe(false);
  }
}

describe('single-byte damage of a record with the record CRC', () => {
  const crcMsg = msg.map((m) => ({ ...m, withCrc: true }));

  it('flipping any byte makes checkRecord report corrupt (random records, random bytes)', () => {
    fc.assert(
      fc.property(
        crcMsg,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 12 }),
        fc.boolean(),
        (m, flips, trailing) => {
          const trail = trailing ? 64 : 0;
          const { buf, size } = write(m, 0, trail);
          const original = Buffer.from(buf.subarray(0, size));
          for (const [at, mask] of flips) {
            // bias towards the header and the CRC property at the end
            const choices = [at % size, (at % 100) % size, size - 1 - (at % 24), 4 + (at % 4)];
            const index = choices[at % choices.length]!;
            const damaged = Buffer.from(buf);
            damaged[index]! ^= mask;
            assertDetected(checkRecord(damaged, 0, damaged.length), index, original, damaged, 0);
            assertDetected(checkRecord(damaged, 0, damaged.length, { requireRecordCrc: true }), index, original, damaged, 0);
          }
        },
      ),
      { numRuns: 200, seed: 0x5eed03 },
    );
  });

  it('flipping each byte of a few records, exhaustively', () => {
    const shapes: Msg[] = [
      // IPv4, v1, with properties
      {
        topic: 'TopicA',
        queueId: 1,
        flag: 0,
        queueOffset: 10,
        physicalOffset: 4096,
        sysFlag: 0,
        bornTimestamp: 1_700_000_000_000,
        bornHost: { address: '10.1.2.3', port: 50000 },
        storeTimestamp: 1_700_000_000_005,
        storeHost: { address: '10.0.0.9', port: 10911 },
        reconsumeTimes: 0,
        preparedTransactionOffset: 0,
        body: Buffer.from('hello world'),
        properties: [
          ['TAGS', 'a'],
          ['KEYS', 'k1 k2'],
          ['UNIQ_KEY', '7F0000010001'],
        ],
        withCrc: true,
      },
      // IPv6 hosts, v2 topic, no properties, empty body
      {
        topic: 'x'.repeat(130),
        queueId: -5,
        flag: -1,
        queueOffset: -1,
        physicalOffset: 2 ** 40,
        sysFlag: SysFlag.COMPRESSED | 0x300,
        bornTimestamp: -7,
        bornHost: { address: 'fe80::1', port: 1 },
        storeTimestamp: 0,
        storeHost: { address: '2001:db8::42', port: 65535 },
        reconsumeTimes: 16,
        preparedTransactionOffset: 2 ** 53 - 1,
        body: Buffer.alloc(0),
        properties: [],
        withCrc: true,
      },
      // mixed hosts, multi-byte topic and properties
      {
        topic: 'тема/主题',
        queueId: 0,
        flag: 0,
        queueOffset: 0,
        physicalOffset: 0,
        sysFlag: SysFlag.TRANSACTION_PREPARED_TYPE,
        bornTimestamp: 1,
        bornHost: { address: '::ffff:127.0.0.1', port: 80 },
        storeTimestamp: 2,
        storeHost: { address: '::1', port: 443 },
        reconsumeTimes: 1,
        preparedTransactionOffset: 3,
        body: bytes(500, 99),
        properties: [
          ['ключ', 'значение'],
          ['😀', '€'],
        ],
        withCrc: true,
      },
    ];
    let checked = 0;
    for (const m of shapes) {
      for (const trail of [0, 32]) {
        const { buf, size } = write(m, 16, trail, 0);
        const original = Buffer.from(buf.subarray(16, 16 + size));
        expect(checkRecord(buf, 16, buf.length - 16, { requireRecordCrc: true })).toEqual({ kind: 'record', size });
        for (let i = 0; i < size; i++) {
          for (const mask of [0x01, 0x80, 0xff, 0x0c, 0x5a]) {
            const damaged = Buffer.from(buf);
            damaged[16 + i]! ^= mask;
            assertDetected(checkRecord(damaged, 16, damaged.length - 16), i, original, damaged, 16);
            assertDetected(checkRecord(damaged, 16, damaged.length - 16, { requireRecordCrc: true }), i, original, damaged, 16);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(5000);
  });

  it('without the record CRC only the body is protected (BODYCRC)', () => {
    const m: Msg = {
      topic: 'T',
      queueId: 1,
      flag: 0,
      queueOffset: 0,
      physicalOffset: 0,
      sysFlag: 0,
      bornTimestamp: 0,
      bornHost: { address: '1.2.3.4', port: 1 },
      storeTimestamp: 0,
      storeHost: { address: '1.2.3.4', port: 2 },
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
      body: Buffer.from('payload'),
      properties: [],
      withCrc: false,
    };
    const { buf, size } = write(m);
    for (let i = 88; i < 88 + 7; i++) {
      const d = Buffer.from(buf);
      d[i]! ^= 1;
      expect(checkRecord(d, 0, size)).toEqual({ kind: 'corrupt', reason: 'body CRC mismatch' });
    }
    // a queue id flip is invisible without the record CRC: that is what the record CRC is for
    const d = Buffer.from(buf);
    d[15]! ^= 1;
    expect(checkRecord(d, 0, size)).toEqual({ kind: 'record', size });
  });
});
