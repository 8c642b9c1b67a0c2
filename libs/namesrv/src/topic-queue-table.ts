import type { QueueData } from './types.js';

/**
 * topic → brokerName → QueueData, with the reverse index brokerName → topics so that dropping a
 * broker group, wiping its write permission or listing a cluster's topics costs O(topics of that
 * broker) instead of a scan of every topic (RocketMQ's RouteInfoManager scans).
 */
export class TopicQueueTable {
  private readonly byTopic = new Map<string, Map<string, QueueData>>();
  private readonly byBroker = new Map<string, Set<string>>();

  /** Stores a broker's queue data for a topic; true when it differs from what was there. */
  put(topic: string, queueData: QueueData): boolean {
    let perBroker = this.byTopic.get(topic);
    if (perBroker === undefined) {
      perBroker = new Map();
      this.byTopic.set(topic, perBroker);
    }
    const previous = perBroker.get(queueData.brokerName);
    perBroker.set(queueData.brokerName, { ...queueData });
    let topics = this.byBroker.get(queueData.brokerName);
    if (topics === undefined) {
      topics = new Set();
      this.byBroker.set(queueData.brokerName, topics);
    }
    topics.add(topic);
    return previous === undefined || !sameQueueData(previous, queueData);
  }

  /** The queue data of a topic keyed by brokerName (live view; do not mutate). */
  get(topic: string): ReadonlyMap<string, QueueData> | undefined {
    return this.byTopic.get(topic);
  }

  has(topic: string, brokerName: string): boolean {
    return this.byTopic.get(topic)?.has(brokerName) ?? false;
  }

  /** Removes one broker's queues of a topic; the topic disappears with its last broker. */
  remove(topic: string, brokerName: string): boolean {
    const perBroker = this.byTopic.get(topic);
    if (perBroker === undefined || !perBroker.delete(brokerName)) return false;
    if (perBroker.size === 0) this.byTopic.delete(topic);
    const topics = this.byBroker.get(brokerName);
    if (topics !== undefined) {
      topics.delete(topic);
      if (topics.size === 0) this.byBroker.delete(brokerName);
    }
    return true;
  }

  /** Removes a topic from every broker. */
  removeTopic(topic: string): boolean {
    const perBroker = this.byTopic.get(topic);
    if (perBroker === undefined) return false;
    for (const brokerName of [...perBroker.keys()]) this.remove(topic, brokerName);
    return true;
  }

  /** Removes every topic's queues on a broker group; returns the topics that were touched. */
  removeBroker(brokerName: string): string[] {
    const topics = [...(this.byBroker.get(brokerName) ?? [])];
    for (const topic of topics) this.remove(topic, brokerName);
    return topics;
  }

  /** Topics a broker group holds queues of (live view; do not mutate). */
  topicsOf(brokerName: string): ReadonlySet<string> {
    return this.byBroker.get(brokerName) ?? EMPTY;
  }

  topics(): IterableIterator<string> {
    return this.byTopic.keys();
  }

  get size(): number {
    return this.byTopic.size;
  }

  /** Rewrites the perm of every queue data of a broker group; returns how many topics it touched. */
  updatePerm(brokerName: string, change: (perm: number) => number): number {
    let count = 0;
    for (const topic of this.topicsOf(brokerName)) {
      const queueData = this.byTopic.get(topic)?.get(brokerName);
      if (queueData === undefined) continue;
      queueData.perm = change(queueData.perm);
      count++;
    }
    return count;
  }
}

const EMPTY: ReadonlySet<string> = new Set();

function sameQueueData(a: QueueData, b: QueueData): boolean {
  return (
    a.brokerName === b.brokerName &&
    a.readQueueNums === b.readQueueNums &&
    a.writeQueueNums === b.writeQueueNums &&
    a.perm === b.perm &&
    a.topicSysFlag === b.topicSysFlag
  );
}
