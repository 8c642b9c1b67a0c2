import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MessageQueue } from '../message-queue.js';
import { allocateAveragely } from './allocate.js';

const mqs = (n: number): MessageQueue[] => Array.from({ length: n }, (_, i) => ({ topic: 'T', brokerName: 'b', queueId: i }));
const ids = (qs: MessageQueue[]) => qs.map((q) => q.queueId);

describe('allocateAveragely', () => {
  it('matches the Java allocation for 8 queues over 3 clients', () => {
    const cids = ['c0', 'c1', 'c2'];
    expect(cids.map((c) => ids(allocateAveragely(c, mqs(8), cids)))).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7],
    ]);
  });

  it('more clients than queues: one queue each for the first ones', () => {
    const cids = ['a', 'b', 'c', 'd'];
    expect(cids.map((c) => ids(allocateAveragely(c, mqs(2), cids)))).toEqual([[0], [1], [], []]);
  });

  it('a client the broker does not list gets nothing', () => {
    expect(allocateAveragely('x', mqs(4), ['a'])).toEqual([]);
  });

  it('every queue goes to exactly one client, sizes differ by at most one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1, max: 20 }), (n, c) => {
        const cids = Array.from({ length: c }, (_, i) => `c${String(i).padStart(2, '0')}`);
        const parts = cids.map((cid) => ids(allocateAveragely(cid, mqs(n), cids)));
        expect(parts.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        const sizes = parts.map((p) => p.length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
    );
  });
});
