import { validateTopicName } from '@apogee/message';
import type { TopicConfig } from './api.js';
import type { ResolvedStoreConfig } from './config.js';
import { IllegalPutError } from './errors.js';
import type { MetaKv } from './meta-kv.js';
import type { Metadata } from './metadata.js';
import { type QueueIndex, decodeQueueName, queueNameKey } from './queue-index.js';

/**
 * The store's metadata surface: consumer offsets (kept per queue id, so they follow the queue
 * index), topic configs and endpoints' meta KV — validation in front of Metadata and MetaKv.
 */
export class MetadataService {
  constructor(
    private readonly cfg: ResolvedStoreConfig,
    private readonly index: QueueIndex,
    private readonly meta: Metadata,
    readonly kv: MetaKv,
  ) {}

  // ---------------------------------------------------------------- consumer offsets

  async commitOffset(group: string, topic: string, queueId: number, offset: number): Promise<void> {
    if (!group) throw new IllegalPutError('consumer group is empty');
    if (!Number.isSafeInteger(offset)) throw new IllegalPutError(`offset must be an integer, got ${offset}`);
    try {
      validateTopicName(topic);
    } catch (err) {
      throw new IllegalPutError((err as Error).message, err);
    }
    const st = this.index.lookup(topic, queueId, true)!;
    const now = this.cfg.now();
    if (this.cfg.lmqIdleTtlMs > 0 && now - st.lastActive > this.cfg.lmqIdleTtlMs / 10) this.index.touch(st, now);
    this.index.ensureRow(st);
    await this.meta.commitOffset(st.qid, queueNameKey(topic, queueId), group, offset, now);
  }

  getConsumerOffset(group: string, topic: string, queueId: number): number | undefined {
    const st = this.index.lookup(topic, queueId, false);
    return st ? this.meta.getOffset(st.qid, group) : undefined;
  }

  listConsumerOffsets(group: string): Array<{ topic: string; queueId: number; offset: number }> {
    const out: Array<{ topic: string; queueId: number; offset: number }> = [];
    for (const { qid, queueKey } of this.meta.groupQueues(group)) {
      const offset = this.meta.getOffset(qid, group);
      if (offset !== undefined) out.push({ ...decodeQueueName(queueKey), offset });
    }
    return out;
  }

  async deleteConsumerOffsets(group: string, topic?: string): Promise<void> {
    const pending: Array<Promise<unknown>> = [];
    for (const o of this.listConsumerOffsets(group)) {
      if (topic !== undefined && o.topic !== topic) continue;
      const st = this.index.lookup(o.topic, o.queueId, false);
      if (st) pending.push(this.meta.deleteOffset(st.qid, group));
    }
    await Promise.all(pending);
  }

  /** Writes the gathered offset commits now; resolves once they are durable. */
  flushOffsets(): Promise<void> {
    return this.meta.flushOffsets();
  }

  // ---------------------------------------------------------------- topic configs

  async putTopicConfig(config: TopicConfig): Promise<void> {
    try {
      validateTopicName(config.topicName);
    } catch (err) {
      throw new IllegalPutError((err as Error).message, err);
    }
    await this.meta.putTopic(config);
  }

  getTopicConfig(topic: string): TopicConfig | undefined {
    return this.meta.getTopic(topic);
  }

  listTopicConfigs(): TopicConfig[] {
    return this.meta.listTopics();
  }

  async deleteTopicConfig(topic: string): Promise<void> {
    await this.meta.deleteTopic(topic);
  }
}
