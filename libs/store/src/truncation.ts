import fs from 'node:fs';
import path from 'node:path';
import { MessageMagic, checkRecord } from '@apogee/message';
import { removeFileDurably, writeFileAtomic } from './atomic-file.js';
import type { CommitLog } from './commit-log.js';
import type { EpochHistory } from './epochs.js';
import { StoreCorruptError } from './errors.js';
import type { IndexPersistence } from './index-persistence.js';
import type { KeyIndex } from './key-index.js';
import type { Logger } from './logger.js';
import type { QueueIndex } from './queue-index.js';
import { RecordFieldReader } from './record-fields.js';
import type { PendingCut } from './recovery.js';
import { ReplicationError } from './replication.js';
import type { Retention } from './retention.js';

/** The intent of a truncation in progress: `{offset, keysFrom}`, present from before the first cut until the last step. */
export const TRUNCATION_FILE = 'truncation.json';

/** Where a test may stop a truncation (throw, or SIGKILL the process): after each durable step. */
export type TruncationStep = 'intent' | 'segment' | 'log' | 'indexes' | 'epochs';

/** The pending truncation of a data directory, or null. Throws StoreCorruptError, naming the file, for a damaged one. */
export function readPendingCut(dataDir: string): PendingCut | null {
  const file = path.join(dataDir, TRUNCATION_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = null;
  }
  const { offset, keysFrom } = (raw ?? {}) as Record<string, unknown>;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0 || typeof keysFrom !== 'number' || !Number.isSafeInteger(keysFrom))
    throw new StoreCorruptError(`${file}: not a truncation intent ({offset, keysFrom}); an interrupted truncation cannot be finished`);
  return { offset, keysFrom };
}

/** Removes the intent once recovery has finished its truncation. */
export function clearPendingCut(dataDir: string): Promise<void> {
  return removeFileDurably(path.join(dataDir, TRUNCATION_FILE));
}

/**
 * A replica's truncation of its divergent tail (docs/ha-design.md, decision 3): the commit log
 * back to a record boundary, and the queue, LMQ and key indexes, the dispatch marker and the
 * epoch history with it, as recovery cuts a torn tail.
 *
 * Crash safety is by an intent file, not by the order of the steps alone: the steps are
 * 1. drain the log, check `offset` is a record boundary, pause index persistence and retention,
 *    persist the index to the current end (so every queue has a row the cut walks);
 * 2. write `truncation.json` = {offset, keysFrom} atomically;
 * 3. cut the segment holding `offset` there (synced), delete the later segments newest first;
 * 4. cut the queue/LMQ indexes (QueueIndex.truncateAbove) and key rows, persist them with the
 *    dispatch marker at `offset`;
 * 5. drop the epochs starting at or above `offset`;
 * 6. remove the intent.
 * A store opened with the intent present (killed anywhere in 3–6) recovers with the log ending at
 * `offset` at the latest and cuts the indexes and epochs there whatever the marker says, then
 * removes the intent (message-store.ts, recovery.ts). A failure after step 2 leaves writes
 * refused until the store is reopened, which finishes the job.
 *
 * Only while nothing else writes: puts and replicated chunks are refused for its duration.
 * Consumer offsets are left as they are, as recovery leaves them: one above its queue's new end
 * reads as OFFSET_OVERFLOW_BADLY, which the pull path answers with the queue's max offset.
 */
export class Truncation {
  /** Called after each durable step (tests: a throw or a SIGKILL there simulates a crash). */
  hook: (step: TruncationStep) => void = () => {};
  private running: Promise<void> | null = null;

  constructor(
    private readonly dataDir: string,
    private readonly segmentSize: number,
    private readonly commitLog: CommitLog,
    private readonly index: QueueIndex,
    private readonly keyIndex: KeyIndex,
    private readonly persistence: IndexPersistence,
    private readonly retention: Retention,
    private readonly epochs: EpochHistory,
    private readonly log: Logger,
  ) {}

  /** Resolves once no truncation runs (close waits for one). */
  async settled(): Promise<void> {
    await this.running?.catch(() => {});
  }

