import { describe, expect, it } from 'vitest';
import { encodeHost } from './host.js';
import { type RecordInput, encodedRecordSize, writeRecord } from './record.js';
import { checkRecord, decodeRecord } from './record-decode.js';

function input(properties: string, suffix?: Buffer): RecordInput {
  return {
    topic: Buffer.from('T'),
    queueId: 1,
    flag: 0,
    queueOffset: 7,
    physicalOffset: 4096,
    sysFlag: 0,
    bornTimestamp: 1,
    bornHost: encodeHost({ address: '10.0.0.1', port: 1 }),
    storeTimestamp: 2,
    storeHost: encodeHost({ address: '10.0.0.2', port: 2 }),
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body: Buffer.from('body'),
    properties,
    propertiesSuffix: suffix,
  };
}

function encode(i: RecordInput, crc: boolean): Buffer {
  const len = Buffer.byteLength(i.properties) + (i.propertiesSuffix?.length ?? 0);
  const size = encodedRecordSize(i, len, crc);
  const out = Buffer.alloc(size);
  writeRecord(i, len, crc, size, out, 0);
  return out;
}

describe('properties suffix', () => {
  it('writes exactly the record the concatenated property string writes', () => {
    const base = 'TAGS\u0001a\u0002INNER_MULTI_DISPATCH\u0001%LMQ%x,%LMQ%é\u0002';
    const tail = 'INNER_MULTI_QUEUE_OFFSET\u00013,12\u0002';
    for (const crc of [true, false]) {
      const joined = encode(input(base + tail), crc);
      const split = encode(input(base, Buffer.from(tail, 'utf8')), crc);
      expect(split.equals(joined)).toBe(true);
      expect(checkRecord(split, 0, split.length, { requireRecordCrc: crc })).toEqual({ kind: 'record', size: split.length });
      expect(decodeRecord(split).properties.get('INNER_MULTI_QUEUE_OFFSET')).toBe('3,12');
    }
    // An empty base string works too.
    expect(encode(input('', Buffer.from(tail)), true).equals(encode(input(tail), true))).toBe(true);
  });
});
