import type { MessageStore } from '@apogee/store';

/**
 * One store arrival listener per LMQ with at least one online reader (not one per subscription):
 * an arrival wakes every reader of that LMQ.
 */
export class LmqWatch {
  private readonly byLmq = new Map<string, { wakers: Set<() => void>; off: () => void }>();

  constructor(private readonly store: MessageStore) {}

  add(lmq: string, wake: () => void): void {
    let e = this.byLmq.get(lmq);
    if (!e) {
      const wakers = new Set<() => void>();
      const off = this.store.onArrival(lmq, 0, () => {
        for (const w of wakers) w();
      });
      e = { wakers, off };
      this.byLmq.set(lmq, e);
    }
    e.wakers.add(wake);
  }

  remove(lmq: string, wake: () => void): void {
    const e = this.byLmq.get(lmq);
    if (!e) return;
    e.wakers.delete(wake);
    if (e.wakers.size === 0) {
      e.off();
      this.byLmq.delete(lmq);
    }
  }

  /** Online readers of an LMQ. */
  readers(lmq: string): number {
    return this.byLmq.get(lmq)?.wakers.size ?? 0;
  }

  /** LMQs with online readers (metrics). */
  get size(): number {
    return this.byLmq.size;
  }
}
