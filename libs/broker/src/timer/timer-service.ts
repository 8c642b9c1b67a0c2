import { TIMER_TOPIC, decodeOffsetMessageId, decodeRecord, formatError } from '@apogee/message';
import type { MessageStore, PutMessage } from '@apogee/store';
import type { Logger } from '../logger.js';
import type { BrokerMetrics } from '../metrics.js';
import { TimerFiring } from './timer-firing.js';
import { TimerIndexer } from './timer-indexer.js';
import { TIMER_NAMESPACE, timerKey } from './timer-key.js';
import { timerRecordFields } from './timer-record.js';
import { TimerSweeper } from './timer-sweeper.js';

type Put = (puts: PutMessage[]) => Promise<unknown>;

/** Tuning of the timer service; the defaults suit production. */
export interface TimerServiceOptions {
  /** A pending timer record older than this is rolled forward in the timer topic. Default 24 h. */
  rollAgeMs?: number;
  /** Period of the retention sweep (see TimerSweeper). Default 60 s. */
  sweepIntervalMs?: number;
  /** Timers fired per batch. Default FIRE_BATCH (1,024). */
  fireBatch?: number;
}

/** What a recall did: the timer will not fire, none was pending under that id, or it is firing right now. */
export type RecallOutcome = 'CANCELLED' | 'NOT_FOUND' | 'FIRING';

/**
 * Timer (RIP-43) messages after the send path has stored them in the timer topic: the indexer
 * turns each record into a durable index row ordered by due time, the firing loop re-puts due
 * ones to their real topic exactly once, the sweeper keeps pending records out of retention.
 * Memory does not grow with the number of pending timers: they live in the commit log and LMDB.
 */
export class TimerService {
  private readonly indexer: TimerIndexer;
  private readonly firing: TimerFiring;
  private readonly sweeper: TimerSweeper;
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<unknown> | null = null;
  private readonly sweepIntervalMs: number;

  constructor(
    private readonly store: MessageStore,
    put: Put,
    private readonly metrics: BrokerMetrics,
    private readonly log: Logger,
    now: () => number = Date.now,
    opts: TimerServiceOptions = {},
  ) {
    const isFiring = (key: string) => this.firing.firing.has(key);
    this.firing = new TimerFiring(store, put, () => this.indexer.uncommittedFrom, metrics, log, now, opts.fireBatch);
    this.indexer = new TimerIndexer(store, (due) => this.firing.indexed(due), isFiring, metrics, log);
    this.sweeper = new TimerSweeper(store, put, () => this.indexer.offset, isFiring, opts.rollAgeMs ?? 24 * 3600_000, log, now);
    this.sweepIntervalMs = opts.sweepIntervalMs ?? 60_000;
  }

  start(): void {
    this.metrics.timersPending = this.countRows();
    this.indexer.start();
    this.firing.start();
    this.sweeper.start();
    this.sweepTimer = setInterval(() => void this.sweep(), this.sweepIntervalMs);
    this.sweepTimer.unref();
  }

  /** Stops indexing, firing and sweeping; resolves once the batches in flight are done (nothing fires twice after it). */
  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    await Promise.all([this.indexer.stop(), this.firing.stop(), this.sweeping]);
  }

  /** One retention sweep now (also run every sweepIntervalMs). Resolves to the records rolled forward. */
  sweep(): Promise<number> {
    const run = (this.sweeping ?? Promise.resolve()).then(() =>
      this.sweeper.sweep().catch((err: unknown) => {
        this.log.warn({ err: formatError(err) }, 'broker: timer retention sweep failed');
        return 0;
      }),
    );
    this.sweeping = run;
    return run;
  }

  /** Resolves once every record in the timer topic now has its index row. */
  caughtUp(): Promise<void> {
    return this.indexer.caughtUp();
  }

  /**
   * Cancels a pending timer (RocketMQ 5 RecallMessage) by its UNIQ_KEY or its offset message id
   * (as the send result gave them). A timer already firing is not stopped.
   */
  async recall(messageId: string): Promise<RecallOutcome> {
    await this.indexer.caughtUp();
    const records: Array<{ record: Buffer; offset: number; storeTimestamp: number }> = [];
    for (const hit of await this.store.queryByUniqueKey(TIMER_TOPIC, messageId, 0, Number.MAX_SAFE_INTEGER)) {
      records.push({ record: hit.record, offset: hit.commitLogOffset, storeTimestamp: hit.storeTimestamp });
    }
    // A UNIQ_KEY has the length of an offset id too: the offset is only tried when no key matched.
    const byOffset = records.length === 0 ? offsetOf(messageId) : null;
    if (byOffset !== null) {
      const record = await this.store.readRecord(byOffset);
      if (record !== null && decodeRecord(record).topic === TIMER_TOPIC) records.push({ record, offset: byOffset, storeTimestamp: 0 });
    }
    let outcome: RecallOutcome = 'NOT_FOUND';
    for (const r of records) {
      const key = timerKey(timerRecordFields(r.record, r.storeTimestamp).dueMs, r.offset);
      if (this.firing.firing.has(key)) {
        outcome = 'FIRING';
        continue;
      }
      if (this.store.metaGet(TIMER_NAMESPACE, key) === undefined) continue;
      await this.store.metaDelete(TIMER_NAMESPACE, key);
      this.metrics.timersPending = Math.max(0, this.metrics.timersPending - 1);
      return 'CANCELLED';
    }
    return outcome;
  }

  /** Index rows now (the pending gauge's start value): one key scan, at start only. */
  private countRows(): number {
    let n = 0;
    for (const _ of this.store.metaScan(TIMER_NAMESPACE)) n++;
    return n;
  }
}

/** The commit-log offset inside an offset message id, or null for anything else. */
function offsetOf(id: string): number | null {
  try {
    return decodeOffsetMessageId(id).commitLogOffset;
  } catch {
    return null;
  }
}
