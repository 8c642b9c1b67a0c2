/**
 * Fixed byte vectors of the stored record, written out by hand from the fact sheet (§4.1):
 * big-endian fields, TOTALSIZE = 91 + body + topic + properties for IPv4 hosts and a v1 topic.
 */
import { describe, expect, it } from 'vitest';
import { CorruptRecordError, IllegalMessageError } from './errors.js';
import { encodeHost } from './host.js';
import { decodeProperties, encodeProperties } from './properties.js';
import {
  encodedRecordSize,
  hasDamagedRecordCrc,
  hasRecordCrc,
  readCrcDigits,
  RECORD_CRC_RESERVED_BYTES,
  storedPropertiesLength,
  verifyRecordCrc,
  writeRecord,
  type RecordInput,
} from './record.js';
import { checkRecord, decodeRecord, decodeRecordContent, decodeRecords, readRecordProperties } from './record-decode.js';
import { computeRecordSize, hostLength, MAX_PROPERTIES_BYTES, MessageMagic, RecordOffset, recordPositions, V1_MAX_TOPIC_BYTES } from './record-layout.js';
import { SysFlag } from './sysflag.js';

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

function encode(input: RecordInput, withCrc = false): Buffer {
  const n = Buffer.byteLength(input.properties, 'utf8');
  const size = encodedRecordSize(input, n, withCrc);
  const out = Buffer.alloc(size);
  writeRecord(input, n, withCrc, size, out, 0);
  return out;
}

/** The small record of the fixed vector: body "123456789", topic "T1", properties TAGS=TagA. */
function smallInput(overrides: Partial<RecordInput> = {}): RecordInput {
  return {
    topic: Buffer.from('T1'),
    queueId: 3,
    flag: 7,
    queueOffset: 5,
    physicalOffset: 256,
    sysFlag: 0,
    bornTimestamp: 0x01_0203_0405,
    bornHost: encodeHost({ address: '10.0.0.1', port: 1234 }),
    storeTimestamp: 0x0a_0b0c_0d0e,
    storeHost: encodeHost({ address: '192.168.0.10', port: 10911 }),
    reconsumeTimes: 2,
    preparedTransactionOffset: 0,
    body: Buffer.from('123456789'),
    properties: 'TAGS\u0001TagA\u0002',
    ...overrides,
  };
}

const SMALL_RECORD = hex(
  [
    '00000070', // TOTALSIZE 112 = 91 + 9 (body) + 2 (topic) + 10 (properties)
    'DAA320A7', // MAGIC v1
    '4BF43926', // BODYCRC = crc32("123456789") 0xCBF43926 & 0x7fffffff
    '00000003', // QUEUEID
    '00000007', // FLAG
    '0000000000000005', // QUEUEOFFSET
    '0000000000000100', // PHYSICALOFFSET
    '00000000', // SYSFLAG
    '0000000102030405', // BORNTIMESTAMP
    '0A000001',
    '000004D2', // BORNHOST 10.0.0.1:1234
    '0000000A0B0C0D0E', // STORETIMESTAMP
    'C0A8000A',
    '00002A9F', // STOREHOST 192.168.0.10:10911
    '00000002', // RECONSUMETIMES
    '0000000000000000', // PREPARED TRANSACTION OFFSET
    '00000009',
    '313233343536373839', // BODY length + "123456789"
    '02',
    '5431', // TOPIC length byte + "T1"
    '000A',
    '54414753',
    '01',
    '54616741',
    '02', // PROPERTIES length + TAGS U+0001 TagA U+0002
  ].join(''),
);

