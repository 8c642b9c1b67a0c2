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
  wakers: Set<Waker>;
  live: Map<Waker, LiveReader>;
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
      const wakers = new Set<Waker>();
      const off = this.store.onArrival(lmq, 0, (max) => {
        for (const w of wakers) w(max);
      });
      e = { wakers, live: new Map(), off };
      this.byLmq.set(lmq, e);
    }
    e.wakers.add(wake);
    if (live) e.live.set(wake, live);
  }

  remove(lmq: string, wake: Waker): void {
    const e = this.byLmq.get(lmq);
    if (!e) return;
    e.wakers.delete(wake);
    e.live.delete(wake);
    if (e.wakers.size === 0) {
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

  /** The live readers of `lmq`, or undefined: lets a caller build the message only when someone takes it. */
  liveReaders(lmq: string): ReadonlyMap<Waker, LiveReader> | undefined {
    const e = this.byLmq.get(lmq);
    return e !== undefined && e.live.size > 0 ? e.live : undefined;
  }

  /** offer, to readers from liveReaders. */
  static offerTo(readers: ReadonlyMap<Waker, LiveReader>, m: LiveMessage): number {
    let delivered = 0;
    for (const live of readers.values()) if (live(m)) delivered++;
    return delivered;
  }

  /** Online readers of an LMQ. */
  readers(lmq: string): number {
    return this.byLmq.get(lmq)?.wakers.size ?? 0;
  }

  /** Is anyone reading `lmq` from memory? */
  hasLiveReaders(lmq: string): boolean {
    const e = this.byLmq.get(lmq);
    return e !== undefined && e.live.size > 0;
  }

  /** LMQs with online readers (metrics). */
  get size(): number {
    return this.byLmq.size;
  }
}
