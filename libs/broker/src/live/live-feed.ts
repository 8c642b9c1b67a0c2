import type { ArrivalSource } from './arrival-source.js';
import type { AppendedMessage } from './appended-message.js';
import { type QueueReader, QueueReaders } from './queue-readers.js';

export type { AppendedMessage } from './appended-message.js';
export type { QueueReader } from './queue-readers.js';

/** A queue's readers as the send path offers a message to them. */
export interface LiveReaders {
  offer(m: AppendedMessage): number;
}

/**
 * The one live-delivery path of every endpoint: one store arrival listener per queue (topic
 * queue or LMQ) with at least one online reader, not one per reader — an arrival wakes every
 * reader of that queue; readers that can take a message from memory (QueueReader.take) are
 * offered just-appended messages by the send path.
 */
export class LiveFeed {
  /** Queue 0 of every topic (so every LMQ) by name: the hot lookup allocates nothing. */
  private readonly queueZero = new Map<string, QueueReaders>();
  /** Queues 1… by topic, then queue id. */
  private readonly otherQueues = new Map<string, Map<number, QueueReaders>>();
  private watched = 0;
  private liveQueues = 0;

  constructor(private readonly arrivals: ArrivalSource) {}

  /** Registers an online reader of a queue (again: no change). */
  watch(topic: string, queueId: number, reader: QueueReader): void {
    let e = this.entry(topic, queueId);
    if (!e) {
      const readers = (e = new QueueReaders());
      readers.off = this.arrivals.onArrival(topic, queueId, (max) => readers.wake(max));
      this.setEntry(topic, queueId, e);
    }
    const before = e.live;
    if (e.add(reader) && before === 0 && e.live > 0) this.liveQueues++;
  }

  unwatch(topic: string, queueId: number, reader: QueueReader): void {
    const e = this.entry(topic, queueId);
    if (!e) return;
    const before = e.live;
    if (!e.delete(reader)) return;
    if (before > 0 && e.live === 0) this.liveQueues--;
    if (e.size === 0) {
      e.off?.();
      this.deleteEntry(topic, queueId);
    }
  }

  private entry(topic: string, queueId: number): QueueReaders | undefined {
    return queueId === 0 ? this.queueZero.get(topic) : this.otherQueues.get(topic)?.get(queueId);
  }

  private setEntry(topic: string, queueId: number, e: QueueReaders): void {
    this.watched++;
    if (queueId === 0) this.queueZero.set(topic, e);
    else {
      let m = this.otherQueues.get(topic);
      if (!m) this.otherQueues.set(topic, (m = new Map()));
      m.set(queueId, e);
    }
  }

  private deleteEntry(topic: string, queueId: number): void {
    this.watched--;
    if (queueId === 0) this.queueZero.delete(topic);
    else {
      const m = this.otherQueues.get(topic);
      if (m?.delete(queueId) && m.size === 0) this.otherQueues.delete(topic);
    }
  }

  /**
   * Offers a just-appended message to the live readers of one queue, `m.offset` being its offset
   * there; each caught-up reader delivers it and moves past it, the others read it from the store
   * when its arrival wakes them. Returns how many delivered it.
   */
  offer(topic: string, queueId: number, m: AppendedMessage): number {
    return this.liveReaders(topic, queueId)?.offer(m) ?? 0;
  }

  /** The readers of a queue when some take messages from memory, else undefined: lets the send path build its message only when someone may take it, with one lookup per queue. */
  liveReaders(topic: string, queueId: number): LiveReaders | undefined {
    return this.liveEntry(topic, queueId);
  }

  private liveEntry(topic: string, queueId: number): QueueReaders | undefined {
    if (this.liveQueues === 0) return undefined;
    const e = this.entry(topic, queueId);
    return e !== undefined && e.live > 0 ? e : undefined;
  }

  /** Whether any queue has a reader taking messages from memory (lets the send path skip building an offer). */
  get anyLive(): boolean {
    return this.liveQueues > 0;
  }

  /** Whether someone reads the queue from memory. */
  hasLiveReaders(topic: string, queueId: number): boolean {
    return this.liveEntry(topic, queueId) !== undefined;
  }

  /** Online readers of a queue. */
  readers(topic: string, queueId: number): number {
    return this.entry(topic, queueId)?.size ?? 0;
  }

  /** Queues with online readers (metrics). */
  get size(): number {
    return this.watched;
  }
}
