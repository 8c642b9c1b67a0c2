import { type RecordInput, decodeRecord, encodeHost, encodeProperties, encodedRecordSize, readRecordProperties, writeRecord } from '@apogee/message';
import { describe, expect, it } from 'vitest';
import { RecordFieldReader } from './record-fields.js';

const v4 = encodeHost({ address: '10.1.2.3', port: 1234 });
const v6 = encodeHost({ address: '2001:db8::7', port: 9876 });

function record(topic: string, bornHost: Buffer, storeHost: Buffer, properties: string, body: Buffer, withCrc: boolean): Buffer {
  const input: RecordInput = {
    topic: Buffer.from(topic, 'utf8'),
    queueId: 5,
    flag: 0,
    queueOffset: 2 ** 40 + 17,
    physicalOffset: 0,
    sysFlag: 0,
    bornTimestamp: 1_700_000_000_000,
    bornHost,
    storeTimestamp: 1_700_000_123_456,
    storeHost,
    reconsumeTimes: 3,
    preparedTransactionOffset: 99,
    body,
    properties,
  };
  const propsLen = Buffer.byteLength(properties, 'utf8');
  const size = encodedRecordSize(input, propsLen, withCrc);
  // Behind a prefix, as in a commit-log read buffer.
  const buf = Buffer.alloc(size + 13, 0xee);
  writeRecord(input, propsLen, withCrc, size, buf, 13);
  return buf;
}

describe('RecordFieldReader', () => {
  const props = encodeProperties({ TAGS: 'tä', KEYS: 'a b', INNER_MULTI_DISPATCH: '%LMQ%x' });
  const cases = [
    { name: 'v1 magic, IPv4 hosts', topic: 'T', born: v4, store: v4 },
    { name: 'IPv6 born host', topic: 'T', born: v6, store: v4 },
    { name: 'IPv6 store host', topic: 'T', born: v4, store: v6 },
    { name: 'v2 magic (topic over 127 bytes), IPv6 hosts', topic: `%LMQ%${'é'.repeat(100)}`, born: v6, store: v6 },
  ];
  for (const c of cases) {
    for (const withCrc of [false, true]) {
      it(`reads what the codec decodes: ${c.name}${withCrc ? ', record CRC' : ''}`, () => {
        const buf = record(c.topic, c.born, c.store, props, Buffer.from('body bytes'), withCrc);
        const want = decodeRecord(buf, 13);
        const r = new RecordFieldReader().read(buf, 13);
        expect(r.sysFlag).toBe(want.sysFlag);
        expect(r.queueId).toBe(5);
        expect(r.queueOffset).toBe(want.queueOffset);
        expect(r.storeTimestamp).toBe(want.storeTimestamp);
        expect(r.topic()).toBe(c.topic);
        expect(r.properties()).toBe(readRecordProperties(buf, 13));
      });
    }
  }

  it('is reused record after record, and refuses properties that do not end the record', () => {
    const a = record('A', v4, v4, props, Buffer.from('x'), true);
    const b = record('BB', v6, v4, encodeProperties({ KEYS: 'k' }), Buffer.alloc(300, 1), false);
    const r = new RecordFieldReader();
    expect(r.read(a, 13).topic()).toBe('A');
    expect(r.read(b, 13).topic()).toBe('BB');
    expect(r.properties()).toBe(readRecordProperties(b, 13));
    b.writeInt32BE(b.readInt32BE(13) + 4, 13); // a size past the properties
    expect(() => r.read(b, 13).properties()).toThrow(/properties do not end the record/);
  });
});
