import type { Appended } from '../engine-types.js';

/** What confirms appended messages (the engine; the store has the same call). */
export interface Confirmations {
  whenConfirmed(appended: Appended): Promise<void>;
}

interface Batch<T> {
  last: Appended;
  items: T[];
}

/**
 * Waits for store confirmation of appended publishes in batches: the items one key (a
 * connection) adds during one task share a single `whenConfirmed` of the last of them — the store
 * confirms in append order — instead of a promise per message.
 */
export class ConfirmBatches<K, T> {
  private readonly open = new Map<K, Batch<T>>();

  /**
   * `onStored` / `onFailed` report each item; an exception one of them throws goes to `onError`
   * and the batch's other items are still reported.
   */
  constructor(
    private readonly store: Confirmations,
    private readonly onStored: (key: K, item: T) => void,
    private readonly onFailed: (key: K, item: T, err: unknown) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Adds an item appended as `r`; it is reported once r (and everything before it) is confirmed. */
  add(key: K, item: T, r: Appended): void {
    let b = this.open.get(key);
    if (b === undefined) {
      if (this.open.size === 0) queueMicrotask(this.close);
      this.open.set(key, (b = { last: r, items: [] }));
    }
    b.last = r;
    b.items.push(item);
  }

  /** Ends the task's batches: one wait each. */
  private readonly close = (): void => {
    for (const [key, b] of this.open) {
      this.store.whenConfirmed(b.last).then(
        () => this.report(key, b, null),
        (err: unknown) => this.report(key, b, err ?? new Error('store write failed')),
      );
    }
    this.open.clear();
  };

  private report(key: K, b: Batch<T>, err: unknown): void {
    for (const item of b.items) {
      try {
        if (err === null) this.onStored(key, item);
        else this.onFailed(key, item, err);
      } catch (thrown) {
        this.onError(thrown);
      }
    }
    // Let go of the items now: the batch itself can outlive this call by a young-generation GC or
    // two, and would drag every item it holds into the old generation.
    b.items.length = 0;
  }
}
