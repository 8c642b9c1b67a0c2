import fs from 'node:fs';
import path from 'node:path';
import type { Histogram } from '@apogee/message';
import type {
  EpochEntry,
  GetOptions,
  GetResult,
  KeyLookupHit,
  MessageStore,
  MetaFeedPosition,
  MetaSnapshot,
  PutMessage,
  PutResult,
  StoreConfig,
  StoreStats,
  TopicConfig,
} from './api.js';
import { CheckpointWriter, readCheckpoint } from './checkpoint.js';
import { CommitLog } from './commit-log.js';
import { type ResolvedStoreConfig, resolveConfig } from './config.js';
import { Dispatcher } from './dispatch.js';
import { EpochHistory } from './epochs.js';
import { IllegalPutError, StoreCorruptError, StoreUnavailableError } from './errors.js';
import { DATA_DIR_FORMAT_VERSION, INDEX_FORMAT_VERSION, checkDataDirFormat, checkIndexFormat, stampDataDirFormat, stampIndexFormat } from './format.js';
import { type IndexEnv, openIndexEnv } from './index-env.js';
import { IndexPersistence } from './index-persistence.js';
import { KeyIndex } from './key-index.js';
import { DirectoryLock } from './lock.js';
import { type Logger, stderrLogger } from './logger.js';
import { MetaFeed } from './meta-feed.js';
import { MetaFeedSync } from './meta-feed-sync.js';
import { MetaKv } from './meta-kv.js';
import { Metadata } from './metadata.js';
import { MetadataService } from './metadata-service.js';
import { PutPath } from './put-path.js';
import { QueueIndex } from './queue-index.js';
import { Reads } from './reads.js';
import { type PendingCut, recover } from './recovery.js';
import { ReplicaApplier, type ReplicaChunk, readForReplica } from './replication.js';
import { Retention } from './retention.js';
import { Truncation, type TruncationStep, clearPendingCut, readPendingCut } from './truncation.js';

/** Metadata namespace of the retention floors (setRetentionFloor), one row per owner. */
const RETENTION_FLOOR_NAMESPACE = 'store.retention-floor';

/** Opens (and recovers) a store in `config.dataDir`. */
export async function openStore(config: StoreConfig, logger: Logger = stderrLogger): Promise<MessageStore> {
  return DefaultMessageStore.open(config, logger);
}

/**
 * The store: a facade over its parts — the put path (put-path.ts: validate, append, confirm),
 * queue and LMQ dispatch (dispatch.ts), reads (reads.ts), metadata (metadata-service.ts),
 * recovery (recovery.ts), index persistence and the checkpoint (index-persistence.ts),
 * retention (retention.ts) and the on-disk format versions (format.ts). It owns their lifecycle:
 * open (format checks, recovery), start, flush and close.
 */
export class DefaultMessageStore implements MessageStore {
  private closing: Promise<void> | null = null;
  private applier: ReplicaApplier | undefined;
  private readonly confirmedListeners = new Set<(confirmedPos: number) => void>();
  private readonly puts: PutPath;
  private readonly reads: Reads;
  private readonly metadata: MetadataService;
  private readonly persistence: IndexPersistence;
  private readonly retention: Retention;
  private readonly dispatcher: Dispatcher;
  private readonly kv: MetaKv;
  /** The metadata change feed's journal (meta-feed.ts). */
  readonly metaFeed = new MetaFeed();
  private readonly metaSync: MetaFeedSync;

  private constructor(
    readonly cfg: ResolvedStoreConfig,
    private readonly lock: DirectoryLock,
    private readonly env: IndexEnv,
    readonly commitLog: CommitLog,
    readonly index: QueueIndex,
    keyIndex: KeyIndex,
    meta: Metadata,
    private readonly checkpoint: CheckpointWriter,
    log: Logger,
  ) {
    this.kv = new MetaKv(env.meta, this.metaFeed);
    meta.feed = this.metaFeed;
    this.retention = new Retention(cfg, commitLog, index, keyIndex, meta, log, () => this.retentionFloor());
    this.dispatcher = new Dispatcher(index, keyIndex);
    this.puts = new PutPath(cfg, commitLog, index, this.dispatcher, this.retention, log);
    this.reads = new Reads(cfg, commitLog, index, keyIndex, log);
    this.metadata = new MetadataService(cfg, index, meta, this.kv, this.metaFeed);
    this.metaSync = new MetaFeedSync(this.metadata, this.metaFeed);
    this.persistence = new IndexPersistence(cfg, commitLog, index, keyIndex, checkpoint, this.puts, log);
  }

