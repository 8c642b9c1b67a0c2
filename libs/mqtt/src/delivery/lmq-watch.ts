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

/** Called with a live message; returns whether this reader delivered it (it was caught up). */
export type LiveReader = (m: LiveMessage) => boolean;

interface Watched {
  wakers: Set<() => void>;
  live: Map<() => void, LiveReader>;
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

  add(lmq: string, wake: () => void, live?: LiveReader): void {
    let e = this.byLmq.get(lmq);
    if (!e) {
      const wakers = new Set<() => void>();
      const off = this.store.onArrival(lmq, 0, () => {
        for (const w of wakers) w();
      });
      e = { wakers, live: new Map(), off };
      this.byLmq.set(lmq, e);
    }
    e.wakers.add(wake);
    if (live) e.live.set(wake, live);
  }

  remove(lmq: string, wake: () => void): void {
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
    const e = this.byLmq.get(lmq);
    if (!e || e.live.size === 0) return 0;
    let delivered = 0;
    for (const live of e.live.values()) if (live(m)) delivered++;
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
