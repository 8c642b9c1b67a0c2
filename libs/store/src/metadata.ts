import { readInt64BE, writeInt64BE } from '@apogee/message';
import type { TopicConfig } from './api.js';
import { type IndexEnv, u32Key } from './index-env.js';
import type { MetaFeed } from './meta-feed.js';
import { decodeQueueName } from './queue-index.js';

function offsetKey(qid: number, group: string): Buffer {
  const g = Buffer.from(group, 'utf8');
  const b = Buffer.allocUnsafe(4 + g.length);
  b.writeUInt32BE(qid, 0);
  g.copy(b, 4);
  return b;
}

function groupKey(group: string, qid: number): Buffer {
  const g = Buffer.from(group, 'utf8');
  const b = Buffer.allocUnsafe(g.length + 5);
  g.copy(b, 0);
  b[g.length] = 0;
  b.writeUInt32BE(qid, g.length + 1);
  return b;
}

/** How long offset commits gather before they are written (one LMDB transaction for all of them). */
const OFFSET_WRITE_DELAY_MS = 10;

/** An offset commit waiting for the next batched write. */
interface PendingOffset {
  qid: number;
  group: string;
  queueKey: Buffer;
  offset: number;
  now: number;
}

/**
 * Consumer offsets per (group, queue) and topic configs, in LMDB. Offset commits are gathered for
 * OFFSET_WRITE_DELAY_MS and written together: consumers commit on every pull, and a transaction
 * (with its disk sync) per commit would cost more than the pulls themselves. A commit's promise
 * resolves once its batch is durable; until then reads see it through the pending map, so a read
 * after a commit always returns the committed value.
 */
export class Metadata {
  private readonly pendingOffsets = new Map<string, number>();
  /** Commits not yet handed to LMDB, by `${qid}\0${group}` (the latest per key wins). */
  private batch = new Map<string, PendingOffset>();
  private batchDone: Promise<void> | null = null;
  private batchTimer: NodeJS.Timeout | null = null;
  private releaseBatch: (() => void) | null = null;
  private readonly topicCache = new Map<string, TopicConfig>();
  /** Where replicated mutations are recorded (docs/ha-design.md decision 4); set by the store. */
  feed: MetaFeed | undefined;

  constructor(private readonly env: IndexEnv) {
    for (const { key, value } of env.topics.getRange({})) this.topicCache.set(String(key), value as unknown as TopicConfig);
  }

  /** `queueKey` is the queue's name key (see queueNameKey), kept so a group can list its queues. */
  commitOffset(qid: number, queueKey: Buffer, group: string, offset: number, now: number): Promise<void> {
    const pk = `${qid}\u0000${group}`;
    this.pendingOffsets.set(pk, offset);
    this.batch.set(pk, { qid, group, queueKey, offset, now });
    if (!this.batchDone) {
      this.batchDone = new Promise<void>((resolve) => (this.releaseBatch = resolve)).then(() => this.writeBatch());
      this.batchTimer = setTimeout(() => this.startBatch(), OFFSET_WRITE_DELAY_MS);
    }
    return this.batchDone;
  }

  /** Writes the gathered commits now (close, flush); resolves once they are durable. */
  flushOffsets(): Promise<void> {
    if (!this.batchDone) return Promise.resolve();
    const done = this.batchDone;
    this.startBatch();
    return done;
  }

  private startBatch(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = null;
    const release = this.releaseBatch;
    this.releaseBatch = null;
    release?.();
  }

  /** One LMDB transaction for the batch (puts issued in one turn commit together). */
  private writeBatch(): Promise<void> {
    const batch = this.batch;
    this.batch = new Map();
    this.batchDone = null;
    const writes: Array<Promise<unknown>> = [];
    for (const [pk, c] of batch) {
      const k = offsetKey(c.qid, c.group);
      if (this.env.offsets.get(k) === undefined) this.env.groups.put(groupKey(c.group, c.qid), c.queueKey);
      const v = Buffer.allocUnsafe(16);
      writeInt64BE(v, c.offset, 0);
      writeInt64BE(v, c.now, 8);
      writes.push(
        this.env.offsets.put(k, v).then(() => {
          if (this.pendingOffsets.get(pk) === c.offset) this.pendingOffsets.delete(pk);
        }),
      );
    }
    return Promise.all(writes).then(() => undefined);
  }

  getOffset(qid: number, group: string): number | undefined {
    const p = this.pendingOffsets.get(`${qid}\u0000${group}`);
    if (p !== undefined) return p;
    const v = this.env.offsets.get(offsetKey(qid, group));
    return v ? readInt64BE(v, 0) : undefined;
  }

