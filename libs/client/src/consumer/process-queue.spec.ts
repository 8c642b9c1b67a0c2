import { describe, expect, it } from 'vitest';
import type { ReceivedMessage } from '../message.js';
import { ProcessQueue } from './process-queue.js';

const msg = (queueOffset: number) => ({ queueOffset }) as ReceivedMessage;

describe('ProcessQueue offset tracking', () => {
  it('commits the lowest unconsumed offset, then the next pull offset once empty', () => {
    const pq = new ProcessQueue({ topic: 'T', brokerName: 'b', queueId: 0 }, 0);
    expect(pq.committableOffset()).toBe(-1);
    const [m0, m1, m2] = [msg(0), msg(1), msg(2)];
    pq.put([m0, m1, m2], 5); // offsets 3 and 4 were filtered out by tag
    expect(pq.remove([m1])).toBe(0);
    expect(pq.remove([m0])).toBe(2);
    expect(pq.remove([m2])).toBe(5);
    pq.advance(9);
    expect(pq.committableOffset()).toBe(9);
    pq.advance(7);
    expect(pq.committableOffset()).toBe(9);
  });

  it('stays ordered when a lower offset arrives after a reset', () => {
    const pq = new ProcessQueue({ topic: 'T', brokerName: 'b', queueId: 0 }, 0);
    pq.put([msg(10), msg(11)], 12);
    pq.put([msg(3)], 4);
    expect(pq.committableOffset()).toBe(3);
    expect(pq.head(2).map((m) => m.queueOffset)).toEqual([3, 10]);
    expect(pq.count).toBe(3);
  });

  it('lock validity expires', () => {
    const pq = new ProcessQueue({ topic: 'T', brokerName: 'b', queueId: 0 }, 0);
    expect(pq.lockValid()).toBe(false);
    pq.locked = true;
    pq.lastLockTime = 1000;
    expect(pq.lockValid(1000 + 29_999)).toBe(true);
    expect(pq.lockValid(1000 + 30_000)).toBe(false);
  });
});
