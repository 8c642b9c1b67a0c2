import { javaStringHashCode } from '@apogee/message';
import type { MessageQueue } from '../message-queue.js';

/**
 * Round-robin over a topic's writable queues (TopicPublishInfo.selectOneMessageQueue): the index
 * advances on every pick, and a retry skips queues of brokers that already failed this send when
 * another broker has one.
 */
export class RoundRobinSelector {
  private index = Math.floor(Math.random() * 1024);

  select(queues: readonly MessageQueue[], avoidBrokers: ReadonlySet<string> = new Set()): MessageQueue | undefined {
    if (queues.length === 0) return undefined;
    for (let i = 0; i < queues.length; i++) {
      const q = queues[this.next() % queues.length]!;
      if (!avoidBrokers.has(q.brokerName)) return q;
    }
    return queues[this.next() % queues.length];
  }

  private next(): number {
    this.index = (this.index + 1) & 0x3fffffff;
    return this.index;
  }
}

/** Queue of a sharding key (SelectMessageQueueByHash): |Java hashCode(key)| mod queue count. */
export function selectByShardingKey(queues: readonly MessageQueue[], key: string): MessageQueue | undefined {
  if (queues.length === 0) return undefined;
  return queues[Math.abs(javaStringHashCode(key) % queues.length)];
}
