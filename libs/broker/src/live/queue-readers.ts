import type { AppendedMessage } from './appended-message.js';

/**
 * An online reader of one queue. An object, not a pair of callbacks: a subscription implements it
 * with methods on its prototype, so a reader costs no closures (50,000 subscriptions of one
 * connection are 50,000 readers).
 */
export interface QueueReader {
  /** Arrivals: `max` is the queue's new readable end. */
  wake(max: number): void;
  /**
   * Offered a just-appended message (see AppendedMessage); returns whether this reader delivered
   * it. A reader without it reads every message from the store.
   */
  take?(m: AppendedMessage): boolean;
}

/**
 * The online readers of one queue. Most queues (an LMQ per MQTT filter) have a single reader, so
 * that one is held in a field and a Set is made only for a second reader: an empty Set with its
 * hash table would cost more than the reader itself.
 */
export class QueueReaders {
  private one: QueueReader | null = null;
  private many: Set<QueueReader> | null = null;
  /** Readers with a take handler. */
  live = 0;
  /** Ends the arrival listener the readers share (set by the live feed: no wrapper object per queue). */
  off: (() => void) | null = null;

  get size(): number {
    return this.many !== null ? this.many.size : this.one !== null ? 1 : 0;
  }

  has(r: QueueReader): boolean {
    return this.many !== null ? this.many.has(r) : this.one === r;
  }

  /** Adds a reader; false when it was there already. */
  add(r: QueueReader): boolean {
    if (this.has(r)) return false;
    if (this.many !== null) this.many.add(r);
    else if (this.one === null) this.one = r;
    else {
      this.many = new Set([this.one, r]);
      this.one = null;
    }
    if (r.take !== undefined) this.live++;
    return true;
  }

  /** Removes a reader; false when it was not there. */
  delete(r: QueueReader): boolean {
    if (this.many !== null) {
      // The Set stays while readers are left: a wake or offer may be iterating it.
      if (!this.many.delete(r)) return false;
      if (this.many.size === 0) this.many = null;
    } else if (this.one === r) this.one = null;
    else return false;
    if (r.take !== undefined) this.live--;
    return true;
  }

  /** Wakes every reader (a reader may leave or join meanwhile). */
  wake(max: number): void {
    if (this.many === null) this.one?.wake(max);
    else for (const r of this.many) r.wake(max);
  }

  /** Offers a message to every reader taking messages from memory; returns how many delivered it. */
  offer(m: AppendedMessage): number {
    if (this.many === null) return this.one?.take?.(m) === true ? 1 : 0;
    let delivered = 0;
    for (const r of this.many) if (r.take?.(m) === true) delivered++;
    return delivered;
  }
}
