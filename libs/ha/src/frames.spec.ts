import { describe, expect, it } from 'vitest';
import {
  ByteQueue,
  HaProtocolError,
  decodeAck,
  decodeAnswer,
  decodeDataHeader,
  decodeHandshake,
  encodeAck,
  encodeAnswer,
  encodeDataHeader,
  encodeHandshake,
} from './frames.js';

describe('HA frames', () => {
  it('round-trip, offsets past 2^32 included', () => {
    const h = { replicaId: 7, maxOffset: 2 ** 40 + 5, epochs: [{ epoch: 3, startOffset: 2 ** 33 }] };
    const enc = encodeHandshake(h);
    expect(decodeHandshake(enc)).toEqual({ handshake: h, bytes: enc.length });
    expect(decodeHandshake(enc.subarray(0, enc.length - 1))).toBeNull();
    expect(decodeAnswer(encodeAnswer({ truncateTo: 2 ** 35, masterEpoch: 9 }))).toEqual({ truncateTo: 2 ** 35, masterEpoch: 9 });
    const d = { offset: 2 ** 36, epoch: 1, confirmOffset: 2 ** 36 + 100, size: 100 };
    expect(decodeDataHeader(encodeDataHeader(d))).toEqual(d);
    expect(decodeAck(encodeAck({ maxOffset: 12, flushedOffset: 10 }))).toEqual({ maxOffset: 12, flushedOffset: 10 });
  });

  it('refuses a bad magic, another version, too many epochs and oversize data', () => {
    const enc = encodeHandshake({ replicaId: 1, maxOffset: 0, epochs: [] });
    const bad = Buffer.from(enc);
    bad[0] = 0;
    expect(() => decodeHandshake(bad)).toThrow(HaProtocolError);
    const v2 = Buffer.from(enc);
    v2.writeUInt16BE(2, 4);
    expect(() => decodeHandshake(v2)).toThrow(/version 2 is not supported/);
    const many = Buffer.from(enc);
    many.writeUInt32BE(1_000_000, 22);
    expect(() => decodeHandshake(many)).toThrow(/epoch entries/);
    const big = encodeDataHeader({ offset: 0, epoch: 0, confirmOffset: 0, size: 0 });
    big.writeUInt32BE(0xffffffff, 20);
    expect(() => decodeDataHeader(big)).toThrow(/data frame of/);
    const huge = encodeAck({ maxOffset: 0, flushedOffset: 0 });
    huge.writeUInt32BE(0xffffffff, 0);
    expect(() => decodeAck(huge)).toThrow(/past 2\^53/);
  });

  it('queues bytes across chunks', () => {
    const q = new ByteQueue();
    q.push(Buffer.from('ab'));
    expect(q.take(3)).toBeNull();
    q.push(Buffer.from('cde'));
    expect(q.take(3)!.toString()).toBe('abc');
    expect(q.available).toBe(2);
    expect(q.take(2)!.toString()).toBe('de');
  });
});
