import type { Histogram, HostAddress, TopicFilterType } from '@apogee/message';

/** Durability contract of put(). */
export type FlushMode = 'ASYNC_FLUSH' | 'SYNC_FLUSH';

/** Store configuration. Every field but dataDir has a production default. */
export interface StoreConfig {
  /** Directory holding `commitlog/`, `index/` (LMDB), `checkpoint`, `lock`. Created if missing. */
  dataDir: string;
  /** CommitLog segment size in bytes; a multiple of 4096. Default 1 GiB. */
  segmentSize?: number;
  /**
   * ASYNC_FLUSH: put() resolves once the record reached the OS (survives a process kill);
   * data is fdatasync'ed every asyncFlushIntervalMs. SYNC_FLUSH: put() resolves only after
   * fdatasync; concurrent puts share one fdatasync (group commit). Default ASYNC_FLUSH.
   */
  flushMode?: FlushMode;
  /** ASYNC_FLUSH fdatasync period. Default 500 ms. */
  asyncFlushIntervalMs?: number;
  /** Largest accepted body in bytes. Default 4 MiB. */
  maxMessageSize?: number;
  /** Store host written into every record and offset message id. Default 127.0.0.1:10911. */
  storeHost?: HostAddress;
  /**
   * Bytes of the CommitLog tail kept in memory for tailing readers. Default 32 MiB: half of the
   * default memory budget (see splitMemoryBudget).
   */
  hotTailBytes?: number;
  /** Append RocketMQ's `__CRC32#` whole-record checksum property to each record. Default true. */
  recordCrc?: boolean;
  /** Delete CommitLog segments whose newest record is older than this. Default 72 h. */
  retentionMs?: number;
  /** Delete the oldest segments while disk usage is above this ratio. Default 0.75. */
  diskMaxUsedRatio?: number;
  /** How often retention and LMQ expiry run. Default 10 s. */
  cleanIntervalMs?: number;
  /** An LMQ with no append and no offset commit for this long is removed with its consumer offsets. 0 = never. Default 0. */
  lmqIdleTtlMs?: number;
  /** Queue states kept in memory (LRU); idle queues beyond this live only in LMDB. Default 100,000. */
  maxCachedQueues?: number;
  /**
   * Bytes of queue states kept in memory (their index tail blocks included); beyond it the least
   * recently used clean ones live only in LMDB. Default 16 MiB: a quarter of the default memory
   * budget (see splitMemoryBudget).
   */
  indexCacheBytes?: number;
  /** Period of index persistence into LMDB. Default 100 ms. */
  indexFlushIntervalMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/** One message to store. */
export interface PutMessage {
  topic: string;
  queueId: number;
  /** Body as it is to be stored (compressed already if sysFlag says so). */
  body: Buffer;
  flag?: number;
  /** Message properties; INNER_MULTI_DISPATCH lists LMQs to dispatch into. */
  properties?: ReadonlyMap<string, string> | Readonly<Record<string, string>>;
  sysFlag?: number;
  bornTimestamp?: number;
  /** Treated as immutable: the store caches its encoding by object. */
  bornHost?: HostAddress;
  reconsumeTimes?: number;
  preparedTransactionOffset?: number;
}

/** What put() reports once the message is stored under the flush contract. */
export interface PutResult {
  commitLogOffset: number;
  /** Offset in the message's own (topic, queueId). */
  queueOffset: number;
  /** Record size in bytes. */
  size: number;
  storeTimestamp: number;
  /** Offset message id (store host + commit-log offset). */
  msgId: string;
  /** Offsets in each LMQ, in INNER_MULTI_DISPATCH order (empty without LMQs). */
  lmqOffsets: number[];
}

/** Filter applied while reading a queue (RocketMQ MessageFilter). */
export interface MessageFilter {
  /** Decides on the index entry alone (tags code). */
  matchByTagsCode(tagsCode: number): boolean;
  /** Optional second check on the record bytes (SQL92 on properties). */
  matchByRecord?(record: Buffer): boolean;
}

export type GetStatus =
  /** Messages returned. */
  | 'FOUND'
  /** Entries exist at the offset but none matched the filter. */
  | 'NO_MATCHED_MESSAGE'
  /** The queue is empty. */
  | 'NO_MESSAGE_IN_QUEUE'
  /** offset < min offset (data expired). */
  | 'OFFSET_TOO_SMALL'
  /** offset == max offset: nothing new yet. */
  | 'OFFSET_OVERFLOW_ONE'
  /** offset > max offset. */
  | 'OFFSET_OVERFLOW_BADLY'
  /** The entry's record is gone (deleted segment) or failed its CRC. */
  | 'OFFSET_FOUND_NULL';

/** One message returned by get(): the stored record bytes, not re-encoded. */
export interface StoredMessage {
  /** The record exactly as stored (a pull response concatenates these). */
  record: Buffer;
  /** Offset of this message in the queue that was read (an LMQ offset when reading an LMQ). */
  queueOffset: number;
  commitLogOffset: number;
  tagsCode: number;
  storeTimestamp: number;
}

export interface GetResult {
  status: GetStatus;
  messages: StoredMessage[];
  /** Where the next read of this queue should start. */
  nextOffset: number;
  minOffset: number;
  /** Next offset to be written (one past the last readable message). */
  maxOffset: number;
}

export interface GetOptions {
  /** Stop once this many record bytes are collected (at least one message is returned). Default 256 KiB. */
  maxBytes?: number;
  filter?: MessageFilter;
}

/** RocketMQ TopicConfig. */
export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicFilterType: TopicFilterType;
  topicSysFlag: number;
  order: boolean;
  attributes: Record<string, string>;
}