describe('record layout, fixed vectors', () => {
  it('the hand-written vector is 112 bytes', () => {
    expect(SMALL_RECORD.length).toBe(112);
    expect(SMALL_RECORD.readInt32BE(0)).toBe(112);
  });

  it('writes a small IPv4 v1 record byte for byte', () => {
    const input = smallInput();
    expect(encodedRecordSize(input, 10, false)).toBe(91 + 9 + 2 + 10);
    const out = Buffer.alloc(112);
    const bodyCrc = writeRecord(input, 10, false, 112, out, 0);
    expect(bodyCrc).toBe(0x4bf43926);
    expect(out.toString('hex')).toBe(SMALL_RECORD.toString('hex'));
  });

  it('writes at an offset inside a larger buffer without touching the neighbours', () => {
    const out = Buffer.alloc(200, 0xee);
    writeRecord(smallInput(), 10, false, 112, out, 40);
    expect(out.subarray(40, 152).equals(SMALL_RECORD)).toBe(true);
    expect(out.subarray(0, 40).every((b) => b === 0xee)).toBe(true);
    expect(out.subarray(152).every((b) => b === 0xee)).toBe(true);
    expect(checkRecord(out, 40, 160)).toEqual({ kind: 'record', size: 112 });
  });

  it('uses a given bodyCrc instead of computing one', () => {
    const out = encode(smallInput({ bodyCrc: 0x1234 }));
    expect(out.readInt32BE(8)).toBe(0x1234);
    expect(checkRecord(out, 0, out.length)).toEqual({ kind: 'corrupt', reason: 'body CRC mismatch' });
    expect(checkRecord(out, 0, out.length, { bodyCrc: false })).toEqual({ kind: 'record', size: 112 });
  });

  it('decodes the hand-written vector', () => {
    const m = decodeRecord(SMALL_RECORD);
    expect(m).toEqual({
      storeSize: 112,
      version: 1,
      bodyCrc: 0x4bf43926,
      queueId: 3,
      flag: 7,
      queueOffset: 5,
      commitLogOffset: 256,
      sysFlag: 0,
      bornTimestamp: 0x01_0203_0405,
      bornHost: { address: '10.0.0.1', port: 1234 },
      storeTimestamp: 0x0a_0b0c_0d0e,
      storeHost: { address: '192.168.0.10', port: 10911 },
      reconsumeTimes: 2,
      preparedTransactionOffset: 0,
      body: Buffer.from('123456789'),
      topic: 'T1',
      properties: new Map([['TAGS', 'TagA']]),
      msgId: 'C0A8000A00002A9F0000000000000100',
    });
    expect(checkRecord(SMALL_RECORD, 0, 112)).toEqual({ kind: 'record', size: 112 });
    expect(checkRecord(SMALL_RECORD, 0, 112, { expectedPhysicalOffset: 256 })).toEqual({ kind: 'record', size: 112 });
    expect(checkRecord(SMALL_RECORD, 0, 112, { expectedPhysicalOffset: 0 }).kind).toBe('corrupt');
    expect(checkRecord(SMALL_RECORD, 0, 112, { requireRecordCrc: true })).toEqual({ kind: 'corrupt', reason: 'record CRC property missing' });
    expect(readRecordProperties(SMALL_RECORD, 0)).toBe('TAGS\u0001TagA\u0002');
  });

  it('field offsets of the IPv4 layout match the fact sheet table', () => {
    expect(RecordOffset).toEqual({
      TOTAL_SIZE: 0,
      MAGIC: 4,
      BODY_CRC: 8,
      QUEUE_ID: 12,
      FLAG: 16,
      QUEUE_OFFSET: 20,
      PHYSICAL_OFFSET: 28,
      SYS_FLAG: 36,
      BORN_TIMESTAMP: 40,
      BORN_HOST: 48,
    });
    expect(recordPositions(0, 0)).toEqual({
      bornHost: 48,
      storeTimestamp: 56,
      storeHost: 64,
      reconsumeTimes: 72,
      preparedTransactionOffset: 76,
      bodyLength: 84,
    });
    expect(recordPositions(0x10, 100)).toEqual({
      bornHost: 148,
      storeTimestamp: 168,
      storeHost: 176,
      reconsumeTimes: 184,
      preparedTransactionOffset: 188,
      bodyLength: 196,
    });
    expect(recordPositions(0x30, 0)).toEqual({
      bornHost: 48,
      storeTimestamp: 68,
      storeHost: 76,
      reconsumeTimes: 96,
      preparedTransactionOffset: 100,
      bodyLength: 108,
    });
    expect(hostLength(false)).toBe(8);
    expect(hostLength(true)).toBe(20);
    expect(computeRecordSize(0, 0, 0, 8, 8)).toBe(91);
    expect(computeRecordSize(10, 127, 5, 8, 8)).toBe(91 + 10 + 127 + 5);
    expect(computeRecordSize(10, 128, 5, 8, 8)).toBe(92 + 10 + 128 + 5);
    expect(computeRecordSize(0, 0, 0, 20, 20)).toBe(91 + 24);
  });

  it('magic numbers', () => {
    expect(MessageMagic.V1 >>> 0).toBe(0xdaa320a7);
    expect(MessageMagic.V2 >>> 0).toBe(0xdaa320ab);
    expect(MessageMagic.BLANK >>> 0).toBe(0xcbd43194);
  });

  it('v2 form: topic over 127 bytes, magic 0xDAA320AB and a 2-byte topic length', () => {
    const topic = Buffer.alloc(128, 'a');
    const out = encode(smallInput({ topic }));
    expect(out.length).toBe(91 + 1 + 9 + 128 + 10);
    expect(out.readUInt32BE(4)).toBe(0xdaa320ab);
    // body length at 84, body at 88..97, topic length short at 97
    expect(out.readInt32BE(84)).toBe(9);
    expect(out.subarray(97, 99).toString('hex')).toBe('0080');
    expect(out.subarray(99, 227).equals(topic)).toBe(true);
    expect(out.subarray(227, 229).toString('hex')).toBe('000a');
    const m = decodeRecord(out);
    expect(m.version).toBe(2);
    expect(m.topic).toBe('a'.repeat(128));
    // 127 bytes is still v1 with a one-byte length
    const v1 = encode(smallInput({ topic: Buffer.alloc(V1_MAX_TOPIC_BYTES, 'b') }));
    expect(v1.readUInt32BE(4)).toBe(0xdaa320a7);
    expect(v1[97]).toBe(127);
    expect(decodeRecord(v1).version).toBe(1);
  });

  it('decodeRecordContent reads topic, sysFlag, body and properties exactly as decodeRecord, v1 and v2', () => {
    for (const topic of [Buffer.from('T'), Buffer.alloc(200, 'z')]) {
      const out = encode(smallInput({ topic }));
      const full = decodeRecord(out);
      const content = decodeRecordContent(out);
      expect(content).toEqual({ topic: full.topic, sysFlag: full.sysFlag, body: full.body, properties: full.properties });
    }
    expect(() => decodeRecordContent(Buffer.alloc(40))).toThrow(CorruptRecordError);
  });

  it('v2 topic length is measured in UTF-8 bytes, not characters', () => {
    const topic = Buffer.from('é'.repeat(64)); // 64 characters, 128 bytes
    const out = encode(smallInput({ topic }));
    expect(out.readUInt32BE(4)).toBe(0xdaa320ab);
    expect(decodeRecord(out).topic).toBe('é'.repeat(64));
  });

  it('IPv6 hosts: 20-byte hosts and sysFlag 0x10 / 0x20 set by the writer', () => {
    const input = smallInput({
      bornHost: encodeHost({ address: '::1', port: 1 }),
      storeHost: encodeHost({ address: '2001:db8::2', port: 10911 }),
      sysFlag: SysFlag.COMPRESSED,
    });
    const out = encode(input);
    expect(out.length).toBe(112 + 24);
    expect(out.readInt32BE(36)).toBe(0x31);
    // prettier-ignore
    expect(out.subarray(48, 68).toString('hex')).toBe('00000000000000000000000000000001' + '00000001');
    expect(out.subarray(68, 76).toString('hex')).toBe('0000000a0b0c0d0e');
    expect(out.subarray(76, 96).toString('hex')).toBe('20010db8000000000000000000000002' + '00002a9f');
    expect(out.readInt32BE(96)).toBe(2);
    expect(out.readInt32BE(108)).toBe(9);
    const m = decodeRecord(out);
    expect(m.bornHost).toEqual({ address: '0:0:0:0:0:0:0:1', port: 1 });
    expect(m.storeHost).toEqual({ address: '2001:db8:0:0:0:0:0:2', port: 10911 });
    expect(m.msgId).toBe('20010DB8000000000000000000000002' + '00002A9F' + '0000000000000100');
    expect(m.msgId).toHaveLength(56);

    // only the born host IPv6
    const b6 = encode(smallInput({ bornHost: encodeHost({ address: '::1', port: 1 }) }));
    expect(b6.readInt32BE(36)).toBe(0x10);
    expect(b6.length).toBe(112 + 12);
    expect(decodeRecord(b6).storeHost).toEqual({ address: '192.168.0.10', port: 10911 });
    // stale host bits in the input are replaced by what the host lengths say
    const stale = encode(smallInput({ sysFlag: 0x30 | SysFlag.MULTI_TAGS }));
    expect(stale.readInt32BE(36)).toBe(SysFlag.MULTI_TAGS);
    expect(stale.subarray(36, 40).equals(Buffer.from([0, 0, 0, 2]))).toBe(true);
  });

  it('the __CRC32# property: 10 digits of crc32(bytes before it), least significant first, then U+0002', () => {
    const out = encode(smallInput(), true);
    expect(out.length).toBe(132);
    expect(out.readInt32BE(0)).toBe(132);
    expect(out.readInt16BE(100)).toBe(30);
    // Computed independently (Python zlib) over bytes 0..111 of this exact record: 704372462.
    expect(out.subarray(112).toString('latin1')).toBe('__CRC32#\u0001' + '2642734070' + '\u0002');
    expect(out.subarray(0, 112).toString('hex')).toBe(
      SMALL_RECORD.toString('hex')
        .replace(/^00000070/, '00000084')
        .replace(/000a54414753015461674102$/, '001e54414753015461674102'),
    );
    expect(out.subarray(102).toString('latin1')).toBe('TAGS\u0001TagA\u0002__CRC32#\u00012642734070\u0002');
    expect(readCrcDigits(out, 121)).toBe(704372462);
    expect(hasRecordCrc(out, 0, 132)).toBe(true);
    expect(verifyRecordCrc(out, 0, 132)).toBe(true);
    expect(checkRecord(out, 0, 132)).toEqual({ kind: 'record', size: 132 });
    expect(checkRecord(out, 0, 132, { requireRecordCrc: true })).toEqual({ kind: 'record', size: 132 });
    const m = decodeRecord(out);
    expect([...m.properties]).toEqual([
      ['TAGS', 'TagA'],
      ['__CRC32#', '2642734070'],
    ]);
    expect(readRecordProperties(out, 0)).toBe('TAGS\u0001TagA\u0002__CRC32#\u00012642734070\u0002');
  });

  it('record CRC without properties, and after properties lacking the trailing separator', () => {
    const empty = encode(smallInput({ properties: '' }), true);
    expect(empty.length).toBe(91 + 9 + 2 + 20);
    expect(empty.readInt16BE(100)).toBe(20);
    expect(empty.subarray(102, 111).toString('latin1')).toBe('__CRC32#\u0001');
    expect(checkRecord(empty, 0, empty.length)).toEqual({ kind: 'record', size: empty.length });

    const noSep = encode(smallInput({ properties: 'a\u0001b' }), true);
    expect(storedPropertiesLength('a\u0001b', 3, true)).toBe(3 + 1 + 20);
    expect(noSep.length).toBe(91 + 9 + 2 + 24);
    expect(noSep.subarray(102, 106).toString('latin1')).toBe('a\u0001b\u0002');
    expect(checkRecord(noSep, 0, noSep.length)).toEqual({ kind: 'record', size: noSep.length });
    expect(decodeRecord(noSep).properties.get('a')).toBe('b');
    expect(RECORD_CRC_RESERVED_BYTES).toBe(20);
  });

  it('CRC digits are zero padded at the most significant end', () => {
    // Find a record whose CRC has fewer than 10 digits by varying the queue id.
    for (let q = 0; q < 1000; q++) {
      const out = encode(smallInput({ queueId: q }), true);
      const crc = readCrcDigits(out, out.length - 11);
      if (crc < 1e9) {
        const digits = out.subarray(out.length - 11, out.length - 1).toString('latin1');
        expect(digits).toBe(String(crc).padStart(10, '0').split('').reverse().join(''));
        expect(digits.endsWith('0')).toBe(true);
        expect(checkRecord(out, 0, out.length)).toEqual({ kind: 'record', size: out.length });
        return;
      }
    }
    throw new Error('no short CRC found');
  });

  it('readCrcDigits rejects non-digits', () => {
    expect(readCrcDigits(Buffer.from('0123456789'), 0)).toBe(9876543210);
    expect(readCrcDigits(Buffer.from('01234x6789'), 0)).toBe(-1);
    expect(readCrcDigits(Buffer.from('/123456789'), 0)).toBe(-1);
  });

  it('a damaged record CRC is reported', () => {
    const out = encode(smallInput(), true);
    const digit = out.length - 11;
    out[digit] = out[digit] === 0x30 ? 0x31 : 0x30;
    expect(checkRecord(out, 0, out.length)).toEqual({ kind: 'corrupt', reason: 'record CRC mismatch' });
    expect(checkRecord(out, 0, out.length, { recordCrc: false })).toEqual({ kind: 'record', size: 132 });
    // decodeRecord does not verify CRCs
    expect(decodeRecord(out).topic).toBe('T1');
  });

  it('blank filler and end of data', () => {
    const blank = Buffer.alloc(64);
    blank.writeInt32BE(64, 0);
    blank.writeInt32BE(MessageMagic.BLANK, 4);
    expect(checkRecord(blank, 0, 64)).toEqual({ kind: 'blank', size: 64 });
    expect(checkRecord(blank, 0, 63).kind).toBe('corrupt');
    blank.writeInt32BE(7, 0);
    expect(checkRecord(blank, 0, 64).kind).toBe('corrupt');
    expect(checkRecord(Buffer.alloc(100), 0, 100)).toEqual({ kind: 'end' });
    expect(checkRecord(Buffer.alloc(100), 0, 5)).toEqual({ kind: 'end' });
    expect(checkRecord(Buffer.alloc(100), 100, 0)).toEqual({ kind: 'end' });
    expect(checkRecord(Buffer.from([0, 0, 1]), 0, 3)).toEqual({ kind: 'corrupt', reason: 'truncated header' });
    expect(() => decodeRecord(Buffer.alloc(100))).toThrow(CorruptRecordError);
    expect(() => decodeRecord(blank)).toThrow(CorruptRecordError);
  });

  it('decodeRecords reads consecutive records', () => {
    const a = encode(smallInput());
    const b = encode(smallInput({ topic: Buffer.alloc(200, 'x'), physicalOffset: 112 }), true);
    const c = encode(smallInput({ bornHost: encodeHost({ address: 'fe80::1', port: 9 }), physicalOffset: 112 + b.length }));
    const all = decodeRecords(Buffer.concat([a, b, c]));
    expect(all.map((m) => [m.commitLogOffset, m.storeSize, m.version])).toEqual([
      [256, a.length, 1],
      [112, b.length, 2],
      [112 + b.length, c.length, 1],
    ]);
    expect(decodeRecords(Buffer.alloc(0))).toEqual([]);
    expect(() => decodeRecords(Buffer.concat([a, a.subarray(0, 50)]))).toThrow(CorruptRecordError);
    expect(readRecordProperties(Buffer.concat([a, b]), a.length)).toBe(
      'TAGS\u0001TagA\u0002__CRC32#\u0001' + b.subarray(b.length - 11, b.length - 1).toString('latin1') + '\u0002',
    );
  });

  it('refuses properties or topics that do not fit', () => {
    const big = 'k\u0001' + 'v'.repeat(MAX_PROPERTIES_BYTES - 3) + '\u0002';
    expect(Buffer.byteLength(big)).toBe(MAX_PROPERTIES_BYTES);
    expect(encodedRecordSize(smallInput({ properties: big }), MAX_PROPERTIES_BYTES, false)).toBe(91 + 9 + 2 + MAX_PROPERTIES_BYTES);
    expect(() => encodedRecordSize(smallInput({ properties: big }), MAX_PROPERTIES_BYTES, true)).toThrow(IllegalMessageError);
    expect(() => encodedRecordSize(smallInput({ properties: big + 'x' }), MAX_PROPERTIES_BYTES + 1, false)).toThrow(/properties take 32768 bytes/);
    expect(() => encodedRecordSize(smallInput({ topic: Buffer.alloc(32768) }), 10, false)).toThrow(IllegalMessageError);
    // the largest record the format allows still round-trips
    const out = encode(smallInput({ properties: big, topic: Buffer.alloc(32767, 't') }));
    const m = decodeRecord(out);
    expect(m.topic).toHaveLength(32767);
    expect(m.properties.get('k')).toHaveLength(MAX_PROPERTIES_BYTES - 3);
  });

  it('refuses hosts that are neither 8 nor 20 bytes (not encoded with encodeHost)', () => {
    expect(() => encodedRecordSize(smallInput({ bornHost: Buffer.alloc(16) }), 10, false)).toThrow(/born host takes 16 bytes/);
    expect(() => encodedRecordSize(smallInput({ storeHost: Buffer.alloc(4) }), 10, false)).toThrow(IllegalMessageError);
  });

  it('writeRecord refuses a size that does not match the encoding', () => {
    const out = Buffer.alloc(200);
    expect(() => writeRecord(smallInput(), 10, false, 111, out, 0)).toThrow(IllegalMessageError);
  });

  it('properties encoded with encodeProperties land verbatim in the record', () => {
    const props = encodeProperties(
      new Map([
        ['KEYS', 'k1 k2'],
        ['UNIQ_KEY', 'ABC'],
        ['ü', '€'],
      ]),
    );
    const out = encode(smallInput({ properties: props }));
    expect(readRecordProperties(out, 0)).toBe(props);
    expect([...decodeRecord(out).properties]).toEqual([
      ['KEYS', 'k1 k2'],
      ['UNIQ_KEY', 'ABC'],
      ['ü', '€'],
    ]);
  });

  it('a v1 record claiming a topic longer than 127 bytes is corrupt (Java reads the length as a signed byte)', () => {
    const topic = Buffer.alloc(200, 'a');
    const v2 = encode(smallInput({ topic }));
    // rewrite as v1: one length byte of 200
    const v1 = Buffer.concat([v2.subarray(0, 97), Buffer.from([200]), v2.subarray(99)]);
    v1.writeInt32BE(v1.length, 0);
    v1.writeInt32BE(MessageMagic.V1, 4);
    expect(checkRecord(v1, 0, v1.length)).toEqual({ kind: 'corrupt', reason: 'v1 topic length 200 over 127' });
    expect(() => decodeRecord(v1)).toThrow(CorruptRecordError);
  });

  describe('properties that look like a record CRC property, written without the record CRC', () => {
    const S1 = '\u0001';
    const S2 = '\u0002';
    const cases: Array<[string, string]> = [
      ['a stale __CRC32# copied from another record', `TAGS${S1}a${S2}__CRC32#${S1}1234567890${S2}`],
      ['only a stale __CRC32#', `__CRC32#${S1}0000000000${S2}`],
      ['__CRC32# with a non-digit value', `k${S1}v${S2}__CRC32#${S1}ééééé${S2}`],
      ['a look-alike key one byte off', `k${S1}v${S2}__CRC32X${S1}1234567890${S2}`],
      ['the marker without the final separator', `k${S1}v${S2}__CRC32#${S1}12345678901`],
      ['a look-alike separator', `__CRC32#=1234567890${S2}`],
    ];
    it.each(cases)('%s: one U+0002 is appended, and the record checks and decodes as the properties say', (_name, props) => {
      const n = Buffer.byteLength(props);
      expect(storedPropertiesLength(props, n, false)).toBe(n + 1);
      const out = encode(smallInput({ properties: props }));
      expect(out.length).toBe(91 + 9 + 2 + n + 1);
      expect(checkRecord(out, 0, out.length)).toEqual({ kind: 'record', size: out.length });
      expect(readRecordProperties(out, 0)).toBe(props + S2);
      expect(decodeRecord(out).properties).toEqual(decodeProperties(props));
      // with the record CRC, ours comes last and wins
      const withCrc = encode(smallInput({ properties: props }), true);
      expect(checkRecord(withCrc, 0, withCrc.length, { requireRecordCrc: true })).toEqual({ kind: 'record', size: withCrc.length });
      expect(decodeRecord(withCrc).properties.get('__CRC32#')).toBe(withCrc.subarray(withCrc.length - 11, withCrc.length - 1).toString('latin1'));
    });

    it('ordinary properties are stored unchanged', () => {
      for (const props of [
        '',
        `TAGS${S1}a${S2}`,
        `k${S1}1234567890${S2}`,
        `x${S1}y${S2}__CRC32#${S1}1${S2}`,
        `__CRC32#${S1}123456789${S2}`,
        `__CRC32#${S1}12345678${S2}${S2}`,
        `ab__CRC32#${S1}1234567890${S2}`.slice(0, -1) + 'é',
        'é'.repeat(30),
      ]) {
        const n = Buffer.byteLength(props);
        expect(storedPropertiesLength(props, n, false), JSON.stringify(props)).toBe(n);
      }
    });
  });

  it('hasDamagedRecordCrc: one wrong fixed byte, intact digits and boundary', () => {
    const ok = Buffer.from('k\u0001v\u0002__CRC32#\u00011234567890\u0002', 'latin1');
    expect(hasDamagedRecordCrc(ok, 0, ok.length)).toBe(false); // intact is not damaged
    for (let i = 4; i < ok.length; i++) {
      const d = Buffer.from(ok);
      d[i]! ^= 0x40;
      const inDigits = i >= 4 + 9 && i < 4 + 19;
      expect(hasDamagedRecordCrc(d, 0, d.length), `byte ${i}`).toBe(!inDigits);
    }
    const two = Buffer.from(ok);
    two[4] = 0x41;
    two[5] = 0x41;
    expect(hasDamagedRecordCrc(two, 0, two.length)).toBe(false);
    const noBoundary = Buffer.from(ok);
    noBoundary[3] = 0x41;
    noBoundary[6] = 0x41;
    expect(hasDamagedRecordCrc(noBoundary, 0, noBoundary.length)).toBe(false);
    // exactly 20 bytes of properties: no boundary needed
    expect(hasDamagedRecordCrc(Buffer.from('__CRC32X\u00011234567890\u0002', 'latin1'), 0, 20)).toBe(true);
    expect(hasDamagedRecordCrc(Buffer.from('CRC32X\u00011234567890\u0002', 'latin1'), 0, 17)).toBe(false);
  });
});
