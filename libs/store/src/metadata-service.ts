import { createHash } from 'node:crypto';
import { validateTopicName } from '@apogee/message';
import type { TopicConfig } from './api.js';
import type { ResolvedStoreConfig } from './config.js';
import { IllegalPutError } from './errors.js';
import { MAX_TOPIC_CONFIG_BYTES, checkGroup } from './meta-change-codec.js';
import type { MetaFeed } from './meta-feed.js';
import type { MetaKv } from './meta-kv.js';
import type { Metadata } from './metadata.js';
import { type QueueIndex, decodeQueueName, queueNameKey } from './queue-index.js';

/**
 * Consumer offsets a replica holds for queues it has no messages of yet (the master's records not
 * replicated yet): by queue name, in a local meta KV namespace, since a queue's qid exists only
 * once the queue does. Reads fall back to them when the queue has no offset of its own; an
 * offset change for an existing queue moves it into the queue's own table. Key: group \0 a
 * digest of (topic, queueId) — names can be too long for a key together; value: offset (8),
 * queueId (4), topic (UTF-8).
 */
export const OFFSETS_BY_NAME_NAMESPACE = 'store.local.offsets-by-name';

const byNameKey = (group: string, topic: string, queueId: number) =>
  `${group}\u0000${createHash('sha256').update(`${topic}\u0000${queueId}`).digest('base64url')}`;

function byNameValue(topic: string, queueId: number, offset: number): Buffer {
  const t = Buffer.from(topic, 'utf8');
  const b = Buffer.allocUnsafe(12 + t.length);
  b.writeBigInt64BE(BigInt(offset), 0);
  b.writeUInt32BE(queueId, 8);
  t.copy(b, 12);
  return b;
}

function parseByName(key: string, value: Buffer): { group: string; topic: string; queueId: number; offset: number } | undefined {
  const nul = key.lastIndexOf('\u0000');
  if (nul <= 0 || value.length < 12) return undefined;
  return { group: key.slice(0, nul), topic: value.toString('utf8', 12), queueId: value.readUInt32BE(8), offset: Number(value.readBigInt64BE(0)) };
}

/**
 * The store's metadata surface: consumer offsets (kept per queue id, so they follow the queue
 * index), topic configs and endpoints' meta KV — validation in front of Metadata and MetaKv —
 * and the recording of consumer-offset changes into the metadata feed.
 */
export class MetadataService {
  /** Whether any offset is kept by name (a replica's), so the master's reads skip the fallback. */
  private byName: boolean;

  constructor(
    private readonly cfg: ResolvedStoreConfig,
    readonly index: QueueIndex,
    readonly meta: Metadata,
    readonly kv: MetaKv,
    private readonly feed: MetaFeed,
  ) {
    let any = false;
    for (const _ of kv.scan(OFFSETS_BY_NAME_NAMESPACE, '', 1)) any = true;
    this.byName = any;
  }

  // ---------------------------------------------------------------- consumer offsets

  async commitOffset(group: string, topic: string, queueId: number, offset: number): Promise<void> {
    checkGroup(group, (m) => new IllegalPutError(m));
    if (!Number.isSafeInteger(offset)) throw new IllegalPutError(`offset must be an integer, got ${offset}`);
    try {
      validateTopicName(topic);
    } catch (err) {
      throw new IllegalPutError((err as Error).message, err);
    }
    this.feed.offsetCommitted(group, topic, queueId, offset);
    await this.writeOffset(group, topic, queueId, offset, true);
  }

  /**
   * Writes an offset into its queue's table, creating the queue when `create` (a commit); a
   * replica applying its master's offset for a queue it does not have yet keeps it by name.
   */
  private writeOffset(group: string, topic: string, queueId: number, offset: number, create: boolean): Promise<unknown> {
    const st = this.index.lookup(topic, queueId, create);
    if (!st) {
      this.byName = true;
      return this.kv.put(OFFSETS_BY_NAME_NAMESPACE, byNameKey(group, topic, queueId), byNameValue(topic, queueId, offset));
    }
    const now = this.cfg.now();
    if (this.cfg.lmqIdleTtlMs > 0 && now - st.lastActive > this.cfg.lmqIdleTtlMs / 10) this.index.touch(st, now);
    this.index.ensureRow(st);
    const done = this.meta.commitOffset(st.qid, queueNameKey(topic, queueId), group, offset, now);
    if (this.byName) return Promise.all([done, this.kv.delete(OFFSETS_BY_NAME_NAMESPACE, byNameKey(group, topic, queueId))]);
    return done;
  }