/** A message found by key or unique id. */
export interface KeyLookupHit {
  record: Buffer;
  commitLogOffset: number;
  storeTimestamp: number;
}

/** One entry of a store's epoch history (MessageStore.epochs). */
export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: number;
}

/** Per-queue figures, for admin and metrics. */
export interface QueueStats {
  topic: string;
  queueId: number;
  minOffset: number;
  maxOffset: number;
}

export interface StoreStats {
  /** First byte still stored in the CommitLog. */
  minCommitLogOffset: number;
  /** One past the last byte appended. */
  maxCommitLogOffset: number;
  /** One past the last byte durable on disk (fdatasync'ed). */
  flushedCommitLogOffset: number;
  segments: number;
  /** Size of the commit log's segment files on disk (each preallocated to the segment size). */
  commitLogFileBytes: number;
  cachedQueues: number;
  putMessages: number;
  putBytes: number;
}

/**
 * The store's public surface. Queues are named by (topic, queueId); an LMQ is the queue
 * (lmqName, 0). Everything here is safe to call concurrently from any number of callers.
 */
export interface MessageStore {
  // -- replication (docs/ha-design.md) --
  /** The next append position of the commit log. */
  readonly commitLogEnd: number;
  /** How far the commit log is confirmed (written, or flushed with SYNC_FLUSH). */
  readonly commitLogConfirmed: number;
  /**
   * A master's whole records from `from` (a record boundary) for a replica: confirmed ones only,
   * about `maxBytes`, up to an end-of-segment filler; empty when nothing is new, null when `from`
   * is not retained. `next` is where the following chunk starts.
   */
  readForReplica(from: number, maxBytes: number): Promise<{ bytes: Buffer; next: number } | null>;
  /** Calls `listener` each time more of the commit log is confirmed (a master's stream waits on it); returns the unsubscribe. */
  onCommitLogConfirmed(listener: (confirmedPos: number) => void): () => void;
  /**
   * A replica's append of bytes its master sent (starting at `from`, which must be this log's
   * end): whole records at the same positions, indexed as recovery indexes; resolves with the
   * new end once confirmed. Throws ReplicationError for bytes that would make the logs differ.
   */
  applyReplicated(from: number, bytes: Buffer): Promise<number>;
  // -- epochs and truncation (docs/ha-design.md, decisions 2 and 3) --
  /**
   * The epoch history (`<dataDir>/epochs.json`), oldest first: the records from each entry's
   * `startOffset` on were written in its epoch; records below the first entry are of epoch 0.
   */
  epochs(): ReadonlyArray<EpochEntry>;
  /** The newest epoch of the history, 0 when it is empty. */
  currentEpoch(): number;
  /**
   * Records, durably, that the log continues in `epoch` from `startOffset` (default: the commit-log
   * end now; otherwise a record boundary at or below it). A master calls it before it takes writes
   * in a new epoch; a replica when the first frame of a newer epoch arrives. Rejects with
   * ReplicationError an epoch not above the current one, or a start below the newest entry's.
   */
  beginEpoch(epoch: number, startOffset?: number): Promise<void>;
  /**
   * A replica's cut of its divergent tail: the commit log ends at `offset` (a record boundary at or
   * below the end, not below the oldest retained offset; else ReplicationError), the queue, LMQ and
   * key indexes lose the entries of the records cut, the epochs starting at or above `offset` are
   * dropped. Crash-safe (an interrupted truncation is finished by the next open). Only while
   * nothing else writes: puts and applyReplicated are refused while it runs. Consumer offsets are
   * left as they are (as recovery leaves them). A no-op at the end.
   */
  truncateReplicated(offset: number): Promise<void>;
  /**
   * Refuses every put (StoreUnavailableError READ_ONLY, with `reason` as its message) while the log
   * is written by replication only — a replica's — or accepts puts again with null. Reads,
   * applyReplicated and metadata writes are not affected.
   */
  setReadOnly(reason: string | null): void;
  /** Why puts are refused (setReadOnly), or null. */
  readonly readOnlyReason: string | null;
  /**
   * Stores one message; resolves per the flush mode. Rejects with a typed StoreError.
   * `onAppended` is called synchronously, before put returns, once the message has its offsets and
   * sits in the log's memory tail — not yet written, not yet visible to readers, lost if the
   * process dies before the write. Endpoints use it to hand a message they hold in memory to
   * consumers that are caught up, where delivery before the write is allowed (MQTT QoS 0/1).
   */
  put(msg: PutMessage, onAppended?: (appended: PutResult) => void): Promise<PutResult>;
  /**
   * Appends one message now, without a promise: returns its offsets, or throws a typed
   * StoreError. The message is written shortly after; until then it is invisible to readers and
   * lost if the process dies. `whenConfirmed` waits for what put would have waited for. For
   * endpoints whose per-message promise chain is a measurable cost (MQTT QoS 0/1).
   */
  putUnconfirmed(msg: PutMessage): PutResult;
  /** Resolves once a message from putUnconfirmed is stored under the flush mode (rejects if its write fails at close). */
  whenConfirmed(appended: PutResult): Promise<void>;
  /** Bytes appended but not yet confirmed (written, or flushed under SYNC_FLUSH). */
  readonly unconfirmedBytes: number;
  /** Stores messages contiguously (consecutive records); one promise for the lot. */
  putBatch(msgs: readonly PutMessage[]): Promise<PutResult[]>;
  /** Reads up to maxCount messages of a queue from `offset`. */
  get(topic: string, queueId: number, offset: number, maxCount: number, opts?: GetOptions): Promise<GetResult>;
  getMinOffset(topic: string, queueId: number): number;
  /** Next offset to be written (readable messages are below it). */
  getMaxOffset(topic: string, queueId: number): number;
  /** First offset whose store time is >= timestamp ('lower') or last offset whose store time is <= timestamp ('upper'). */
  getOffsetByTime(topic: string, queueId: number, timestamp: number, boundary?: 'lower' | 'upper'): Promise<number>;
  /** The offset message id of a commit-log offset on this store (what PutResult.msgId holds), without reading. */
  offsetMessageId(commitLogOffset: number): string;
  /** The record at a commit-log offset (view message by id); null if absent or corrupt. */
  readRecord(commitLogOffset: number, size?: number): Promise<Buffer | null>;
  /** Messages of `topic` whose KEYS contain `key`, stored within [begin, end] ms. */
  queryByKey(topic: string, key: string, maxNum: number, begin: number, end: number): Promise<KeyLookupHit[]>;
  /** Messages of `topic` with this UNIQ_KEY, stored within [begin, end] ms. */
  queryByUniqueKey(topic: string, uniqKey: string, begin: number, end: number): Promise<KeyLookupHit[]>;
  /** Calls `listener` whenever new messages become readable in the queue. Returns an unsubscribe function. */
  onArrival(topic: string, queueId: number, listener: (maxOffset: number) => void): () => void;
  /** Durable consumer offset of (group, queue). */
  commitOffset(group: string, topic: string, queueId: number, offset: number): Promise<void>;
  getConsumerOffset(group: string, topic: string, queueId: number): number | undefined;
  /** Every committed offset of a group. */
  listConsumerOffsets(group: string): Array<{ topic: string; queueId: number; offset: number }>;
  deleteConsumerOffsets(group: string, topic?: string): Promise<void>;
  putTopicConfig(config: TopicConfig): Promise<void>;
  getTopicConfig(topic: string): TopicConfig | undefined;
  listTopicConfigs(): TopicConfig[];
  deleteTopicConfig(topic: string): Promise<void>;
  /**
   * Durable metadata of endpoints (MQTT sessions, retained messages, …) by namespace and key.
   * Resolves once durable; get/scan see the value at once.
   */
  metaPut(namespace: string, key: string, value: Buffer): Promise<void>;
  metaGet(namespace: string, key: string): Buffer | undefined;
  metaDelete(namespace: string, key: string): Promise<void>;
  /** A namespace's entries whose key starts with `prefix`, in key order. */
  metaScan(namespace: string, prefix?: string, limit?: number): Iterable<{ key: string; value: Buffer }>;
  /**
   * Keeps the CommitLog from `commitLogOffset` on out of age-based retention (retentionMs) until
   * set again: durable, one floor per `owner`, the lowest counting; null removes the owner's.
   * Disk-pressure deletion (diskMaxUsedRatio) still deletes below it, and logs that it did.
   */
  setRetentionFloor(owner: string, commitLogOffset: number | null): Promise<void>;
  /** The lowest retention floor, or null when no owner has one. */
  retentionFloor(): number | null;
  // -- metadata feed (docs/ha-design.md decision 4) --
  /**
   * Where this store's metadata change feed is: `seq` numbers every durable metadata mutation
   * made through the store (consumer offsets, topic configs, meta KV but `store.local.*`);
   * `generation` is random per open, so positions of an earlier open are never mistaken for this one's.
   */
  metaFeedPosition(): MetaFeedPosition;
  /**
   * The changes after `fromSeq` of `generation`, encoded (about `maxBytes`, at least one change
   * when there is one; an empty batch when there is none), for applyMetaChanges on a replica;
   * null when the position is not in the bounded in-memory journal any more (or is of another
   * generation): the replica needs readMetaSnapshot. Consumer-offset commits to one queue
   * coalesce: a replica behind gets the latest, not each.
   */
  readMetaChanges(generation: string, fromSeq: number, maxBytes: number): Buffer | null;
  /**
   * The whole replicated metadata as of this call, as encoded chunks (read them in order, within
   * a reasonable time: the state is held in memory until then), and the feed position it is
   * consistent with: continue with readMetaChanges from there.
   */
  readMetaSnapshot(): MetaSnapshot;
  /**
   * A replica's application of its master's change batch. The batch must start where the replica
   * is (the position the last applyMetaSnapshot or applyMetaChanges resolved with); resolves with
   * the new position once durable. Damaged, truncated, oversized or misplaced bytes are refused
   * with MetaFeedError before anything is written.
   */
  applyMetaChanges(bytes: Buffer): Promise<MetaFeedPosition>;
  /**
   * Replaces the replicated metadata (entries absent from the snapshot are deleted, consumer
   * offsets included) with a master's snapshot, atomically; resolves with the snapshot's position.
   * Every chunk is checked before anything is written; a bad one is refused with MetaFeedError.
   */
  applyMetaSnapshot(chunks: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<MetaFeedPosition>;
  /** Calls `listener` (at most once per event-loop turn) after metadata changed; returns the unsubscribe. */
  onMetaChange(listener: (position: MetaFeedPosition) => void): () => void;
  // -- end of metadata feed --
  /** True if the queue has ever been written (or has offsets). */
  hasQueue(topic: string, queueId: number): boolean;
  stats(): StoreStats;
  /** Seconds of each commit-log fdatasync, call to callback (live: read it at scrape time, never observe into it). */
  readonly fsyncLatency: Histogram;
  /** Makes everything appended so far durable (fdatasync) and its index persisted. */
  flush(): Promise<void>;
  /** Flushes everything, persists indexes, releases the data directory lock. */
  close(): Promise<void>;
}

// -- metadata feed (docs/ha-design.md decision 4) --

/** A position in a store's metadata change feed. */
export interface MetaFeedPosition {
  /** Random per store open (32 hex digits). */
  generation: string;
  /** Sequence number of the last change included. */
  seq: number;
}

/** A consistent copy of a store's replicated metadata. */
export interface MetaSnapshot {
  /** The feed position the snapshot is the state at. */
  position: MetaFeedPosition;
  /** Encoded chunks, for applyMetaSnapshot, in order. */
  chunks: AsyncIterable<Buffer>;
}