  /** Queues a group has offsets in: qid and queue name key. */
  groupQueues(group: string): Array<{ qid: number; queueKey: Buffer }> {
    const start = groupKey(group, 0);
    const end = Buffer.concat([groupKey(group, 0xffffffff), Buffer.from([0xff])]);
    const out: Array<{ qid: number; queueKey: Buffer }> = [];
    const seen = new Set<number>();
    for (const { key, value } of this.env.groups.getRange({ start, end })) {
      const k = key as Buffer;
      const qid = k.readUInt32BE(k.length - 4);
      seen.add(qid);
      out.push({ qid, queueKey: value });
    }
    // Commits still gathering for their batch count too.
    for (const c of this.batch.values()) {
      if (c.group === group && !seen.has(c.qid)) {
        seen.add(c.qid);
        out.push({ qid: c.qid, queueKey: c.queueKey });
      }
    }
    return out;
  }

  /** Every consumer offset held (pending commits included): group, qid, queue name key, offset. */
  *allOffsets(): Generator<{ group: string; qid: number; queueKey: Buffer; offset: number }> {
    const seen = new Set<string>();
    for (const { key, value } of this.env.groups.getRange({})) {
      const k = key as Buffer;
      const qid = k.readUInt32BE(k.length - 4);
      const group = k.toString('utf8', 0, k.length - 5);
      const offset = this.getOffset(qid, group);
      seen.add(`${qid}\u0000${group}`);
      if (offset !== undefined) yield { group, qid, queueKey: value, offset };
    }
    for (const [pk, c] of this.batch) if (!seen.has(pk)) yield { group: c.group, qid: c.qid, queueKey: c.queueKey, offset: c.offset };
  }

  /**
   * Writes an offset at once, outside the gathered batch, so it commits with the other writes of
   * this event turn (a snapshot being applied); reads see it at once.
   */
  setOffsetNow(qid: number, queueKey: Buffer, group: string, offset: number, now: number): Promise<unknown> {
    const pk = `${qid}\u0000${group}`;
    this.batch.delete(pk);
    this.pendingOffsets.set(pk, offset);
    const k = offsetKey(qid, group);
    this.env.groups.put(groupKey(group, qid), queueKey);
    const v = Buffer.allocUnsafe(16);
    writeInt64BE(v, offset, 0);
    writeInt64BE(v, now, 8);
    return this.env.offsets.put(k, v).then(() => {
      if (this.pendingOffsets.get(pk) === offset) this.pendingOffsets.delete(pk);
    });
  }

  deleteOffset(qid: number, group: string): Promise<unknown> {
    this.pendingOffsets.delete(`${qid}\u0000${group}`);
    this.batch.delete(`${qid}\u0000${group}`);
    this.env.groups.remove(groupKey(group, qid));
    return this.env.offsets.remove(offsetKey(qid, group));
  }

  /** Deletes every offset of a queue (queue removal). */
  deleteQueueOffsets(qid: number): void {
    for (const [pk, c] of this.batch) {
      if (c.qid !== qid) continue;
      this.batch.delete(pk);
      this.pendingOffsets.delete(pk);
      if (this.feed) {
        const { topic, queueId } = decodeQueueName(c.queueKey);
        this.feed.offsetDeleted(c.group, topic, queueId);
      }
    }
    for (const k of this.env.offsets.getKeys({ start: u32Key(qid), end: u32Key(qid + 1) })) {
      const key = k as Buffer;
      const group = key.toString('utf8', 4);
      if (this.feed) {
        const queueKey = this.env.groups.get(groupKey(group, qid));
        if (queueKey) {
          const { topic, queueId } = decodeQueueName(queueKey);
          this.feed.offsetDeleted(group, topic, queueId);
        }
      }
      this.env.groups.remove(groupKey(group, qid));
      this.env.offsets.remove(key);
      this.pendingOffsets.delete(`${qid}\u0000${group}`);
      this.batch.delete(`${qid}\u0000${group}`);
    }
  }

  putTopic(cfg: TopicConfig): Promise<unknown> {
    this.topicCache.set(cfg.topicName, cfg);
    this.feed?.record({ kind: 'topic', config: { ...cfg, attributes: { ...cfg.attributes } } });
    return this.env.topics.put(cfg.topicName, cfg as unknown as string);
  }

  getTopic(name: string): TopicConfig | undefined {
    return this.topicCache.get(name);
  }

  listTopics(): TopicConfig[] {
    return [...this.topicCache.values()];
  }

  deleteTopic(name: string): Promise<unknown> {
    this.topicCache.delete(name);
    this.feed?.record({ kind: 'topic-delete', topic: name });
    return this.env.topics.remove(name);
  }
}
