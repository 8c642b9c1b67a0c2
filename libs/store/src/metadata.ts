import { readInt64BE, writeInt64BE } from '@apogee/message';
import type { TopicConfig } from './api.js';
import { type IndexEnv, u32Key } from './index-env.js';

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

/**
 * Consumer offsets per (group, queue) and topic configs, in LMDB. Writes are durable when their
 * promise resolves; until then reads see them through the pending map, so a read after a
 * commit always returns the committed value.
 */
export class Metadata {
  private readonly pendingOffsets = new Map<string, number>();
  private readonly topicCache = new Map<string, TopicConfig>();

  constructor(private readonly env: IndexEnv) {
    for (const { key, value } of env.topics.getRange({})) this.topicCache.set(String(key), value as unknown as TopicConfig);
  }

  /** `queueKey` is the queue's name key (see queueNameKey), kept so a group can list its queues. */
  commitOffset(qid: number, queueKey: Buffer, group: string, offset: number, now: number): Promise<void> {
    const k = offsetKey(qid, group);
    const pk = `${qid}\u0000${group}`;
    const isNew = !this.pendingOffsets.has(pk) && this.env.offsets.get(k) === undefined;
    this.pendingOffsets.set(pk, offset);
    const v = Buffer.allocUnsafe(16);
    writeInt64BE(v, offset, 0);
    writeInt64BE(v, now, 8);
    if (isNew) this.env.groups.put(groupKey(group, qid), queueKey);
    return this.env.offsets.put(k, v).then(() => {
      if (this.pendingOffsets.get(pk) === offset) this.pendingOffsets.delete(pk);
    });
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
    for (const { key, value } of this.env.groups.getRange({ start, end })) {
      const k = key as Buffer;
      out.push({ qid: k.readUInt32BE(k.length - 4), queueKey: value });
    }
    return out;
  }

  deleteOffset(qid: number, group: string): Promise<unknown> {
    this.pendingOffsets.delete(`${qid}\u0000${group}`);
    this.env.groups.remove(groupKey(group, qid));
    return this.env.offsets.remove(offsetKey(qid, group));
  }

  /** Deletes every offset of a queue (queue removal). */
  deleteQueueOffsets(qid: number): void {
    for (const k of this.env.offsets.getKeys({ start: u32Key(qid), end: u32Key(qid + 1) })) {
      const key = k as Buffer;
      const group = key.toString('utf8', 4);
      this.env.groups.remove(groupKey(group, qid));
      this.env.offsets.remove(key);
      this.pendingOffsets.delete(`${qid}\u0000${group}`);
    }
  }

  putTopic(cfg: TopicConfig): Promise<unknown> {
    this.topicCache.set(cfg.topicName, cfg);
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
    return this.env.topics.remove(name);
  }
}
