import fs from 'node:fs/promises';
import { readInt64BE, recordPositions, RecordOffset } from '@apogee/message';

/** Shortest time between two looks at the disk: scrapes in between answer the cached figures. */
export const DISK_PROBE_INTERVAL_MS = 5_000;

/** What the probe last saw; null where it could not tell (statfs failed, empty store). */
export interface DiskFigures {
  /** Bytes free for unprivileged writers on the data directory's filesystem (statfs bavail). */
  freeBytes: number | null;
  /** Size of that filesystem. */
  totalBytes: number | null;
  /** Store time (ms) of the oldest message still in the commit log. */
  oldestStoreTimestamp: number | null;
}

/** What the probe reads the store through (the Broker). */
export interface OldestRecordSource {
  storeStats(): { minCommitLogOffset: number; maxCommitLogOffset: number };
  readRecord(commitLogOffset: number): Promise<Buffer | null>;
}

/**
 * Disk figures for /metrics without blocking the event loop: the async statfs of the data
 * directory, and the store time of the first record of the oldest segment (read again only when
 * retention has moved the commit log's start), at most once per `intervalMs` whatever the scrape
 * rate; concurrent scrapes share one look.
 */
export class StoreDiskProbe {
  private figures: DiskFigures = { freeBytes: null, totalBytes: null, oldestStoreTimestamp: null };
  private lookedAt = -Infinity;
  private looking: Promise<void> | null = null;
  /** Commit-log offset whose record's store time `figures.oldestStoreTimestamp` is. */
  private oldestOffset = -1;

  constructor(
    private readonly dataDir: string,
    private readonly store: OldestRecordSource,
    private readonly intervalMs = DISK_PROBE_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The figures, refreshed first when the last look is older than the interval. Never rejects. */
  async read(): Promise<DiskFigures> {
    if (this.now() - this.lookedAt >= this.intervalMs) {
      this.looking ??= this.look().finally(() => {
        this.lookedAt = this.now();
        this.looking = null;
      });
      await this.looking;
    }
    return this.figures;
  }

  private async look(): Promise<void> {
    const next: DiskFigures = { ...this.figures };
    try {
      const st = await fs.statfs(this.dataDir);
      next.freeBytes = st.bavail * st.bsize;
      next.totalBytes = st.blocks * st.bsize;
    } catch {
      next.freeBytes = next.totalBytes = null;
    }
    const { minCommitLogOffset: min, maxCommitLogOffset: max } = this.store.storeStats();
    if (min >= max) {
      next.oldestStoreTimestamp = null;
      this.oldestOffset = -1;
    } else if (min !== this.oldestOffset) {
      next.oldestStoreTimestamp = await this.storeTimestampAt(min);
      this.oldestOffset = next.oldestStoreTimestamp === null ? -1 : min;
    }
    this.figures = next;
  }

  private async storeTimestampAt(offset: number): Promise<number | null> {
    try {
      const record = await this.store.readRecord(offset);
      if (record === null) return null;
      return readInt64BE(record, recordPositions(record.readInt32BE(RecordOffset.SYS_FLAG), 0).storeTimestamp);
    } catch {
      return null;
    }
  }
}