  getConsumerOffset(group: string, topic: string, queueId: number): number | undefined {
    const st = this.index.lookup(topic, queueId, false);
    const own = st ? this.meta.getOffset(st.qid, group) : undefined;
    if (own !== undefined || !this.byName) return own;
    const v = this.kv.get(OFFSETS_BY_NAME_NAMESPACE, byNameKey(group, topic, queueId));
    const o = v === undefined ? undefined : parseByName(`${group}\u0000`, v);
    return o !== undefined && o.topic === topic && o.queueId === queueId ? o.offset : undefined;
  }

  listConsumerOffsets(group: string): Array<{ topic: string; queueId: number; offset: number }> {
    const out: Array<{ topic: string; queueId: number; offset: number }> = [];
    for (const { qid, queueKey } of this.meta.groupQueues(group)) {
      const offset = this.meta.getOffset(qid, group);
      if (offset !== undefined) out.push({ ...decodeQueueName(queueKey), offset });
    }
    if (this.byName) {
      const own = new Set(out.map((o) => `${o.topic}\u0000${o.queueId}`));
      for (const o of this.offsetsByName(group))
        if (!own.has(`${o.topic}\u0000${o.queueId}`)) out.push({ topic: o.topic, queueId: o.queueId, offset: o.offset });
    }
    return out;
  }

  /** A group's offsets kept by name (all groups' when `group` is undefined). */
  *offsetsByName(group?: string): Generator<{ group: string; topic: string; queueId: number; offset: number }> {
    if (!this.byName) return;
    for (const { key, value } of this.kv.scan(OFFSETS_BY_NAME_NAMESPACE, group === undefined ? '' : `${group}\u0000`)) {
      const o = parseByName(key, value);
      if (o) yield o;
    }
  }

  async deleteConsumerOffsets(group: string, topic?: string): Promise<void> {
    const pending: Array<Promise<unknown>> = [];
    for (const o of this.listConsumerOffsets(group)) {
      if (topic !== undefined && o.topic !== topic) continue;
      pending.push(this.removeOffset(group, o.topic, o.queueId));
    }
    await Promise.all(pending);
  }

  /** Deletes one consumer offset (its queue's and any kept by name), recording the change. */
  removeOffset(group: string, topic: string, queueId: number): Promise<unknown> {
    this.feed.offsetDeleted(group, topic, queueId);
    const pending: Array<Promise<unknown>> = [];
    const st = this.index.lookup(topic, queueId, false);
    if (st) pending.push(this.meta.deleteOffset(st.qid, group));
    if (this.byName) pending.push(this.kv.delete(OFFSETS_BY_NAME_NAMESPACE, byNameKey(group, topic, queueId)));
    return Promise.all(pending);
  }

  /** A replica's application of its master's offset commit: never creates the queue. */
  applyOffset(group: string, topic: string, queueId: number, offset: number): Promise<unknown> {
    this.feed.offsetCommitted(group, topic, queueId, offset);
    return this.writeOffset(group, topic, queueId, offset, false);
  }

  /**
   * Sets an offset so that it commits in this event turn (a snapshot being applied): into its
   * queue's table if the queue exists, else by name. Not recorded in the feed.
   */
  setOffsetNow(group: string, topic: string, queueId: number, offset: number): Promise<unknown> {
    const st = this.index.lookup(topic, queueId, false);
    if (!st) {
      this.byName = true;
      return this.kv.put(OFFSETS_BY_NAME_NAMESPACE, byNameKey(group, topic, queueId), byNameValue(topic, queueId, offset));
    }
    this.index.ensureRow(st);
    const done = this.meta.setOffsetNow(st.qid, queueNameKey(topic, queueId), group, offset, this.cfg.now());
    if (this.byName) return Promise.all([done, this.kv.delete(OFFSETS_BY_NAME_NAMESPACE, byNameKey(group, topic, queueId))]);
    return done;
  }

  /** Every consumer offset of every group: the queues' own, then those kept by name that no queue has. */
  *allOffsets(): Generator<{ group: string; topic: string; queueId: number; offset: number }> {
    const own = this.byName ? new Set<string>() : undefined;
    for (const { group, queueKey, offset } of this.meta.allOffsets()) {
      const { topic, queueId } = decodeQueueName(queueKey);
      own?.add(byNameKey(group, topic, queueId));
      yield { group, topic, queueId, offset };
    }
    for (const o of this.offsetsByName()) if (!own!.has(byNameKey(o.group, o.topic, o.queueId))) yield o;
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
    const bytes = Buffer.byteLength(JSON.stringify(config), 'utf8');
    if (bytes > MAX_TOPIC_CONFIG_BYTES) throw new IllegalPutError(`topic config is ${bytes} bytes as JSON; the limit is ${MAX_TOPIC_CONFIG_BYTES}`);
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
