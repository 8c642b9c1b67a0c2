import { describe, expect, it } from 'vitest';
import {
  ByteQueue,
  DATA_HEADER_BYTES,
  FRAME_DATA,
  FRAME_META_CHANGES,
  FRAME_META_SNAPSHOT,
  HaProtocolError,
  MAX_META_BYTES,
  META_CHANGES_HEADER_BYTES,
  META_SNAPSHOT_HEADER_BYTES,
  decodeAck,
  decodeMetaChangesHeader,
  decodeMetaSnapshotHeader,
  encodeMetaChangesHeader,
  encodeMetaSnapshotHeader,
  frameHeaderBytes,
  decodeAnswer,
  decodeDataHeader,
  decodeHandshake,
  encodeAck,
  encodeAnswer,
  encodeDataHeader,
  encodeHandshake,
  epochAt,
  epochEndAfter,
  truncationPoint,
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
    expect(decodeAck(encodeAck({ maxOffset: 12, flushedOffset: 10 }))).toEqual({ maxOffset: 12, flushedOffset: 10, meta: null });
    const meta = { generation: 'ab'.repeat(16), seq: 2 ** 40 + 1 };
    expect(decodeAck(encodeAck({ maxOffset: 12, flushedOffset: 10, meta }))).toEqual({ maxOffset: 12, flushedOffset: 10, meta });
    const ch = { epoch: 3, logOffset: 2 ** 34, size: 999 };
    expect(decodeMetaChangesHeader(encodeMetaChangesHeader(ch))).toEqual(ch);
    const sn = { epoch: 3, logOffset: 2 ** 34, generation: '0f'.repeat(16), seq: 77, chunkIndex: 5, last: true, size: 12 };
    expect(decodeMetaSnapshotHeader(encodeMetaSnapshotHeader(sn))).toEqual(sn);
    expect(decodeMetaSnapshotHeader(encodeMetaSnapshotHeader({ ...sn, last: false }))).toEqual({ ...sn, last: false });
    // Every master frame starts with its kind.
    expect([encodeDataHeader(d)[0], encodeMetaChangesHeader(ch)[0], encodeMetaSnapshotHeader(sn)[0]]).toEqual([
      FRAME_DATA,
      FRAME_META_CHANGES,
      FRAME_META_SNAPSHOT,
    ]);
    expect([FRAME_DATA, FRAME_META_CHANGES, FRAME_META_SNAPSHOT].map(frameHeaderBytes)).toEqual([
      DATA_HEADER_BYTES,
      META_CHANGES_HEADER_BYTES,
      META_SNAPSHOT_HEADER_BYTES,
    ]);
  });

  it('refuses a bad magic, another version, too many epochs and oversize data', () => {
    const enc = encodeHandshake({ replicaId: 1, maxOffset: 0, epochs: [] });
    const bad = Buffer.from(enc);
    bad[0] = 0;
    expect(() => decodeHandshake(bad)).toThrow(HaProtocolError);
    const v1 = Buffer.from(enc);
    v1.writeUInt16BE(1, 4);
    expect(() => decodeHandshake(v1)).toThrow(/version 1 is not supported \(this broker speaks 2\)/);
    const many = Buffer.from(enc);
    many.writeUInt32BE(1_000_000, 22);
    expect(() => decodeHandshake(many)).toThrow(/epoch entries/);
    const big = encodeDataHeader({ offset: 0, epoch: 0, confirmOffset: 0, size: 0 });
    big.writeUInt32BE(0xffffffff, 21);
    expect(() => decodeDataHeader(big)).toThrow(/data frame of/);
    const huge = encodeAck({ maxOffset: 0, flushedOffset: 0 });
    huge.writeUInt32BE(0xffffffff, 0);
    expect(() => decodeAck(huge)).toThrow(/past 2\^53/);
  });

  it('refuses unknown frame kinds, meta frames of no or oversize bodies, unknown flags, a kind where another is due', () => {
    expect(() => frameHeaderBytes(0)).toThrow(/unknown kind 0/);
    expect(() => frameHeaderBytes(9)).toThrow(/unknown kind 9/);
    const ch = encodeMetaChangesHeader({ epoch: 1, logOffset: 0, size: 10 });
    expect(() => decodeDataHeader(ch)).toThrow(/kind 2 where kind 1 was expected/);
    const empty = encodeMetaChangesHeader({ epoch: 1, logOffset: 0, size: 0 });
    expect(() => decodeMetaChangesHeader(empty)).toThrow(/meta changes frame of 0 bytes/);
    const over = encodeMetaChangesHeader({ epoch: 1, logOffset: 0, size: MAX_META_BYTES + 1 });
    expect(() => decodeMetaChangesHeader(over)).toThrow(/meta changes frame of/);
    const sn = encodeMetaSnapshotHeader({ epoch: 1, logOffset: 0, generation: '00'.repeat(16), seq: 0, chunkIndex: 0, last: false, size: 10 });
    sn.writeUInt8(6, 41);
    expect(() => decodeMetaSnapshotHeader(sn)).toThrow(/unknown flags 6/);
    expect(() => encodeMetaSnapshotHeader({ epoch: 1, logOffset: 0, generation: 'xyz', seq: 0, chunkIndex: 0, last: false, size: 1 })).toThrow(RangeError);
    const noGen = encodeAck({ maxOffset: 0, flushedOffset: 0 });
    noGen.writeUInt32BE(5, 36);
    expect(() => decodeAck(noGen)).toThrow(/meta seq 5 without a generation/);
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

  it("find a record's epoch and where its epoch ends", () => {
    const h = [
      { epoch: 1, startOffset: 100 },
      { epoch: 3, startOffset: 500 },
      { epoch: 4, startOffset: 500 },
    ];
    expect([epochAt(h, 0), epochAt(h, 100), epochAt(h, 499), epochAt(h, 500), epochAt(h, 9999)]).toEqual([0, 1, 1, 4, 4]);
    expect([epochEndAfter(h, 0), epochEndAfter(h, 100), epochEndAfter(h, 499), epochEndAfter(h, 500)]).toEqual([100, 500, 500, Number.POSITIVE_INFINITY]);
    expect(epochAt([], 5)).toBe(0);
  });

  it("compute where a replica's log must end: the end of the newest epoch both logs hold (Kafka's leader-epoch rule)", () => {
    const e = (...pairs: Array<[number, number]>) => pairs.map(([epoch, startOffset]) => ({ epoch, startOffset }));
    const master = { epochs: e([1, 0], [2, 1000], [4, 3000]), end: 5000 };
    // Behind in a shared epoch: nothing to cut.
    expect(truncationPoint(master, { epochs: e([1, 0]), end: 700 })).toBe(700);
    expect(truncationPoint(master, { epochs: e([1, 0], [2, 1000], [4, 3000]), end: 4000 })).toBe(4000);
    // A deposed master's tail in epoch 2 past where epoch 2 ended on the new master.
    expect(truncationPoint(master, { epochs: e([1, 0], [2, 1000]), end: 3500 })).toBe(3000);
    // Its tail in an epoch the master never had (3): back to the end of epoch 2 as both hold it.
    expect(truncationPoint(master, { epochs: e([1, 0], [2, 1000], [3, 2500]), end: 2900 })).toBe(2500);
    // Ahead in the master's current epoch (the master lost a tail): back to the master's end.
    expect(truncationPoint(master, { epochs: e([1, 0], [4, 3000]), end: 6000 })).toBe(5000);
    // Empty, or no epoch in common: 0.
    expect(truncationPoint(master, { epochs: [], end: 0 })).toBe(0);
    expect(truncationPoint(master, { epochs: e([3, 0]), end: 800 })).toBe(0);
    // Records older than every entry are epoch 0 on both sides.
    expect(truncationPoint({ epochs: e([1, 600]), end: 900 }, { epochs: [], end: 800 })).toBe(600);
    expect(truncationPoint({ epochs: [], end: 900 }, { epochs: [], end: 800 })).toBe(800);
    // Refused: the replica has seen a newer epoch, or sends no history.
    expect(truncationPoint(master, { epochs: e([5, 4000]), end: 4100 })).toMatch(/epoch 5, newer than this master's epoch 4: this master is deposed/);
    expect(truncationPoint(master, { epochs: e([2, 0], [1, 10]), end: 100 })).toMatch(/not valid/);
    expect(truncationPoint(master, { epochs: e([1, 200]), end: 100 })).toMatch(/past the log's end/);
  });
});
