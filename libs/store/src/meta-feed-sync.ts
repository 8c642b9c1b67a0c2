import type { MetaFeedPosition, MetaSnapshot, TopicConfig } from './api.js';
import { type MetaChange, MetaFeedError, changeSize, decodeChanges, decodeSnapshotChunk, encodeSnapshotChunk } from './meta-change-codec.js';
import type { MetaFeed } from './meta-feed.js';
import type { MetadataService } from './metadata-service.js';

/** Target size of a snapshot chunk (a single larger entry makes a larger chunk). */
export const META_SNAPSHOT_CHUNK_BYTES = 256 * 1024;

const offsetKey = (group: string, topic: string, queueId: number) => `${group}\u0000${topic}\u0000${queueId}`;
const metaKey = (namespace: string, key: string) => `${namespace}\u0000${key}`;

/**
 * Both ends of metadata replication over the feed (docs/ha-design.md decision 4): a master's
 * snapshot of its replicated state, and a replica's application of its master's changes and
 * snapshots. Applications run one at a time; each is decoded and checked whole before the first
 * write, so refused bytes change nothing.
 */
export class MetaFeedSync {
  /** The master position this replica's state corresponds to; null until a snapshot is applied. */
  private applied: MetaFeedPosition | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly svc: MetadataService,
    private readonly feed: MetaFeed,
  ) {}

  /**
   * The whole replicated state as of now: consumer offsets, topic configs and every meta KV
   * namespace but the local ones. Collected in this call (so it is exactly the state at
   * `position`), encoded chunk by chunk as the chunks are read.
   */
  snapshot(chunkBytes = META_SNAPSHOT_CHUNK_BYTES): MetaSnapshot {
    const position = this.feed.position();
    const changes: MetaChange[] = [];
    for (const o of this.svc.allOffsets()) changes.push({ kind: 'offset', ...o });
    for (const c of this.svc.listTopicConfigs()) changes.push({ kind: 'topic', config: { ...c, attributes: { ...c.attributes } } });
    for (const e of this.svc.kv.scanReplicated()) changes.push({ kind: 'meta', ...e });
    const generation = this.feed.generationBytes;
    async function* chunks(): AsyncGenerator<Buffer> {
      let i = 0;
      let index = 0;
      do {
        const part: MetaChange[] = [];
        let bytes = 0;
        while (i < changes.length) {
          const n = changeSize(changes[i]!);
          if (part.length > 0 && bytes + n > chunkBytes) break;
          part.push(changes[i++]!);
          bytes += n;
        }
        yield encodeSnapshotChunk(generation, position.seq, index++, i >= changes.length, part, bytes);
      } while (i < changes.length);
    }
    return { position, chunks: chunks() };
  }

  /** Applies a batch from readMetaChanges; it must continue where this replica is. */
  applyChanges(bytes: Buffer): Promise<MetaFeedPosition> {
    return this.serial(async () => {
      const d = decodeChanges(bytes);
      const at = this.applied;
      if (at === null || at.generation !== d.generation || at.seq !== d.fromSeq) {
        throw new MetaFeedError(
          'NOT_CONTIGUOUS',
          `the change batch continues ${d.generation}:${d.fromSeq}, this replica is at ${at === null ? 'no position (apply a snapshot first)' : `${at.generation}:${at.seq}`}`,
        );
      }
      const writes: Array<Promise<unknown>> = [];
      for (const c of d.changes) writes.push(this.applyOne(c));
      await Promise.all(writes);
      this.applied = { generation: d.generation, seq: d.toSeq };
      return this.applied;
    });
  }

  /**
   * Replaces the replicated state with a snapshot's: entries it does not hold are deleted. All
   * chunks are read and checked first; then every write is issued in one event turn, which
   * lmdb-js commits as one transaction (and readers in this process see the old state or the new
   * one, nothing between). The store's own feed is reset: its replicas need a snapshot too.
   */
  applySnapshot(chunks: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<MetaFeedPosition> {
    return this.serial(async () => {
      const offsets = new Map<string, { group: string; topic: string; queueId: number; offset: number }>();
      const topics = new Map<string, TopicConfig>();
      const metas = new Map<string, { namespace: string; key: string; value: Buffer }>();
      let generation = '';
      let seq = 0;
      let next = 0;
      let last = false;
      for await (const b of chunks) {
        if (last) throw new MetaFeedError('DAMAGED', 'meta snapshot: a chunk after the last one');
        const c = decodeSnapshotChunk(b);
        if (next === 0) {
          generation = c.generation;
          seq = c.seq;
        } else if (c.generation !== generation || c.seq !== seq) {
          throw new MetaFeedError('DAMAGED', `meta snapshot: chunk ${c.chunkIndex} is of snapshot ${c.generation}:${c.seq}, not ${generation}:${seq}`);
        }
        if (c.chunkIndex !== next) throw new MetaFeedError('DAMAGED', `meta snapshot: chunk ${c.chunkIndex} where chunk ${next} was due`);
        next++;
        last = c.last;
        for (const ch of c.changes) {
          let fresh: boolean;
          if (ch.kind === 'offset') {
            const k = offsetKey(ch.group, ch.topic, ch.queueId);
            fresh = !offsets.has(k);
            offsets.set(k, ch);
          } else if (ch.kind === 'topic') {
            fresh = !topics.has(ch.config.topicName);
            topics.set(ch.config.topicName, ch.config);
          } else if (ch.kind === 'meta') {
            const k = metaKey(ch.namespace, ch.key);
            fresh = !metas.has(k);
            metas.set(k, ch);
          } else fresh = false;
          if (!fresh) throw new MetaFeedError('DAMAGED', `meta snapshot: a duplicate ${ch.kind} entry in chunk ${c.chunkIndex}`);
        }
      }
      if (!last)
        throw new MetaFeedError('DAMAGED', next === 0 ? 'meta snapshot: no chunks' : `meta snapshot: ended after chunk ${next - 1}, before its last chunk`);
      await Promise.all(this.replace(offsets, topics, metas));
      this.applied = { generation, seq };
      return this.applied;
    });
  }

  /** Issues the writes that make the state equal the staged one, all in this event turn. */
  private replace(
    offsets: Map<string, { group: string; topic: string; queueId: number; offset: number }>,
    topics: Map<string, TopicConfig>,
    metas: Map<string, { namespace: string; key: string; value: Buffer }>,
  ): Array<Promise<unknown>> {
    const svc = this.svc;
    const writes: Array<Promise<unknown>> = [];
    this.feed.suspended = true;
    try {
      for (const o of [...svc.allOffsets()]) {
        if (!offsets.has(offsetKey(o.group, o.topic, o.queueId))) writes.push(svc.removeOffset(o.group, o.topic, o.queueId));
      }
      for (const o of offsets.values()) {
        if (svc.getConsumerOffset(o.group, o.topic, o.queueId) !== o.offset) writes.push(svc.setOffsetNow(o.group, o.topic, o.queueId, o.offset));
      }
      for (const t of svc.listTopicConfigs()) if (!topics.has(t.topicName)) writes.push(svc.meta.deleteTopic(t.topicName));
      for (const t of topics.values()) {
        const had = svc.getTopicConfig(t.topicName);
        if (had === undefined || JSON.stringify(had) !== JSON.stringify(t)) writes.push(svc.meta.putTopic(t));
      }
      for (const e of [...svc.kv.scanReplicated()]) {
        const k = metaKey(e.namespace, e.key);
        const want = metas.get(k);
        if (want === undefined) writes.push(svc.kv.delete(e.namespace, e.key));
        else {
          metas.delete(k);
          if (!want.value.equals(e.value)) writes.push(svc.kv.put(e.namespace, e.key, want.value));
        }
      }
      for (const e of metas.values()) writes.push(svc.kv.put(e.namespace, e.key, e.value));
    } finally {
      this.feed.suspended = false;
    }
    this.feed.reset();
    return writes;
  }

  private applyOne(c: MetaChange): Promise<unknown> {
    switch (c.kind) {
      case 'offset':
        return this.svc.applyOffset(c.group, c.topic, c.queueId, c.offset);
      case 'offset-delete':
        return this.svc.removeOffset(c.group, c.topic, c.queueId);
      case 'topic':
        return this.svc.meta.putTopic(c.config);
      case 'topic-delete':
        return this.svc.meta.deleteTopic(c.topic);
      case 'meta':
        return this.svc.kv.put(c.namespace, c.key, c.value);
      case 'meta-delete':
        return this.svc.kv.delete(c.namespace, c.key);
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }
}
