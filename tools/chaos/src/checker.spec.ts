import { describe, expect, it } from 'vitest';
import { check, unavailability } from './checker.js';
import type { Receipt, SendRecord } from './workload.js';

const RID = 'ab12';

function sends(list: Array<[SendRecord['outcome'], number, string?]>): SendRecord[] {
  return list.map(([outcome, endMs, broker], seq) => {
    const r: SendRecord = { seq, startMs: endMs - 5, endMs, outcome };
    if (outcome === 'acked') Object.assign(r, { broker: broker ?? 'broker-a', queueId: 0, queueOffset: seq });
    return r;
  });
}

function got(seq: number, queueOffset = seq, rid = RID, broker = 'broker-a'): Receipt {
  return { seq, rid, broker, queueId: 0, queueOffset, atMs: 0 };
}

describe('the checker', () => {
  it('counts enqueued, acked, failed and timed-out sends', () => {
    const r = check({
      rid: RID,
      sends: sends([
        ['acked', 10],
        ['failed', 20],
        ['timeout', 30],
        ['acked', 40],
        ['pending', -1],
      ]),
      live: [got(0), got(3)],
      verified: [],
      faults: [],
      endMs: 100,
    });
    expect(r).toMatchObject({ enqueued: 5, acked: 2, failed: 2, timedOut: 1, pending: 1, consumed: 2, lost: 0, duplicated: 0, unexpected: 0 });
  });

  it('calls an acked message never consumed lost, live or in the verification read', () => {
    const s = sends([
      ['acked', 1],
      ['acked', 2],
      ['acked', 3],
      ['acked', 4],
    ]);
    const r = check({ rid: RID, sends: s, live: [got(0)], verified: [got(0), got(2)], faults: [], endMs: 10 });
    expect(r.lost).toBe(2);
    expect(r.lostSeqs).toEqual([1, 3]);
    expect(r.missedByLiveConsumer).toBe(1);
  });

  it('does not count a failed send that was never consumed as lost, and reports one that was stored anyway', () => {
    const r = check({
      rid: RID,
      sends: sends([
        ['failed', 1],
        ['timeout', 2],
        ['timeout', 3],
      ]),
      live: [got(1, 0)],
      verified: [],
      faults: [],
      endMs: 10,
    });
    expect(r.lost).toBe(0);
    expect(r.failedButConsumed).toBe(1);
  });

  it('calls a message at two queue positions duplicated, and the same position read twice redelivered', () => {
    const s = sends([
      ['acked', 1],
      ['acked', 2],
    ]);
    const r = check({
      rid: RID,
      sends: s,
      live: [got(0, 0), got(0, 5), got(1, 1), got(1, 1)],
      verified: [got(0, 0), got(0, 5), got(1, 1)],
      faults: [],
      endMs: 10,
    });
    expect(r.duplicated).toBe(1);
    expect(r.redelivered).toBe(1);
    expect(r.consumed).toBe(2);
  });

  it('calls messages of another run or beyond the sequence unexpected, counted once each', () => {
    const s = sends([['acked', 1]]);
    const r = check({
      rid: RID,
      sends: s,
      live: [got(0), got(7, 1), got(0, 2, 'zz99')],
      verified: [got(7, 1), { ...got(-1, 3), rid: '' }],
      faults: [],
      endMs: 10,
    });
    expect(r.unexpected).toBe(3);
    expect(r.consumed).toBe(1);
    expect(r.lost).toBe(0);
  });

  it('gives per fault the acks and failures during it, by group', () => {
    const s = sends([
      ['acked', 5, 'broker-a'],
      ['acked', 12, 'broker-b'],
      ['failed', 13],
      ['acked', 15, 'broker-b'],
      ['acked', 30, 'broker-a'],
    ]);
    const r = check({ rid: RID, sends: s, live: [], verified: [], faults: [{ index: 0, kind: 'kill', startMs: 10, healMs: 20 }], endMs: 40 });
    expect(r.faults).toHaveLength(1);
    expect(r.faults[0]).toMatchObject({ index: 0, kind: 'kill', ackedDuring: 2, failedDuring: 1, ackedByGroupDuring: { 'broker-b': 2 }, recovered: true });
    // gaps: 10→12, 12→15, 15→30 (the first ack after the heal at 20)
    expect(r.faults[0]!.unavailableSec).toBe(0.015);
    expect(r.maxUnavailableSec).toBe(0.015);
  });

  it('leaves out faults that never healed (never injected)', () => {
    const r = check({ rid: RID, sends: [], live: [], verified: [], faults: [{ index: 0, kind: 'bridge', startMs: 1 }], endMs: 5 });
    expect(r.faults).toEqual([]);
  });
});

describe('unavailability', () => {
  it('is the longest gap from the fault start to the first ack after the heal', () => {
    expect(unavailability([1000, 2000, 9000, 9500, 20_000], 2500, 8000, 30_000)).toEqual({ unavailableSec: 6.5, recovered: true });
  });

  it('counts from the start to the first ack even when acks come soon after the heal', () => {
    expect(unavailability([100, 5100], 1000, 5000, 10_000)).toEqual({ unavailableSec: 4.1, recovered: true });
  });

  it('runs to the end of the measured time, unrecovered, when no ack came after the heal', () => {
    expect(unavailability([100, 1500], 1000, 5000, 10_000)).toEqual({ unavailableSec: 8.5, recovered: false });
    expect(unavailability([], 1000, 5000, 10_000)).toEqual({ unavailableSec: 9, recovered: false });
  });

  it('is small when sends go on during the fault (another group took them)', () => {
    const acks = Array.from({ length: 200 }, (_, i) => i * 50);
    expect(unavailability(acks, 1000, 6000, 10_000)).toEqual({ unavailableSec: 0.05, recovered: true });
  });
});