  static async open(config: StoreConfig, log: Logger): Promise<DefaultMessageStore> {
    const cfg = resolveConfig(config);
    fs.mkdirSync(cfg.dataDir, { recursive: true });
    const lock = await DirectoryLock.acquire(cfg.dataDir);
    let env: IndexEnv | undefined;
    try {
      // Every format version is checked before anything is written (see format.ts).
      const dirFormat = checkDataDirFormat(cfg.dataDir);
      const cpFile = path.join(cfg.dataDir, 'checkpoint');
      const cp = readCheckpoint(cpFile);
      const logDir = path.join(cfg.dataDir, 'commitlog');
      const onDiskSegment = existingSegmentSize(logDir, cp?.segmentSize);
      const existed = cp !== null || fs.existsSync(logDir);
      env = openIndexEnv(path.join(cfg.dataDir, 'index'));
      const indexFormat = checkIndexFormat(env, path.join(cfg.dataDir, 'index'));
      if (dirFormat === undefined) {
        stampDataDirFormat(cfg.dataDir);
        if (existed) log.info({ version: DATA_DIR_FORMAT_VERSION }, 'store: data directory had no format version (older store): read as version 1, stamped');
      }
      if (indexFormat === undefined) await stampIndexFormat(env);
      if (indexFormat === undefined && existed) log.info({ version: INDEX_FORMAT_VERSION }, 'store: index had no format version: stamped');
      if (onDiskSegment !== undefined && onDiskSegment !== cfg.segmentSize) {
        log.warn({ configured: cfg.segmentSize, onDisk: onDiskSegment }, 'store: keeping the segment size the data directory was created with');
        cfg.segmentSize = onDiskSegment;
      }
      const index = new QueueIndex(env, cfg.maxCachedQueues, log, cfg.indexCacheBytes);
      const keyIndex = new KeyIndex(env);
      const meta = new Metadata(env);
      const commitLog = new CommitLog(cfg, logDir, log);
      const store = new DefaultMessageStore(cfg, lock, env, commitLog, index, keyIndex, meta, new CheckpointWriter(cpFile), log);
      const pendingCut = readPendingCut(cfg.dataDir);
      const epochs = EpochHistory.load(cfg.dataDir);
      const recovered = await recover(commitLog, index, keyIndex, store.dispatcher, cp, log, pendingCut ?? undefined);
      await store.openEpochs(epochs, recovered.end, pendingCut, keyIndex, log);
      store.puts.lastStoreTimestamp = recovered.lastStoreTimestamp;
      store.start(recovered.end);
      return store;
    } catch (err) {
      await env?.root.close().catch(() => {});
      lock.release();
      throw err;
    }
  }

  private start(indexedTo: number): void {
    this.commitLog.onConfirmed = (pos) => {
      this.index.notifyArrivals(pos);
      for (const l of this.confirmedListeners) l(pos);
    };
    this.commitLog.startFlushTimer();
    this.commitLog.startIdleShrink();
    this.persistence.start(indexedTo);
    this.retention.start();
  }

  // ---------------------------------------------------------------- replication (replication.ts)

  get commitLogEnd(): number {
    return this.commitLog.appendPos;
  }

  get commitLogConfirmed(): number {
    return this.commitLog.confirmedPos;
  }

  readForReplica(from: number, maxBytes: number): Promise<ReplicaChunk | null> {
    return readForReplica(this.commitLog, this.cfg.segmentSize, from, maxBytes);
  }

  onCommitLogConfirmed(listener: (confirmedPos: number) => void): () => void {
    this.confirmedListeners.add(listener);
    return () => this.confirmedListeners.delete(listener);
  }

  setReadOnly(reason: string | null): void {
    this.puts.readOnly = reason;
  }

  get readOnlyReason(): string | null {
    return this.puts.readOnly;
  }

  applyReplicated(from: number, bytes: Buffer): Promise<number> {
    this.applier ??= new ReplicaApplier(this.commitLog, this.dispatcher, this.puts, this.cfg.segmentSize);
    return this.applier.apply(from, bytes);
  }

  // ---------------------------------------------------------------- epochs and truncation (epochs.ts, truncation.ts)

  private epochHistory!: EpochHistory;
  private truncation!: Truncation;

  /**
   * At open, after recovery: finishes an interrupted truncation's epochs and removes its intent,
   * drops epochs past a log that lost data, and sets up truncation.
   */
  private async openEpochs(epochs: EpochHistory, end: number, pendingCut: PendingCut | null, keyIndex: KeyIndex, log: Logger): Promise<void> {
    this.epochHistory = epochs;
    if (pendingCut) await epochs.dropFrom(pendingCut.offset);
    await epochs.dropAbove(end);
    if (pendingCut) await clearPendingCut(this.cfg.dataDir);
    const { cfg, commitLog, index, persistence, retention } = this;
    this.truncation = new Truncation(cfg.dataDir, cfg.segmentSize, commitLog, index, keyIndex, persistence, retention, epochs, log);
  }

