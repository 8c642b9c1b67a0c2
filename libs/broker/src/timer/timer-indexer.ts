import { TIMER_CONSUMER_GROUP, TIMER_TOPIC, formatError } from '@apogee/message';
import type { MessageStore } from '@apogee/store';
import type { Logger } from '../logger.js';
import type { BrokerMetrics } from '../metrics.js';
import { TIMER_NAMESPACE, timerKey, timerValue } from './timer-key.js';
import { timerRecordFields } from './timer-record.js';

/** Timer-topic messages indexed per pass (one LMDB write batch, then one offset commit). */
const INDEX_BATCH = 1024;
const INDEX_BATCH_BYTES = 8 * 1024 * 1024;

/**
 * Turns the timer topic (queue 0, the durable log of pending timers) into index rows: one
 * metadata row per record, keyed by due time (see timer-key.ts). Progress is the consumer offset
 * of TIMER_CONSUMER_GROUP, committed only after a batch's rows are durable; a crash re-indexes
 * the batch, and writing the same key again is harmless. A rolled copy (TIMER_ORIGIN) replaces
 * its origin's row, or is dropped when that row is gone (fired or recalled meanwhile).
 */
export class TimerIndexer {
  /** Next timer-queue offset to index. */
  offset = 0;
  /**
   * Commit-log offset of the first record whose row may be written but whose offset commit is
   * not durable yet (Infinity when none). The firing loop leaves such rows alone: fired and
   * deleted, then indexed again after a crash, they would fire twice.
   */
  uncommittedFrom = 0;
  private unsubscribe: (() => void) | null = null;
  private running = false;
  private rerun = false;
  private stopped = true;
  private failures = 0;
  private retry: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private readonly waiters: Array<{ offset: number; resolve: () => void }> = [];

  constructor(
    private readonly store: MessageStore,
    /**
     * Called whenever uncommittedFrom moves on: after each durable batch with the earliest due
     * time indexed in it, and with null when the indexer caught up with nothing new.
     */
    private readonly onIndexed: (earliestDueMs: number | null) => void,
    /** Keys the firing loop holds right now: a rolled copy must not replace one of them. */
    private readonly isFiring: (key: string) => boolean,
    private readonly metrics: BrokerMetrics,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.stopped = false;
    // Until the first pass has looked, rows of a batch cut short by a crash may be in the index.
    this.uncommittedFrom = 0;
    this.offset = this.store.getConsumerOffset(TIMER_CONSUMER_GROUP, TIMER_TOPIC, 0) ?? this.store.getMinOffset(TIMER_TOPIC, 0);
    this.unsubscribe = this.store.onArrival(TIMER_TOPIC, 0, () => this.kick());
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    await this.inFlight;
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /** Resolves once everything in the timer topic now is indexed (or the indexer stops). */
  caughtUp(): Promise<void> {
    const target = this.store.getMaxOffset(TIMER_TOPIC, 0);
    if (this.offset >= target || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ offset: target, resolve });
      this.kick();
    });
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = true;
    this.inFlight = this.run().then(
      () => {
        this.running = false;
        this.inFlight = null;
        this.failures = 0;
        if (this.rerun) {
          this.rerun = false;
          this.kick();
        }
      },
      (err: unknown) => {
        this.running = false;
        this.inFlight = null;
        this.failures++;
        this.log.warn({ err: formatError(err) }, 'broker: indexing timer messages failed; retrying');
        this.retry = setTimeout(
          () => {
            this.retry = null;
            this.kick();
          },
          Math.min(30_000, 100 * 2 ** Math.min(this.failures, 8)),
        );
        this.retry.unref();
      },
    );
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const r = await this.store.get(TIMER_TOPIC, 0, this.offset, INDEX_BATCH, { maxBytes: INDEX_BATCH_BYTES });
      if (r.status === 'NO_MESSAGE_IN_QUEUE' || r.status === 'OFFSET_OVERFLOW_ONE' || r.status === 'OFFSET_OVERFLOW_BADLY') {
        if (this.uncommittedFrom !== Number.POSITIVE_INFINITY) {
          this.uncommittedFrom = Number.POSITIVE_INFINITY;
          this.onIndexed(null);
        }
        break;
      }
      if (r.status !== 'FOUND') {
        if (r.nextOffset === this.offset) break;
        // Retention keeps what the timer service has not indexed (its retention floor): this is damage.
        this.log.error({ from: this.offset, to: r.nextOffset, status: r.status }, 'broker: timer records unreadable; those timers are lost');
        await this.advance(r.nextOffset);
        continue;
      }
      this.uncommittedFrom = Math.min(this.uncommittedFrom, r.messages[0]!.commitLogOffset);
      const writes: Array<Promise<void>> = [];
      let earliest = Number.POSITIVE_INFINITY;
      let rows = 0;
      for (const m of r.messages) {
        const f = timerRecordFields(m.record, m.storeTimestamp);
        if (f.origin !== undefined) {
          const originKey = timerKey(f.dueMs, f.origin);
          // The origin fired, was recalled or was replaced by an earlier copy: this copy is void.
          if (this.isFiring(originKey) || this.store.metaGet(TIMER_NAMESPACE, originKey) === undefined) continue;
        }
        const key = timerKey(f.dueMs, m.commitLogOffset);
        // After a crash a batch is indexed again: count only rows that are new.
        if (f.origin === undefined && this.store.metaGet(TIMER_NAMESPACE, key) === undefined) rows++;
        // The copy's row before the origin's delete (one LMDB transaction per event turn anyway):
        // torn, it would leave two rows rather than none.
        writes.push(this.store.metaPut(TIMER_NAMESPACE, key, timerValue(m.record.length)));
        if (f.origin !== undefined) writes.push(this.store.metaDelete(TIMER_NAMESPACE, timerKey(f.dueMs, f.origin)));
        if (f.dueMs < earliest) earliest = f.dueMs;
      }
      await Promise.all(writes);
      this.metrics.timersPending += rows;
      await this.advance(r.nextOffset);
      this.uncommittedFrom = Number.POSITIVE_INFINITY;
      this.onIndexed(earliest === Number.POSITIVE_INFINITY ? null : earliest);
    }
  }

  private async advance(next: number): Promise<void> {
    await this.store.commitOffset(TIMER_CONSUMER_GROUP, TIMER_TOPIC, 0, next);
    this.offset = next;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i]!.offset <= next) this.waiters.splice(i, 1)[0]!.resolve();
    }
  }
}
