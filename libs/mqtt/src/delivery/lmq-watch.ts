import type { MessageStore } from '@apogee/store';
import type { DecodedRecord } from './decoded-records.js';

/**
 * A message handed to the readers of an LMQ straight from the publish, before its record is
 * written: what the publisher holds in memory, and where the store put it.
 */
export interface LiveMessage {
  /** Offset of the message in this LMQ. */
  lmqOffset: number;
  commitLogOffset: number;
  record: DecodedRecord;
}

/** Called with the LMQ's new readable end when records arrive. */
export type Waker = (max: number) => void;

/** Called with a live message; returns whether this reader delivered it (it was caught up). */
export type LiveReader = (m: LiveMessage) => boolean;

interface Watched {
  /** Every online reader's waker, with its live handler when it has one (one map: memory per LMQ counts). */
  readers: Map<Waker, LiveReader | null>;
  /** Readers with a live handler. */
  live: number;
  off: () => void;
}

/**
 * One store arrival listener per LMQ with at least one online reader (not one per subscription):
 * an arrival wakes every reader of that LMQ. Readers that can take a message from memory also
 * register a live handler (see `offer`).
 */
export class LmqWatch {
  private readonly byLmq = new Map<string, Watched>();

  constructor(private readonly store: MessageStore) {}

  add(lmq: string, wake: Waker, live?: LiveReader): void {
    let e = this.byLmq.get(lmq);
    if (!e) {
      const readers = new Map<Waker, LiveReader | null>();
      const off = this.store.onArrival(lmq, 0, (max) => {
        for (const w of readers.keys()) w(max);
      });
      e = { readers, live: 0, off };
      this.byLmq.set(lmq, e);
    }
    const before = e.readers.get(wake);
    if (before) e.live--;
    e.readers.set(wake, live ?? null);
    if (live) e.live++;
  }

  remove(lmq: string, wake: Waker): void {
    const e = this.byLmq.get(lmq);
    if (!e) return;
    const live = e.readers.get(wake);
    if (!e.readers.delete(wake)) return;
    if (live) e.live--;
    if (e.readers.size === 0) {
      e.off();
      this.byLmq.delete(lmq);
    }
  }

  /**
   * Offers a just-appended message to the live readers of `lmq`; each caught-up one delivers it
   * and moves past it, the others read it from the store when its arrival wakes them. Returns
   * how many delivered it.
   */
  offer(lmq: string, m: LiveMessage): number {
    const readers = this.liveReaders(lmq);
    return readers === undefined ? 0 : LmqWatch.offerTo(readers, m);
  }

  /** The readers of `lmq` when some take messages from memory, else undefined: lets a caller build the message only when someone may take it. */
  liveReaders(lmq: string): ReadonlyMap<Waker, LiveReader | null> | undefined {
    const e = this.byLmq.get(lmq);
    return e !== undefined && e.live > 0 ? e.readers : undefined;
  }

  /** offer, to readers from liveReaders. */
  static offerTo(readers: ReadonlyMap<Waker, LiveReader | null>, m: LiveMessage): number {
    let delivered = 0;
    for (const live of readers.values()) if (live !== null && live(m)) delivered++;
    return delivered;
  }

  /** Online readers of an LMQ. */
  readers(lmq: string): number {
    return this.byLmq.get(lmq)?.readers.size ?? 0;
  }

  /** Is anyone reading `lmq` from memory? */
  hasLiveReaders(lmq: string): boolean {
    const e = this.byLmq.get(lmq);
    return e !== undefined && e.live > 0;
  }

  /** LMQs with online readers (metrics). */
  get size(): number {
    return this.byLmq.size;
  }
}