  run(offset: number): Promise<void> {
    const log = this.commitLog;
    if (log.truncating !== null) return Promise.reject(new ReplicationError(`cannot truncate: ${log.truncating}`));
    const end = log.appendPos;
    if (!Number.isSafeInteger(offset) || offset < 0) return Promise.reject(new ReplicationError(`cannot truncate to ${offset}: not a log offset`));
    if (offset > end) return Promise.reject(new ReplicationError(`cannot truncate to ${offset}: the commit log ends at ${end}`));
    if (offset < log.minPos) return Promise.reject(new ReplicationError(`cannot truncate to ${offset}: below the oldest retained offset ${log.minPos}`));
    if (offset === end) return Promise.resolve(); // nothing above it
    // Set in this turn, before any await: no put or replicated chunk is appended from here on.
    log.truncating = `the commit log is being truncated to ${offset} (replication); writes are refused until it is done`;
    this.running = this.cut(offset, end);
    return this.running;
  }

  private async cut(offset: number, end: number): Promise<void> {
    const log = this.commitLog;
    let paused = false;
    let committed = false;
    try {
      await log.drain();
      const keysFrom = await this.firstRecordTime(offset, end);
      await this.retention.stop();
      await this.persistence.pause();
      paused = true;
      await this.persistence.flushTo(end);
      await writeFileAtomic(path.join(this.dataDir, TRUNCATION_FILE), `${JSON.stringify({ offset, keysFrom })}\n`);
      committed = true;
      this.hook('intent');
      await log.cutTo(offset, () => this.hook('segment'));
      this.hook('log');
      const queuesFixed = this.index.truncateAbove(offset);
      const keysDropped = this.keyIndex.truncateAbove(offset, keysFrom);
      await this.persistence.flushTo(offset);
      this.hook('indexes');
      await this.epochs.dropFrom(offset);
      this.hook('epochs');
      await clearPendingCut(this.dataDir);
      this.log.warn({ from: end, to: offset, queuesFixed, keysDropped }, 'store: commit log truncated (replication)');
    } catch (err) {
      if (committed) {
        log.truncating = `a truncation of the commit log to ${offset} failed midway (${(err as Error).message}); writes are refused: reopen the store to finish it`;
        this.log.error({ err, offset }, 'store: truncation failed midway; reopen the store to finish it');
        throw err;
      }
      log.truncating = null;
      if (paused) this.resume(log.flushedPos);
      throw err;
    }
    log.truncating = null;
    this.resume(offset);
  }

  private resume(bound: number): void {
    this.persistence.start(bound);
    this.retention.start();
  }

  /**
   * Checks that `offset` (below `end`) is a record boundary — a valid record whose stored position
   * is `offset`, or an end-of-segment filler — and returns the store time of the first record at
   * or after it (0 when only a filler follows): where the key rows of the cut records start.
   */
  private async firstRecordTime(offset: number, end: number): Promise<number> {
    const log = this.commitLog;
    const read = async (pos: number, len: number) => log.readHot(pos, len) ?? (await log.readCold(pos, len));
    const notBoundary = (why: string) => new ReplicationError(`cannot truncate to ${offset}: not a record boundary (${why})`);
    let pos = offset;
    while (pos < end) {
      const head = await read(pos, 8);
      if (head === null) throw notBoundary(`nothing readable at ${pos}`);
      const size = head.readInt32BE(0);
      if (head.readInt32BE(4) === MessageMagic.BLANK) {
        const segEnd = log.segmentBase(pos) + this.segmentSize;
        if (size !== segEnd - pos) throw notBoundary(`a filler at ${pos} that does not reach the segment end`);
        pos = segEnd;
        continue;
      }
      if (size <= 0 || size > log.maxRecordSize || pos + size > end) throw notBoundary(`no record of a sound size at ${pos}`);
      const buf = await read(pos, size);
      const check = buf && checkRecord(buf, 0, size, { expectedPhysicalOffset: pos });
      if (!buf || !check || check.kind !== 'record' || check.size !== size)
        throw notBoundary(check?.kind === 'corrupt' ? check.reason : `no valid record at ${pos}`);
      return new RecordFieldReader().read(buf, 0).storeTimestamp;
    }
    return 0;
  }
}
