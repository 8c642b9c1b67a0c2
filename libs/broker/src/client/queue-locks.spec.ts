import { describe, expect, it } from 'vitest';
import { QueueLocks, type MessageQueueRef } from './queue-locks.js';

const q = (queueId: number, topic = 'T'): MessageQueueRef => ({ topic, brokerName: 'broker-a', queueId });

describe('QueueLocks', () => {
  it('locks free queues, renews for the same client and denies another until the TTL passes', () => {
    let t = 1_000;
    const locks = new QueueLocks(60_000, () => t);
    expect(locks.tryLock('g', 'c1', [q(0), q(1)])).toEqual([q(0), q(1)]);
    expect(locks.holder('g', q(0))).toBe('c1');
    // another client gets only what is free
    expect(locks.tryLock('g', 'c2', [q(0), q(2)])).toEqual([q(2)]);
    t += 30_000;
    expect(locks.tryLock('g', 'c1', [q(0)])).toEqual([q(0)]); // renewal
    t += 59_000; // 59 s after the renewal: still held
    expect(locks.tryLock('g', 'c2', [q(0)])).toEqual([]);
    expect(locks.holder('g', q(0))).toBe('c1');
    t += 1_001; // 60.001 s after the renewal: expired
    expect(locks.holder('g', q(0))).toBeUndefined();
    expect(locks.tryLock('g', 'c2', [q(0)])).toEqual([q(0)]);
    expect(locks.holder('g', q(0))).toBe('c2');
    // q1 was never renewed by c1 and expired too
    expect(locks.tryLock('g', 'c2', [q(1)])).toEqual([q(1)]);
  });

  it('keeps groups, topics and brokers apart', () => {
    const locks = new QueueLocks(60_000, () => 0);
    expect(locks.tryLock('g1', 'c1', [q(0)])).toEqual([q(0)]);
    expect(locks.tryLock('g2', 'c2', [q(0)])).toEqual([q(0)]);
    expect(locks.tryLock('g1', 'c2', [q(0, 'U'), { topic: 'T', brokerName: 'broker-b', queueId: 0 }])).toHaveLength(2);
  });

  it('unlocks only for the holder', () => {
    const locks = new QueueLocks(60_000, () => 0);
    locks.tryLock('g', 'c1', [q(0), q(1)]);
    locks.unlock('g', 'c2', [q(0)]);
    expect(locks.holder('g', q(0))).toBe('c1');
    expect(locks.tryLock('g', 'c2', [q(0)])).toEqual([]);
    locks.unlock('g', 'c1', [q(0)]);
    expect(locks.holder('g', q(0))).toBeUndefined();
    expect(locks.holder('g', q(1))).toBe('c1');
    expect(locks.tryLock('g', 'c2', [q(0)])).toEqual([q(0)]);
    locks.unlock('nope', 'c1', [q(0)]); // unknown group: no-op
  });
});
