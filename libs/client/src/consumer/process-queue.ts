import type { ReceivedMessage } from '../message.js';
import type { MessageQueue } from '../message-queue.js';

/** How long a broker lock counts as held without renewal (REBALANCE_LOCK_MAX_LIVE_TIME). */
export const LOCK_MAX_LIVE_MS = 30_000;

/**
 * Messages pulled from one queue and not yet consumed. The committable offset is the lowest
 * unconsumed offset, or — when nothing is pending — the next offset to pull, so that messages
 * filtered out by tag do not hold the offset back.
 */
export class ProcessQueue {
  /** Set when the queue is rebalanced away or the consumer stops; its loops end. */
  dropped = false;
  /** Orderly: whether this client holds the broker lock. */
  locked = false;
  lastLockTime = 0;
  /** Offset of the next pull. */
  nextOffset: number;
  /** Broker id the broker suggested pulling from next (0 = master). */
  suggestedBrokerId = 0;
  // Keys are inserted in increasing offset order (pulls are sequential), so the first key is the lowest.
  private msgs = new Map<number, ReceivedMessage>();
  private maxKey = -1;
  private pulledUpTo = -1;

  constructor(
    readonly queue: MessageQueue,
    startOffset: number,
  ) {
    this.nextOffset = startOffset;
  }

  get count(): number {
    return this.msgs.size;
  }

  /** Adds pulled messages; `nextBeginOffset` is the broker's next offset after them. */
  put(msgs: readonly ReceivedMessage[], nextBeginOffset: number): void {
    let sorted = true;
    for (const m of msgs) {
      if (this.msgs.has(m.queueOffset)) continue;
      if (m.queueOffset < this.maxKey) sorted = false;
      else this.maxKey = m.queueOffset;
      this.msgs.set(m.queueOffset, m);
    }
    // Only after an offset reset can a lower offset arrive; keep the map in offset order.
    if (!sorted) this.msgs = new Map([...this.msgs].sort((a, b) => a[0] - b[0]));
    this.advance(nextBeginOffset);
  }

  /** Records that everything before `nextBeginOffset` has been pulled (or filtered out). */
  advance(nextBeginOffset: number): void {
    if (nextBeginOffset > this.pulledUpTo) this.pulledUpTo = nextBeginOffset;
  }

  /** Removes consumed messages; returns the committable offset afterwards (−1 if unknown). */
  remove(msgs: readonly ReceivedMessage[]): number {
    for (const m of msgs) this.msgs.delete(m.queueOffset);
    return this.committableOffset();
  }

  committableOffset(): number {
    for (const first of this.msgs.keys()) return first;
    return this.pulledUpTo;
  }

  /** Orderly: the first `n` pending messages, in offset order (they stay until removed). */
  head(n: number): ReceivedMessage[] {
    const out: ReceivedMessage[] = [];
    for (const m of this.msgs.values()) {
      if (out.length >= n) break;
      out.push(m);
    }
    return out;
  }

  /** Orderly: lock held and not expired. */
  lockValid(now: number = Date.now()): boolean {
    return this.locked && now - this.lastLockTime < LOCK_MAX_LIVE_MS;
  }
}
