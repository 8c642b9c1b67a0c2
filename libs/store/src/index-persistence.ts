import type { Checkpoint, CheckpointWriter } from './checkpoint.js';
import type { CommitLog } from './commit-log.js';
import type { ResolvedStoreConfig } from './config.js';
import type { KeyIndex } from './key-index.js';
import type { Logger } from './logger.js';
import type { QueueIndex } from './queue-index.js';

/**
 * Persists the index into LMDB on a timer — only entries of durable records (up to the
 * CommitLog's flushed position) — and writes the checkpoint after each pass.
 */
export class IndexPersistence {
  private timer: NodeJS.Timeout | null = null;
  private lastFlush: Promise<unknown> = Promise.resolve();
  private bound = -1;
  private flushedAt = 0;

  constructor(
    private readonly cfg: ResolvedStoreConfig,
    private readonly commitLog: CommitLog,
    private readonly index: QueueIndex,
    private readonly keyIndex: KeyIndex,
    private readonly checkpoint: CheckpointWriter,
    /** Where the newest store time is kept (the put path). */
    private readonly storeTime: { readonly lastStoreTimestamp: number },
    private readonly log: Logger,
  ) {}

  /** Starts the timer; the index is persisted up to `bound` already (recovery). */
  start(bound: number): void {
    this.bound = bound;
    this.timer = setInterval(() => this.tick(), this.cfg.indexFlushIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Stops the timer and waits for a pass in flight (a truncation; `start` resumes). */
  async pause(): Promise<void> {
    this.stop();
    await this.lastFlush;
  }

  /** Persists index entries of durable records, and the checkpoint. */
  private tick(): Promise<unknown> {
    const bound = this.commitLog.flushedPos;
    if (bound === this.bound) {
      // Entries of records not yet durable wait for the bound to move (under ASYNC_FLUSH it moves
      // per fsync, every asyncFlushIntervalMs): rescanning every dirty queue in between persists
      // nothing. Queue rows that changed otherwise (new queues, min offsets) go within a second.
      if (this.index.dirtyCount === 0 || Date.now() - this.flushedAt < 1000) return this.lastFlush;
    }
    this.bound = bound;
    this.flushedAt = Date.now();
    this.lastFlush = this.index
      .flush(bound, () => this.keyIndex.flushInto(bound))
      .catch((err) => {
        this.log.error({ err }, 'store: index flush failed');
      });
    this.checkpoint.write(this.state(false));
    return this.lastFlush;
  }

  /** Persists the index up to `end` (a durable position) now. */
  flushTo(end: number): Promise<unknown> {
    this.bound = end;
    return this.index.flush(end, () => this.keyIndex.flushInto(end));
  }

  /** Writes the clean-shutdown checkpoint synchronously (close, after everything is durable). */
  writeCleanCheckpoint(): void {
    this.checkpoint.writeSync(this.state(true));
  }

  private state(clean: boolean): Checkpoint {
    return {
      segmentSize: this.cfg.segmentSize,
      flushedOffset: this.commitLog.flushedPos,
      minOffset: this.commitLog.minPos,
      lastStoreTimestamp: this.storeTime.lastStoreTimestamp,
      cleanShutdown: clean,
    };
  }
}