  epochs(): ReadonlyArray<EpochEntry> {
    return this.epochHistory.entries;
  }

  currentEpoch(): number {
    return this.epochHistory.current;
  }

  beginEpoch(epoch: number, startOffset: number = this.commitLog.appendPos): Promise<void> {
    return this.epochHistory.begin(epoch, startOffset, this.commitLog.appendPos);
  }

  truncateReplicated(offset: number): Promise<void> {
    if (this.closing) return Promise.reject(new StoreUnavailableError('CLOSED', 'the store is closed'));
    return this.truncation.run(offset);
  }

  /** Tests: called after each durable step of a truncation (a throw or a SIGKILL there is a crash at that point). */
  setTruncationHook(hook: (step: TruncationStep) => void): void {
    this.truncation.hook = hook;
  }

  // ---------------------------------------------------------------- put (put-path.ts)

  put(msg: PutMessage, onAppended?: (appended: PutResult) => void): Promise<PutResult> {
    return this.puts.put(msg, onAppended);
  }

  putUnconfirmed(msg: PutMessage): PutResult {
    return this.puts.putUnconfirmed(msg);
  }

  whenConfirmed(appended: PutResult): Promise<void> {
    return this.puts.whenConfirmed(appended);
  }

  get unconfirmedBytes(): number {
    return this.puts.unconfirmedBytes;
  }

  putBatch(msgs: readonly PutMessage[]): Promise<PutResult[]> {
    return this.puts.putBatch(msgs);
  }

  // ---------------------------------------------------------------- read (reads.ts)

  get(topic: string, queueId: number, offset: number, maxCount: number, opts?: GetOptions): Promise<GetResult> {
    return this.reads.get(topic, queueId, offset, maxCount, opts);
  }

  getMinOffset(topic: string, queueId: number): number {
    return this.reads.getMinOffset(topic, queueId);
  }

  getMaxOffset(topic: string, queueId: number): number {
    return this.reads.getMaxOffset(topic, queueId);
  }

  getOffsetByTime(topic: string, queueId: number, timestamp: number, boundary?: 'lower' | 'upper'): Promise<number> {
    return this.reads.getOffsetByTime(topic, queueId, timestamp, boundary);
  }

  offsetMessageId(commitLogOffset: number): string {
    return this.puts.storeHostHex + commitLogOffset.toString(16).toUpperCase().padStart(16, '0');
  }

  readRecord(commitLogOffset: number, size?: number): Promise<Buffer | null> {
    return this.reads.readRecord(commitLogOffset, size);
  }

  queryByKey(topic: string, key: string, maxNum: number, begin: number, end: number): Promise<KeyLookupHit[]> {
    return this.reads.queryByKey(topic, key, maxNum, begin, end);
  }

  queryByUniqueKey(topic: string, uniqKey: string, begin: number, end: number): Promise<KeyLookupHit[]> {
    return this.reads.queryByUniqueKey(topic, uniqKey, begin, end);
  }

  onArrival(topic: string, queueId: number, listener: (maxOffset: number) => void): () => void {
    return this.index.onArrival(topic, queueId, listener);
  }

  hasQueue(topic: string, queueId: number): boolean {
    return this.index.lookup(topic, queueId, false) !== undefined;
  }

  // ---------------------------------------------------------------- metadata (metadata-service.ts)

  commitOffset(group: string, topic: string, queueId: number, offset: number): Promise<void> {
    return this.metadata.commitOffset(group, topic, queueId, offset);
  }

  getConsumerOffset(group: string, topic: string, queueId: number): number | undefined {
    return this.metadata.getConsumerOffset(group, topic, queueId);
  }

  listConsumerOffsets(group: string): Array<{ topic: string; queueId: number; offset: number }> {
    return this.metadata.listConsumerOffsets(group);
  }

  deleteConsumerOffsets(group: string, topic?: string): Promise<void> {
    return this.metadata.deleteConsumerOffsets(group, topic);
  }

  putTopicConfig(config: TopicConfig): Promise<void> {
    return this.metadata.putTopicConfig(config);
  }

  getTopicConfig(topic: string): TopicConfig | undefined {
    return this.metadata.getTopicConfig(topic);
  }

  listTopicConfigs(): TopicConfig[] {
    return this.metadata.listTopicConfigs();
  }

  deleteTopicConfig(topic: string): Promise<void> {
    return this.metadata.deleteTopicConfig(topic);
  }

  metaPut(namespace: string, key: string, value: Buffer): Promise<void> {
    return this.metadata.kv.put(namespace, key, value);
  }

  metaGet(namespace: string, key: string): Buffer | undefined {
    return this.metadata.kv.get(namespace, key);
  }

  metaDelete(namespace: string, key: string): Promise<void> {
    return this.metadata.kv.delete(namespace, key);
  }

