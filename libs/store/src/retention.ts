import fs from 'node:fs';
import { isLmqName } from '@apogee/message';
import type { CommitLog } from './commit-log.js';
import type { ResolvedStoreConfig } from './config.js';
import { StoreUnavailableError } from './errors.js';
import { KEY_BUCKET_MS, type KeyIndex } from './key-index.js';
import type { Logger } from './logger.js';
import type { Metadata } from './metadata.js';
import type { QueueIndex } from './queue-index.js';

/** Above this disk usage the store refuses puts (nothing more can be deleted to make room). */
const DISK_FULL_RATIO = 0.95;
const SWEEP_CHUNK = 10_000;
const KEY_EXPIRE_BUDGET = 50_000;

/**
 * Periodic housekeeping on one timer: deletes whole CommitLog segments past the retention age or
 * while the disk is fuller than diskMaxUsedRatio (queue min offsets then move forward lazily),
 * drops expired key-index buckets, and sweeps queues a chunk per run to remove LMQs idle past
 * their TTL together with their consumer offsets.
 */
export class Retention {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private diskFull: string | null = null;
  private sweepAfter: Buffer | null = null;
  private oldestKeptTime = 0;

  constructor(
    private readonly cfg: ResolvedStoreConfig,
    private readonly commitLog: CommitLog,
    private readonly index: QueueIndex,
    private readonly keyIndex: KeyIndex,
    private readonly meta: Metadata,
    private readonly log: Logger,
    /** The lowest commit-log offset an owner needs kept (MessageStore.setRetentionFloor), or null. */
    private readonly floor: () => number | null = () => null,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.runOnce(), this.cfg.cleanIntervalMs);
    this.timer.unref();
    void this.runOnce();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Why puts are refused (disk full), or null. */
  refusal(): StoreUnavailableError | null {
    return this.diskFull ? new StoreUnavailableError('DISK_FULL', this.diskFull) : null;
  }

  runOnce(): Promise<void> {
    if (!this.running) {
      this.running = this.run()
        .catch((err) => this.log.error({ err }, 'retention: run failed'))
        .finally(() => (this.running = null));
    }
    return this.running;
  }

  private async run(): Promise<void> {
    await this.deleteSegments();
    if (this.oldestKeptTime > 0) this.keyIndex.expire(this.oldestKeptTime - KEY_BUCKET_MS, KEY_EXPIRE_BUDGET);
    if (this.cfg.lmqIdleTtlMs > 0) await this.sweepLmqs();
  }

  private async diskUsage(): Promise<number> {
    const s = await fs.promises.statfs(this.cfg.dataDir);
    return s.blocks > 0 ? 1 - s.bavail / s.blocks : 0;
  }

  private async deleteSegments(): Promise<void> {
    const now = this.cfg.now();
    let usage = await this.diskUsage();
    const segs = this.commitLog.segments;
    // Only whole segments already written out, never the one being appended.
    while (segs.segments.length > 1) {
      const first = segs.first()!;
      if (first.base + this.cfg.segmentSize > this.commitLog.writtenPos) break;
      const mtime = (await fs.promises.stat(first.file)).mtimeMs;
      const floor = this.floor();
      const pinned = floor !== null && first.base + this.cfg.segmentSize > floor;
      const expired = now - mtime > this.cfg.retentionMs && !pinned;
      const overDisk = usage > this.cfg.diskMaxUsedRatio;
      if (!expired && !overDisk) {
        this.oldestKeptTime = mtime;
        break;
      }
      if (pinned)
        this.log.error(
          { segment: first.base, floor, usage },
          'retention: disk pressure deletes a segment below a retention floor (pending timers in it are lost)',
        );
      await segs.removeFirst();
      this.oldestKeptTime = mtime;
      this.log.info({ segment: first.base, reason: expired ? 'age' : 'disk', usage }, 'retention: deleted commit log segment');
      if (overDisk) usage = await this.diskUsage();
    }
    if (usage > DISK_FULL_RATIO) {
      if (!this.diskFull) this.log.error({ usage }, 'retention: disk full, refusing writes');
      this.diskFull = `disk ${(usage * 100).toFixed(1)}% full (limit ${DISK_FULL_RATIO * 100}%) and no commit log segment is left to delete`;
    } else {
      this.diskFull = null;
    }
  }

  /** Removes LMQs idle past the TTL, one chunk of queues per run. */
  private async sweepLmqs(): Promise<void> {
    const now = this.cfg.now();
    const chunk = this.index.metaChunk(this.sweepAfter, SWEEP_CHUNK);
    if (chunk.length === 0) {
      this.sweepAfter = null;
      return;
    }
    this.sweepAfter = chunk[chunk.length - 1]!.key;
    const removals: Array<Promise<unknown>> = [];
    for (const m of chunk) {
      if (!isLmqName(m.topic)) continue;
      const live = this.index.cached(m.topic, m.queueId);
      const lastActive = live ? live.lastActive : m.lastActive;
      if (now - lastActive <= this.cfg.lmqIdleTtlMs) continue;
      if (live && (live.persisted !== live.next || this.index.hasListeners(live))) continue;
      removals.push(this.index.remove(m, (qid) => this.meta.deleteQueueOffsets(qid)));
    }
    if (removals.length > 0) {
      await Promise.all(removals);
      this.log.info({ removed: removals.length }, 'retention: removed idle LMQs');
    }
  }
}
