import { javaStringHashCode } from '@apogee/message';
import { describe, expect, it } from 'vitest';
import type { MessageQueue } from '../message-queue.js';
import { RoundRobinSelector, selectByShardingKey } from './queue-selector.js';

const queues: MessageQueue[] = ['a', 'b', 'c'].flatMap((brokerName) => [0, 1].map((queueId) => ({ topic: 'T', brokerName, queueId })));

describe('queue selection', () => {
  it('round-robins over every queue', () => {
    const s = new RoundRobinSelector();
    const picked = Array.from({ length: 6 }, () => s.select(queues)!);
    expect(new Set(picked.map((q) => `${q.brokerName}${q.queueId}`)).size).toBe(6);
  });

  it('avoids brokers that failed while another broker has a queue, else falls back', () => {
    const s = new RoundRobinSelector();
    for (let i = 0; i < 20; i++) expect(s.select(queues, new Set(['a', 'b']))!.brokerName).toBe('c');
    expect(s.select(queues, new Set(['a', 'b', 'c']))).toBeDefined();
    expect(s.select([])).toBeUndefined();
  });

  it('sharding key: |Java hashCode| mod queue count, stable', () => {
    for (const key of ['', 'a', 'order-123', 'ÄÖÜ', 'negative-hash-xyz']) {
      const q = selectByShardingKey(queues, key)!;
      expect(queues.indexOf(q)).toBe(Math.abs(javaStringHashCode(key) % queues.length));
      expect(selectByShardingKey(queues, key)).toBe(q);
    }
    // "polygenelubricants".hashCode() is Integer.MIN_VALUE: the index must still be in range.
    expect(javaStringHashCode('polygenelubricants')).toBe(-2147483648);
    expect(selectByShardingKey(queues, 'polygenelubricants')).toBeDefined();
  });
});