  metaScan(namespace: string, prefix?: string, limit?: number): Iterable<{ key: string; value: Buffer }> {
    return this.metadata.kv.scan(namespace, prefix, limit);
  }

  setRetentionFloor(owner: string, commitLogOffset: number | null): Promise<void> {
    if (commitLogOffset === null) return this.kv.delete(RETENTION_FLOOR_NAMESPACE, owner);
    if (!Number.isSafeInteger(commitLogOffset) || commitLogOffset < 0)
      throw new IllegalPutError(`retention floor ${commitLogOffset} is not a commit-log offset`);
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64BE(BigInt(commitLogOffset), 0);
    return this.kv.put(RETENTION_FLOOR_NAMESPACE, owner, b);
  }

  retentionFloor(): number | null {
    let min: number | null = null;
    for (const { value } of this.kv.scan(RETENTION_FLOOR_NAMESPACE)) {
      if (value.length !== 8) continue;
      const v = Number(value.readBigUInt64BE(0));
      if (min === null || v < min) min = v;
    }
    return min;
  }

  // ---------------------------------------------------------------- metadata feed (meta-feed.ts, meta-feed-sync.ts)

  metaFeedPosition(): MetaFeedPosition {
    return this.metaFeed.position();
  }

  readMetaChanges(generation: string, fromSeq: number, maxBytes: number): Buffer | null {
    return this.metaFeed.read(generation, fromSeq, maxBytes);
  }

  readMetaSnapshot(): MetaSnapshot {
    return this.metaSync.snapshot();
  }

  applyMetaChanges(bytes: Buffer): Promise<MetaFeedPosition> {
    return this.metaSync.applyChanges(bytes);
  }

  applyMetaSnapshot(chunks: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<MetaFeedPosition> {
    return this.metaSync.applySnapshot(chunks);
  }

  onMetaChange(listener: (position: MetaFeedPosition) => void): () => void {
    return this.metaFeed.onChange(listener);
  }

  // ---------------------------------------------------------------- lifecycle

  stats(): StoreStats & { corruptReads: number; fsyncs: number; hotTailBytes: number; cachedQueueBytes: number } {
    return {
      minCommitLogOffset: this.commitLog.minPos,
      maxCommitLogOffset: this.commitLog.appendPos,
      flushedCommitLogOffset: this.commitLog.flushedPos,
      segments: this.commitLog.segments.segments.length,
      commitLogFileBytes: this.commitLog.segments.segments.length * this.commitLog.segments.segmentSize,
      cachedQueues: this.index.cachedCount,
      putMessages: this.puts.putMessages,
      putBytes: this.puts.putBytes,
      corruptReads: this.reads.corruptReads,
      fsyncs: this.commitLog.fsyncs,
      hotTailBytes: this.commitLog.hotBytes,
      cachedQueueBytes: this.index.cachedBytes,
    };
  }

  get fsyncLatency(): Histogram {
    return this.commitLog.fsyncLatency;
  }

  async flush(): Promise<void> {
    await this.metadata.flushOffsets();
    await this.commitLog.drain();
    await this.persistence.flushTo(this.commitLog.flushedPos);
  }

  /** Runs retention and LMQ expiry once now (tests, admin). */
  runMaintenance(): Promise<void> {
    return this.retention.runOnce();
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.puts.closing = true;
      this.closing = this.doClose();
    }
    return this.closing;
  }

  private async doClose(): Promise<void> {
    await this.truncation.settled();
    this.persistence.stop();
    await this.retention.stop();
    try {
      await this.metadata.flushOffsets();
      await this.commitLog.close();
      await this.persistence.flushTo(this.commitLog.flushedPos);
      await this.env.root.flushed;
      this.persistence.writeCleanCheckpoint();
    } finally {
      await this.checkpoint.close();
      await this.env.root.close();
      this.lock.release();
    }
  }
}

/**
 * Segment size of an existing commit log: the distance between the first two segment names, else
 * the checkpoint's, else the size of a lone segment file (files are preallocated to full size).
 */
function existingSegmentSize(dir: string, fromCheckpoint: number | undefined): number | undefined {
  let names: string[];
  try {
    names = fs
      .readdirSync(dir)
      .filter((n) => /^\d{20}$/.test(n))
      .sort();
  } catch {
    return fromCheckpoint;
  }
  if (names.length >= 2) {
    const d = Number(names[1]) - Number(names[0]);
    if (d <= 0) throw new StoreCorruptError(`commit log segment names out of order in ${dir}`);
    return d;
  }
  if (fromCheckpoint !== undefined || names.length === 0) return fromCheckpoint;
  const size = fs.statSync(path.join(dir, names[0]!)).size;
  return size > 0 && size % 4096 === 0 ? size : undefined;
}
