import { encodeProperties, encodedRecordSize, writeRecord } from '@apogee/message';
import { describe, expect, it } from 'vitest';
import { DecodedRecords, decodedRecordBytes } from './decoded-records.js';

function record(payload: Buffer, topic = 'a'): Buffer {
  const properties = encodeProperties({ mqttTopic: `${topic}/b` });
  const input = {
    topic: Buffer.from(topic),
    queueId: 0,
    flag: 0,
    queueOffset: 0,
    physicalOffset: 0,
    sysFlag: 0,
    bornTimestamp: 1,
    bornHost: Buffer.alloc(8),
    storeTimestamp: 1,
    storeHost: Buffer.alloc(8),
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    body: payload,
    properties,
  };
  const propsLen = Buffer.byteLength(properties);
  const size = encodedRecordSize(input, propsLen, false);
  const out = Buffer.alloc(size);
  writeRecord(input, propsLen, false, size, out, 0);
  return out;
}

describe('DecodedRecords', () => {
  it('decodes a shared record once and serves the same decoded copy to every reader', () => {
    const cache = new DecodedRecords();
    const r = record(Buffer.from('hello'));
    const first = cache.get(100, r, true);
    expect(first.body.toString()).toBe('hello');
    expect(first.properties.get('mqttTopic')).toBe('a/b');
    r.fill(0); // the store's buffer may be reused: the cached payload is a copy
    const second = cache.get(100, r, true);
    expect(second).toBe(first);
    expect(second.body.toString()).toBe('hello');
  });

  it('does not keep records nobody else reads, nor large payloads', () => {
    const cache = new DecodedRecords();
    cache.get(1, record(Buffer.from('x')), false);
    cache.get(2, record(Buffer.alloc(300 * 1024, 1)), true);
    expect(cache.size).toBe(0);
  });

  it('stays within its entry bound, dropping the oldest first', () => {
    const cache = new DecodedRecords();
    for (let i = 0; i < 1500; i++) cache.get(i, record(Buffer.from(String(i))), true);
    expect(cache.size).toBe(1024);
    const r = record(Buffer.from('new'));
    expect(cache.get(0, r, true).body.toString()).toBe('new'); // evicted, decoded again
    expect(cache.get(1499, r, true).body.toString()).toBe('1499'); // still cached
  });

  it('stays within its byte share, counting properties and topic as well as payloads', () => {
    const payload = Buffer.alloc(10 * 1024, 7);
    const one = new DecodedRecords().get(0, record(payload), true);
    const each = decodedRecordBytes(one);
    expect(each).toBeGreaterThan(payload.length);
    const cache = new DecodedRecords(10 * each);
    for (let i = 0; i < 25; i++) cache.get(i, record(payload), true);
    expect(cache.size).toBe(10);
    expect(cache.bytes).toBe(10 * each);
    expect(cache.bytes).toBeLessThanOrEqual(10 * each);
    const r = record(Buffer.from('new'));
    expect(cache.get(14, r, true).body.toString()).toBe('new'); // dropped, decoded again
    expect(cache.get(24, r, true).body.length).toBe(payload.length); // still cached
  });

  it('does not cache a record larger than its whole share', () => {
    const cache = new DecodedRecords(1024);
    expect(cache.get(1, record(Buffer.alloc(2048, 1)), true).body.length).toBe(2048);
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
  });
});
