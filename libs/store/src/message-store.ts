import fs from 'node:fs';
import path from 'node:path';
import {
  ApogeeError,
  type CheckOptions,
  FrozenProperties,
  type HostAddress,
  MessageMagic,
  NAME_VALUE_SEPARATOR,
  PROPERTY_SEPARATOR,
  PropertyKey,
  RecordOffset,
  type RecordInput,
  TRANSIENT_PROPERTY_PREFIX,
  checkRecord,
  encodeHost,
  encodedRecordSize,
  findProperty,
  isLmqName,
  parseMultiDispatch,
  readInt64BE,
  readRecordProperties,
  recordPositions,
  validateTopicName,
  writeRecord,
} from '@apogee/message';
import type {
  GetOptions,
  GetResult,
  KeyLookupHit,
  MessageStore,
  PutMessage,
  PutResult,
  StoreConfig,
  StoreStats,
  StoredMessage,
  TopicConfig,
} from './api.js';
import { CheckpointWriter, readCheckpoint } from './checkpoint.js';
import { CommitLog } from './commit-log.js';
import { type ResolvedStoreConfig, resolveConfig } from './config.js';
import { entersQueues, indexKeysOf, lmqDispatchAllowed, tagsCodeOf } from './dispatch-rules.js';
import { IllegalPutError, MessageTooLargeError, StoreCorruptError, StoreUnavailableError } from './errors.js';
import { type IndexEnv, openIndexEnv } from './index-env.js';
import { KeyIndex } from './key-index.js';
import { DirectoryLock } from './lock.js';
import { type Logger, stderrLogger } from './logger.js';
import { Metadata } from './metadata.js';
import { MetaKv } from './meta-kv.js';
import { type EntryRef, QueueIndex, decodeQueueName, queueNameKey } from './queue-index.js';
import { ENTRY_BYTES, entryLogOffset, entrySize, entryStoreTime, entryTagsCode, writeEntry } from './queue-entry.js';
import type { QueueState } from './queue-state.js';
import { Retention } from './retention.js';

/** A parsed INNER_MULTI_DISPATCH list and, while valid, the queue states it resolved to. */
interface LmqList {
  names: string[];
  states: QueueState[] | null;
  /** QueueIndex.epoch when `states` were resolved. */
  epoch: number;
  /** Used by an earlier put (only then are `states` kept). */
  seen: boolean;
}

/** What the store reads out of a message's properties, and their serialised form. */
interface ScannedProperties {
  props: string;
  propsBytes: number;
  tags: string | undefined;
  keys: string | undefined;
  uniqKey: string | undefined;
  lmqList: string | undefined;
}

/** A put validated and ready to append (no store state touched yet). */
interface PreparedPut {
  msg: PutMessage;
  topicBytes: Buffer;
  baseProperties: string;
  /** UTF-8 bytes of baseProperties. */
  basePropertiesBytes: number;
  tags: string | undefined;
  keys: string | undefined;
  uniqKey: string | undefined;
  lmqs: LmqList | null;
  dispatched: boolean;
  bornHost: Buffer;
}

/** A PutResult whose offset message id is only built if asked for (most senders never do). */
class AppendedMessage implements PutResult {
  constructor(
    readonly commitLogOffset: number,
    readonly queueOffset: number,
    readonly size: number,
    readonly storeTimestamp: number,
    readonly lmqOffsets: number[],
    private readonly storeHostHex: string,
  ) {}

  get msgId(): string {
    return this.storeHostHex + this.commitLogOffset.toString(16).toUpperCase().padStart(16, '0');
  }

  toJSON(): PutResult {
    return { commitLogOffset: this.commitLogOffset, queueOffset: this.queueOffset, size: this.size, storeTimestamp: this.storeTimestamp, msgId: this.msgId, lmqOffsets: this.lmqOffsets };
  }
}

const DEFAULT_BORN_HOST = encodeHost({ address: '127.0.0.1', port: 0 });
const SCAN_ENTRIES = 800;
/** Characters of INNER_MULTI_DISPATCH lists kept parsed (about 2 MiB of strings). */
const LMQ_LIST_CACHE_CHARS = 1 << 20;

/** Opens (and recovers) a store in `config.dataDir`. */
export async function openStore(config: StoreConfig, logger: Logger = stderrLogger): Promise<MessageStore> {
  return DefaultMessageStore.open(config, logger);
}

export class DefaultMessageStore implements MessageStore {
  private readonly storeHost: Buffer;
  private readonly storeHostHex: string;
  private readonly topicBytes = new Map<string, Buffer>();
  /** Encoded born hosts by address object (an endpoint keeps one per connection; treated as immutable). */
  private readonly bornHosts = new WeakMap<HostAddress, Buffer>();
  private readonly metaKv: MetaKv;
  private readonly validTopics = new Set<string>();
  /** Parsed INNER_MULTI_DISPATCH lists: publishers repeat the same list per topic (bounded). */
  private readonly lmqLists = new Map<string, LmqList>();
  private lmqListChars = 0;
  /** Scratch of prepare(): reused, as puts are prepared one at a time. */
  private readonly scan: ScannedProperties = { props: '', propsBytes: 0, tags: undefined, keys: undefined, uniqKey: undefined, lmqList: undefined };
  private lastStoreTimestamp = 0;
  private scratch = Buffer.allocUnsafe(64 * 1024);
  /** The index entry of the message being appended (the same for all its queues). */
  private readonly entry = Buffer.alloc(ENTRY_BYTES);
  /** Reused bytes of the INNER_MULTI_QUEUE_OFFSET property (copied into each record). */
  private suffix = Buffer.allocUnsafe(4096);
  private readonly input: RecordInput;
  private indexTimer: NodeJS.Timeout | null = null;
  private lastIndexFlush: Promise<unknown> = Promise.resolve();
  private indexBound = -1;
  private indexFlushedAt = 0;
  private closing: Promise<void> | null = null;
  private putMessages = 0;
  private putBytes = 0;
  private corruptReads = 0;
  private readonly retention: Retention;

  private constructor(
    readonly cfg: ResolvedStoreConfig,
    private readonly lock: DirectoryLock,
    private readonly env: IndexEnv,
    readonly commitLog: CommitLog,
    readonly index: QueueIndex,
    private readonly keyIndex: KeyIndex,
    private readonly meta: Metadata,
    private readonly checkpoint: CheckpointWriter,
    private readonly log: Logger,
  ) {
    this.metaKv = new MetaKv(env.meta);
    this.storeHost = encodeHost(cfg.storeHost);
    this.storeHostHex = this.storeHost.toString('hex').toUpperCase();
    this.input = {
      topic: Buffer.alloc(0),
      queueId: 0,
      flag: 0,
      queueOffset: 0,
      physicalOffset: 0,
      sysFlag: 0,
      bornTimestamp: 0,
      bornHost: DEFAULT_BORN_HOST,
      storeTimestamp: 0,
      storeHost: this.storeHost,
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
      body: Buffer.alloc(0),
      properties: '',
    };
    this.retention = new Retention(cfg, commitLog, index, keyIndex, meta, log);
  }

  static async open(config: StoreConfig, log: Logger): Promise<DefaultMessageStore> {
    const cfg = resolveConfig(config);
    fs.mkdirSync(cfg.dataDir, { recursive: true });
    const lock = DirectoryLock.acquire(cfg.dataDir);
    let env: IndexEnv | undefined;
    try {
      const cpFile = path.join(cfg.dataDir, 'checkpoint');
      const cp = readCheckpoint(cpFile);
      const onDiskSegment = existingSegmentSize(path.join(cfg.dataDir, 'commitlog'), cp?.segmentSize);
      if (onDiskSegment !== undefined && onDiskSegment !== cfg.segmentSize) {
        log.warn({ configured: cfg.segmentSize, onDisk: onDiskSegment }, 'store: keeping the segment size the data directory was created with');
        cfg.segmentSize = onDiskSegment;
      }
      env = openIndexEnv(path.join(cfg.dataDir, 'index'));
      const index = new QueueIndex(env, cfg.maxCachedQueues, log);
      const keyIndex = new KeyIndex(env);
      const meta = new Metadata(env);
      const commitLog = new CommitLog(cfg, path.join(cfg.dataDir, 'commitlog'), log);
      const store = new DefaultMessageStore(cfg, lock, env, commitLog, index, keyIndex, meta, new CheckpointWriter(cpFile), log);
      await store.recover(cp?.flushedOffset ?? 0, cp?.minOffset ?? 0, cp?.lastStoreTimestamp ?? 0, cp?.cleanShutdown ?? false);
      store.start();
      return store;
    } catch (err) {
      await env?.root.close().catch(() => {});
      lock.release();
      throw err;
    }
  }

  // ---------------------------------------------------------------- recovery

  private async recover(cpFlushed: number, cpMin: number, cpStoreTs: number, clean: boolean): Promise<void> {
    const marker = this.index.dispatchedMarker();
    const t0 = Date.now();
    let records = 0;
    this.lastStoreTimestamp = cpStoreTs;
    // After a clean shutdown the log ends exactly at the marker. After a crash, the end may lie
    // below it only if durable data was lost (a lying or damaged disk): scan the whole segment
    // holding the older of marker and checkpoint, so a gap there cannot hide the true end.
    const trusted = clean && cpFlushed === marker;
    const from = trusted ? marker : this.commitLog.segmentBase(Math.min(marker, cpFlushed || marker));
    await this.commitLog.recover(from, marker, Math.max(marker, cpFlushed, cpMin), (buf, off, size, pos) => {
      records++;
      this.redispatch(buf, off, size, pos);
    });
    const end = this.commitLog.appendPos;
    if (marker > end) {
      const fixed = this.index.truncateAbove(end);
      this.log.warn({ marker, end, queuesFixed: fixed }, 'store: index was ahead of the commit log (durable data lost); truncated');
    }
    await this.index.flush(end, () => this.keyIndex.flushInto(end));
    this.indexBound = end;
    this.log.info({ clean, from: marker, end, records, ms: Date.now() - t0 }, 'store: recovered');
  }

  /** Rebuilds the index entries of one recovered record, at the offsets it recorded. */
  private redispatch(buf: Buffer, off: number, size: number, pos: number): void {
    const sysFlag = buf.readInt32BE(off + RecordOffset.SYS_FLAG);
    const at = recordPositions(sysFlag, off);
    const storeTime = readInt64BE(buf, at.storeTimestamp);
    if (storeTime > this.lastStoreTimestamp) this.lastStoreTimestamp = storeTime;
    if (!entersQueues(sysFlag)) return;
    const bodyLen = buf.readInt32BE(at.bodyLength);
    let p = at.bodyLength + 4 + bodyLen;
    const v2 = buf.readInt32BE(off + RecordOffset.MAGIC) === MessageMagic.V2;
    const topicLen = v2 ? buf.readInt16BE(p) : buf[p]!;
    p += v2 ? 2 : 1;
    const topic = buf.toString('utf8', p, p + topicLen);
    const props = readRecordProperties(buf, off);
    const queueId = buf.readInt32BE(off + RecordOffset.QUEUE_ID);
    const queueOffset = readInt64BE(buf, off + RecordOffset.QUEUE_OFFSET);
    const tagsCode = tagsCodeOf(findProperty(props, PropertyKey.TAGS));
    const st = this.index.lookup(topic, queueId, true)!;
    this.index.appendAt(st, queueOffset, pos, size, tagsCode, storeTime);
    const lmqList = findProperty(props, PropertyKey.INNER_MULTI_DISPATCH);
    const lmqOffsets = findProperty(props, PropertyKey.INNER_MULTI_QUEUE_OFFSET);
    if (lmqList && lmqOffsets && lmqDispatchAllowed(topic)) {
      const names = lmqList.split(',');
      const offsets = lmqOffsets.split(',');
      for (let i = 0; i < names.length && i < offsets.length; i++) {
        const o = Number(offsets[i]);
        if (!Number.isSafeInteger(o) || o < 0) continue;
        this.index.appendAt(this.index.lookup(names[i]!, 0, true)!, o, pos, size, tagsCode, storeTime);
      }
    }
    const keys = indexKeysOf(findProperty(props, PropertyKey.KEYS), findProperty(props, PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX));
    if (keys.length > 0) this.keyIndex.add(topic, keys, storeTime, pos, size);
  }

  private start(): void {
    this.commitLog.onConfirmed = (pos) => this.index.notifyArrivals(pos);
    this.commitLog.startFlushTimer();
    this.indexTimer = setInterval(() => this.flushIndex(), this.cfg.indexFlushIntervalMs);
    this.indexTimer.unref();
    this.retention.start();
  }

  /** Persists index entries of durable records, and the checkpoint. */
  private flushIndex(): Promise<unknown> {
    const bound = this.commitLog.flushedPos;
    if (bound === this.indexBound) {
      // Entries of records not yet durable wait for the bound to move (under ASYNC_FLUSH it moves
      // per fsync, every asyncFlushIntervalMs): rescanning every dirty queue in between persists
      // nothing. Queue rows that changed otherwise (new queues, min offsets) go within a second.
      if (this.index.dirtyCount === 0 || Date.now() - this.indexFlushedAt < 1000) return this.lastIndexFlush;
    }
    this.indexBound = bound;
    this.indexFlushedAt = Date.now();
    this.lastIndexFlush = this.index.flush(bound, () => this.keyIndex.flushInto(bound)).catch((err) => {
      this.log.error({ err }, 'store: index flush failed');
    });
    this.checkpoint.write(this.checkpointState(false));
    return this.lastIndexFlush;
  }

  private checkpointState(clean: boolean) {
    return {
      segmentSize: this.cfg.segmentSize,
      flushedOffset: this.commitLog.flushedPos,
      minOffset: this.commitLog.minPos,
      lastStoreTimestamp: this.lastStoreTimestamp,
      cleanShutdown: clean,
    };
  }

  // ---------------------------------------------------------------- put

  put(msg: PutMessage, onAppended?: (appended: PutResult) => void): Promise<PutResult> {
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    let prepared: PreparedPut;
    let appended: { end: number; result: PutResult };
    try {
      prepared = this.prepare(msg);
      appended = this.append(prepared);
    } catch (err) {
      return Promise.reject(err);
    }
    if (onAppended) {
      // The message is stored whatever the callback does: its failure is the caller's, not the put's.
      try {
        onAppended(appended.result);
      } catch (err) {
        this.log.error({ err }, 'store: onAppended callback threw');
      }
    }
    return this.commitLog.whenConfirmed(appended.end, appended.result);
  }

  putUnconfirmed(msg: PutMessage): PutResult {
    const refusal = this.refusal();
    if (refusal) throw refusal;
    const result = this.append(this.prepare(msg)).result;
    this.commitLog.writeSoon();
    return result;
  }

  whenConfirmed(appended: PutResult): Promise<void> {
    return this.commitLog.whenConfirmed(appended.commitLogOffset + appended.size, undefined);
  }

  get unconfirmedBytes(): number {
    return this.commitLog.appendPos - this.commitLog.confirmedPos;
  }

  putBatch(msgs: readonly PutMessage[]): Promise<PutResult[]> {
    const refusal = this.refusal();
    if (refusal) return Promise.reject(refusal);
    if (msgs.length === 0) return Promise.resolve([]);
    const results: PutResult[] = [];
    let end = 0;
    try {
      const prepared = msgs.map((m) => this.prepare(m));
      for (const p of prepared) {
        const a = this.append(p);
        results.push(a.result);
        end = a.end;
      }
    } catch (err) {
      // Messages appended before the failing one are stored; report the error after them.
      if (results.length === 0) return Promise.reject(err);
      return this.commitLog.whenConfirmed(end, null).then(() => Promise.reject(err));
    }
    return this.commitLog.whenConfirmed(end, results);
  }

  private refusal(): ApogeeError | null {
    if (this.closing) return new StoreUnavailableError('CLOSED', 'the store is closing');
    return this.retention.refusal() ?? this.commitLog.refusal();
  }

  /** Validates a put and derives what append needs. Throws typed errors; changes nothing. */
  private prepare(msg: PutMessage): PreparedPut {
    const topic = msg.topic;
    if (!this.validTopics.has(topic)) {
      try {
        validateTopicName(topic);
      } catch (err) {
        throw new IllegalPutError((err as Error).message, err);
      }
      if (this.validTopics.size > 100_000) this.validTopics.clear();
      this.validTopics.add(topic);
    }
    const queueId = msg.queueId;
    if (!Number.isInteger(queueId) || queueId < 0 || queueId > 0x7fffffff || (queueId !== 0 && isLmqName(topic))) {
      throw new IllegalPutError(`queueId ${String(queueId)} is not valid for topic ${topic}`);
    }
    const body = msg.body;
    if (!Buffer.isBuffer(body)) throw new IllegalPutError('body must be a Buffer');
    if (body.length > this.cfg.maxMessageSize) {
      throw new MessageTooLargeError(`body is ${body.length} bytes; maxMessageSize is ${this.cfg.maxMessageSize}`);
    }
    let topicBytes = this.topicBytes.get(topic);
    if (!topicBytes) {
      topicBytes = Buffer.from(topic, 'utf8');
      if (this.topicBytes.size > 100_000) this.topicBytes.clear();
      this.topicBytes.set(topic, topicBytes);
    }
    const given = msg.properties;
    let scanned: ScannedProperties;
    if (given instanceof FrozenProperties) {
      // Immutable properties sent again and again: serialised and checked once, kept on the object.
      scanned = (given.encoded as ScannedProperties | undefined) ?? (given.encoded = { ...this.scanProperties(given) });
    } else scanned = this.scanProperties(given);
    const { props, propsBytes, tags, keys, uniqKey, lmqList } = scanned;
    const sysFlag = msg.sysFlag ?? 0;
    const dispatched = entersQueues(sysFlag);
    let lmqs: LmqList | null = null;
    if (lmqList !== undefined && dispatched && lmqDispatchAllowed(topic)) {
      lmqs = this.lmqLists.get(lmqList) ?? null;
      if (!lmqs) {
        try {
          lmqs = { names: parseMultiDispatch(lmqList), states: null, epoch: -1, seen: false };
        } catch (err) {
          throw new IllegalPutError(`INNER_MULTI_DISPATCH is malformed: ${(err as Error).message}`, err);
        }
        // Bounded by characters, not entries: lists of many long names must not pile up.
        this.lmqListChars += lmqList.length;
        if (this.lmqListChars > LMQ_LIST_CACHE_CHARS) {
          this.lmqLists.clear();
          this.lmqListChars = lmqList.length;
        }
        this.lmqLists.set(lmqList, lmqs);
      }
    }
    let bornHost = DEFAULT_BORN_HOST;
    if (msg.bornHost) {
      // Endpoints pass one address object per connection: encode it once, not per message.
      const known = this.bornHosts.get(msg.bornHost);
      if (known) bornHost = known;
      else {
        try {
          bornHost = encodeHost(msg.bornHost);
        } catch (err) {
          throw new IllegalPutError((err as Error).message, err);
        }
        this.bornHosts.set(msg.bornHost, bornHost);
      }
    }
    for (const n of [msg.flag, msg.reconsumeTimes]) {
      if (n !== undefined && (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff)) throw new IllegalPutError(`flag and reconsumeTimes must be 32-bit integers, got ${n}`);
    }
    for (const n of [msg.bornTimestamp, msg.preparedTransactionOffset]) {
      if (n !== undefined && !Number.isSafeInteger(n)) throw new IllegalPutError(`bornTimestamp and preparedTransactionOffset must be safe integers, got ${n}`);
    }
    return { msg, topicBytes, baseProperties: props, basePropertiesBytes: propsBytes, tags, keys, uniqKey, lmqs, dispatched, bornHost };
  }

  /** Serialises and checks properties into `this.scan` (reused: copy it to keep it). */
  private scanProperties(given: PutMessage['properties']): ScannedProperties {
    const scan = this.scan;
    scan.props = '';
    scan.tags = scan.keys = scan.uniqKey = scan.lmqList = undefined;
    if (given instanceof Map) {
      for (const [k, v] of given) this.scanProperty(k, v);
    } else if (given) {
      // for-in, not Object.entries: no per-property array on this hot path.
      for (const k in given) if (Object.prototype.hasOwnProperty.call(given, k)) this.scanProperty(k, (given as Record<string, string>)[k]);
    }
    scan.propsBytes = Buffer.byteLength(scan.props, 'utf8');
    return scan;
  }

  /** Adds one property to `this.scan` (the property string being built and the keys the store reads). */
  private scanProperty(k: string, v: string | undefined | null): void {
    if (v === undefined || v === null) return;
    if (typeof k !== 'string' || typeof v !== 'string') throw new IllegalPutError(`property ${String(k)} must have a string value`);
    // Offsets and the record checksum are the store's to write (Java drops a stale __CRC32# too).
    if (k === PropertyKey.INNER_MULTI_QUEUE_OFFSET || k === PropertyKey.CRC32 || k.startsWith(TRANSIENT_PROPERTY_PREFIX)) return;
    if (k.length === 0 || hasSeparator(k) || hasSeparator(v)) {
      throw new IllegalPutError(`property ${JSON.stringify(k)} is empty or contains the separator characters U+0001/U+0002`);
    }
    const scan = this.scan;
    if (k === PropertyKey.INNER_MULTI_DISPATCH) scan.lmqList = v;
    else if (k === PropertyKey.TAGS) scan.tags = v;
    else if (k === PropertyKey.KEYS) scan.keys = v;
    else if (k === PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) scan.uniqKey = v;
    scan.props += k + NAME_VALUE_SEPARATOR + v + PROPERTY_SEPARATOR;
  }

  /**
   * Appends a prepared put: assigns queue and LMQ offsets, encodes the record into the CommitLog
   * tail and adds its index entries — synchronously, so offsets are atomic per queue.
   */
  private append(p: PreparedPut): { end: number; result: PutResult } {
    const msg = p.msg;
    const st = p.dispatched ? this.index.lookup(msg.topic, msg.queueId, true)! : null;
    let lmqStates: QueueState[] | null = null;
    const properties = p.baseProperties;
    let lmqOffsets: number[] = [];
    let suffix: Buffer | undefined;
    if (p.lmqs) {
      const names = p.lmqs.names;
      const n = names.length;
      // The states resolved last time stay valid while no queue has left the cache. Only lists
      // seen before keep them: a one-off list must not pin its states in memory.
      if (p.lmqs.epoch !== this.index.epoch || !p.lmqs.states) {
        const resolved = new Array<QueueState>(n);
        for (let i = 0; i < n; i++) resolved[i] = this.index.lookup(names[i]!, 0, true)!;
        if (p.lmqs.seen) {
          p.lmqs.states = resolved;
          p.lmqs.epoch = this.index.epoch;
        }
        p.lmqs.seen = true;
        lmqStates = resolved;
      } else {
        lmqStates = p.lmqs.states;
      }
      lmqOffsets = new Array<number>(n);
      // INNER_MULTI_QUEUE_OFFSET goes into the record as bytes written here, not as a string.
      if (this.suffix.length < MULTI_QUEUE_OFFSET_PREFIX.length + n * 17 + 1) this.suffix = Buffer.allocUnsafe(MULTI_QUEUE_OFFSET_PREFIX.length + n * 17 + 1);
      const out = this.suffix;
      let at = MULTI_QUEUE_OFFSET_PREFIX.copy(out, 0);
      for (let i = 0; i < n; i++) {
        const next = lmqStates[i]!.next;
        lmqOffsets[i] = next;
        if (i > 0) out[at++] = 0x2c; // ','
        at = writeDecimal(out, at, next);
      }
      out[at++] = 2;
      suffix = out.subarray(0, at);
    }
    const now = this.cfg.now();
    const storeTimestamp = now > this.lastStoreTimestamp ? now : this.lastStoreTimestamp;
    const input = this.input;
    input.topic = p.topicBytes;
    input.queueId = msg.queueId;
    input.flag = msg.flag ?? 0;
    input.queueOffset = st ? st.next : 0;
    input.sysFlag = msg.sysFlag ?? 0;
    input.bornTimestamp = msg.bornTimestamp ?? now;
    input.bornHost = p.bornHost;
    input.storeTimestamp = storeTimestamp;
    input.reconsumeTimes = msg.reconsumeTimes ?? 0;
    input.preparedTransactionOffset = msg.preparedTransactionOffset ?? 0;
    input.body = msg.body;
    input.bodyCrc = undefined;
    input.properties = properties;
    input.propertiesSuffix = suffix;
    const propsLen = p.basePropertiesBytes + (suffix ? suffix.length : 0);
    let size: number;
    try {
      size = encodedRecordSize(input, propsLen, this.cfg.recordCrc);
    } catch (err) {
      throw new IllegalPutError((err as Error).message, err);
    }
    if (size > this.commitLog.maxRecordSize) {
      throw new MessageTooLargeError(`record of ${size} bytes does not fit a commit log segment of ${this.cfg.segmentSize} bytes`);
    }
    this.lastStoreTimestamp = storeTimestamp;
    const pos = this.commitLog.reserve(size);
    input.physicalOffset = pos;
    const target = this.commitLog.target(pos, size);
    if (target) {
      writeRecord(input, propsLen, this.cfg.recordCrc, size, target.buf, target.off);
    } else {
      if (this.scratch.length < size) this.scratch = Buffer.allocUnsafe(Math.max(size, this.scratch.length * 2));
      writeRecord(input, propsLen, this.cfg.recordCrc, size, this.scratch, 0);
      this.commitLog.copyIn(pos, this.scratch.subarray(0, size));
    }
    const entry = this.entry;
    writeEntry(entry, 0, pos, size, tagsCodeOf(p.tags), storeTimestamp);
    const queueOffset = st ? this.index.appendEncoded(st, entry, pos + size, storeTimestamp) : 0;
    if (lmqStates) for (let i = 0; i < lmqStates.length; i++) this.index.appendEncoded(lmqStates[i]!, entry, pos + size, storeTimestamp);
    if (p.keys || p.uniqKey) this.keyIndex.add(msg.topic, indexKeysOf(p.keys, p.uniqKey), storeTimestamp, pos, size);
    this.putMessages++;
    this.putBytes += size;
    const end = pos + size;
    return {
      end,
      result: new AppendedMessage(pos, queueOffset, size, storeTimestamp, lmqOffsets, this.storeHostHex),
    };
  }

  // ---------------------------------------------------------------- read

  async get(topic: string, queueId: number, offset: number, maxCount: number, opts: GetOptions = {}): Promise<GetResult> {
    const st = this.index.lookup(topic, queueId, false);
    if (!st) return { status: 'NO_MESSAGE_IN_QUEUE', messages: [], nextOffset: 0, minOffset: 0, maxOffset: 0 };
    this.index.correctMin(st, this.commitLog.minPos);
    const min = st.min;
    const max = this.index.visibleMax(st, this.commitLog.confirmedPos);
    const base = { messages: [] as StoredMessage[], minOffset: min, maxOffset: max };
    if (max === 0) return { ...base, status: 'NO_MESSAGE_IN_QUEUE', nextOffset: 0 };
    if (offset < min) return { ...base, status: 'OFFSET_TOO_SMALL', nextOffset: min };
    if (offset === max) return { ...base, status: 'OFFSET_OVERFLOW_ONE', nextOffset: offset };
    if (offset > max) return { ...base, status: 'OFFSET_OVERFLOW_BADLY', nextOffset: max };

    const maxBytes = opts.maxBytes ?? 256 * 1024;
    const filter = opts.filter;
    const refs: EntryRef[] = [];
    // A filter may skip many entries, so it scans ahead; without one, only what can be returned
    // (a reader far behind would otherwise materialise SCAN_ENTRIES entries per read).
    const scan = filter ? Math.max(maxCount, SCAN_ENTRIES) : Math.max(1, maxCount);
    this.index.entries(st, offset, Math.min(max, offset + scan), refs);
    const picked: Array<{ offset: number; logOffset: number; size: number; tagsCode: number; storeTime: number }> = [];
    let next = offset;
    let bytes = 0;
    for (let i = 0; i < refs.length; i++) {
      const r = refs[i]!;
      const size = entrySize(r.buf, r.idx);
      if (picked.length >= Math.max(1, maxCount) || (picked.length > 0 && bytes + size > maxBytes)) break;
      next = offset + i + 1;
      if (size <= 0) continue;
      const tagsCode = entryTagsCode(r.buf, r.idx);
      if (filter && !filter.matchByTagsCode(tagsCode)) continue;
      picked.push({ offset: offset + i, logOffset: entryLogOffset(r.buf, r.idx), size, tagsCode, storeTime: entryStoreTime(r.buf, r.idx) });
      bytes += size;
    }
    if (picked.length === 0) {
      return { ...base, status: refs.length > 0 ? 'NO_MATCHED_MESSAGE' : 'OFFSET_FOUND_NULL', nextOffset: refs.length > 0 ? next : offset + 1 };
    }
    const records = await this.readRecords(picked);
    const messages: StoredMessage[] = [];
    for (let i = 0; i < picked.length; i++) {
      const record = records[i];
      if (!record) continue;
      if (filter?.matchByRecord && !filter.matchByRecord(record)) continue;
      const e = picked[i]!;
      messages.push({ record, queueOffset: e.offset, commitLogOffset: e.logOffset, tagsCode: e.tagsCode, storeTimestamp: e.storeTime });
    }
    const status = messages.length > 0 ? 'FOUND' : records.some((r) => r) ? 'NO_MATCHED_MESSAGE' : 'OFFSET_FOUND_NULL';
    return { ...base, status, messages, nextOffset: next };
  }

  /**
   * Records for index entries: hot ones are slices of the in-memory tail; cold runs of adjacent
   * records are read with one pread each and verified (CRC, position) before being served.
   */
  private async readRecords(picked: ReadonlyArray<{ logOffset: number; size: number }>): Promise<Array<Buffer | null>> {
    const out: Array<Buffer | null> = new Array(picked.length).fill(null);
    const cold: number[] = [];
    for (let i = 0; i < picked.length; i++) {
      const e = picked[i]!;
      const hot = this.commitLog.readHot(e.logOffset, e.size);
      if (hot) out[i] = hot;
      else cold.push(i);
    }
    let i = 0;
    while (i < cold.length) {
      const first = picked[cold[i]!]!;
      let j = i + 1;
      let end = first.logOffset + first.size;
      const segEnd = this.commitLog.segmentBase(first.logOffset) + this.cfg.segmentSize;
      while (j < cold.length) {
        const e = picked[cold[j]!]!;
        if (e.logOffset !== end || e.logOffset + e.size > segEnd || end - first.logOffset > 1024 * 1024) break;
        end += e.size;
        j++;
      }
      let buf: Buffer | null = null;
      try {
        buf = await this.commitLog.readCold(first.logOffset, end - first.logOffset);
      } catch (err) {
        this.log.error({ err, offset: first.logOffset }, 'store: read failed');
      }
      if (buf) {
        for (let k = i; k < j; k++) {
          const e = picked[cold[k]!]!;
          const off = e.logOffset - first.logOffset;
          const check = checkRecord(buf, off, e.size, this.readCheck(e.logOffset));
          if (check.kind === 'record' && check.size === e.size) out[cold[k]!] = buf.subarray(off, off + e.size);
          else this.reportCorrupt(e.logOffset, check.kind === 'corrupt' ? check.reason : `expected a record of ${e.size} bytes`);
        }
      }
      i = j;
    }
    return out;
  }

  /** Checks for records read from disk; the whole-record CRC covers the body, so one CRC pass suffices. */
  private readCheck(logOffset: number): CheckOptions {
    return this.cfg.recordCrc ? { expectedPhysicalOffset: logOffset, requireRecordCrc: true, bodyCrc: false } : { expectedPhysicalOffset: logOffset };
  }

  private reportCorrupt(logOffset: number, reason: string): void {
    this.corruptReads++;
    this.log.error({ offset: logOffset, reason }, 'store: corrupt record not served');
  }

  getMinOffset(topic: string, queueId: number): number {
    const st = this.index.lookup(topic, queueId, false);
    if (!st) return 0;
    this.index.correctMin(st, this.commitLog.minPos);
    return st.min;
  }

  getMaxOffset(topic: string, queueId: number): number {
    const st = this.index.lookup(topic, queueId, false);
    return st ? this.index.visibleMax(st, this.commitLog.confirmedPos) : 0;
  }

  async getOffsetByTime(topic: string, queueId: number, timestamp: number, boundary: 'lower' | 'upper' = 'lower'): Promise<number> {
    const st = this.index.lookup(topic, queueId, false);
    if (!st) return 0;
    this.index.correctMin(st, this.commitLog.minPos);
    return this.index.offsetByTime(st, this.index.visibleMax(st, this.commitLog.confirmedPos), timestamp, boundary);
  }

  async readRecord(commitLogOffset: number, size?: number): Promise<Buffer | null> {
    if (!Number.isSafeInteger(commitLogOffset) || commitLogOffset < this.commitLog.minPos || commitLogOffset >= this.commitLog.confirmedPos) return null;
    let len = size;
    if (len === undefined) {
      const head = this.commitLog.readHot(commitLogOffset, 4) ?? (await this.commitLog.readCold(commitLogOffset, 4));
      if (!head) return null;
      len = head.readInt32BE(0);
    }
    if (len < RecordOffset.BORN_HOST + 8 || commitLogOffset + len > this.commitLog.confirmedPos) return null;
    const hot = this.commitLog.readHot(commitLogOffset, len);
    if (hot) return hot;
    const buf = await this.commitLog.readCold(commitLogOffset, len);
    if (!buf) return null;
    const check = checkRecord(buf, 0, len, this.readCheck(commitLogOffset));
    if (check.kind !== 'record' || check.size !== len) {
      this.reportCorrupt(commitLogOffset, check.kind === 'corrupt' ? check.reason : 'not a record');
      return null;
    }
    return buf;
  }

  async queryByKey(topic: string, key: string, maxNum: number, begin: number, end: number): Promise<KeyLookupHit[]> {
    return this.queryKeys(topic, key, maxNum, begin, end, (props) => (findProperty(props, PropertyKey.KEYS) ?? '').split(' ').includes(key));
  }

  async queryByUniqueKey(topic: string, uniqKey: string, begin: number, end: number): Promise<KeyLookupHit[]> {
    return this.queryKeys(topic, uniqKey, 32, begin, end, (props) => findProperty(props, PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) === uniqKey);
  }

  private async queryKeys(topic: string, key: string, maxNum: number, begin: number, end: number, matches: (props: string) => boolean): Promise<KeyLookupHit[]> {
    const refs = this.keyIndex.lookup(topic, key, begin, end, Math.max(1, maxNum) * 4);
    const hits: KeyLookupHit[] = [];
    for (const r of refs) {
      if (hits.length >= maxNum) break;
      const record = await this.readRecord(r.commitLogOffset, r.size);
      if (!record) continue;
      let props: string;
      try {
        props = readRecordProperties(record, 0);
      } catch {
        continue;
      }
      if (matches(props)) hits.push({ record, commitLogOffset: r.commitLogOffset, storeTimestamp: r.storeTimestamp });
    }
    return hits;
  }

  onArrival(topic: string, queueId: number, listener: (maxOffset: number) => void): () => void {
    return this.index.onArrival(topic, queueId, listener);
  }

  // ---------------------------------------------------------------- metadata

  async commitOffset(group: string, topic: string, queueId: number, offset: number): Promise<void> {
    if (!group) throw new IllegalPutError('consumer group is empty');
    if (!Number.isSafeInteger(offset)) throw new IllegalPutError(`offset must be an integer, got ${offset}`);
    try {
      validateTopicName(topic);
    } catch (err) {
      throw new IllegalPutError((err as Error).message, err);
    }
    const st = this.index.lookup(topic, queueId, true)!;
    const now = this.cfg.now();
    if (this.cfg.lmqIdleTtlMs > 0 && now - st.lastActive > this.cfg.lmqIdleTtlMs / 10) this.index.touch(st, now);
    this.index.ensureRow(st);
    await this.meta.commitOffset(st.qid, queueNameKey(topic, queueId), group, offset, now);
  }

  getConsumerOffset(group: string, topic: string, queueId: number): number | undefined {
    const st = this.index.lookup(topic, queueId, false);
    return st ? this.meta.getOffset(st.qid, group) : undefined;
  }

  listConsumerOffsets(group: string): Array<{ topic: string; queueId: number; offset: number }> {
    const out: Array<{ topic: string; queueId: number; offset: number }> = [];
    for (const { qid, queueKey } of this.meta.groupQueues(group)) {
      const offset = this.meta.getOffset(qid, group);
      if (offset !== undefined) out.push({ ...decodeQueueName(queueKey), offset });
    }
    return out;
  }

  async deleteConsumerOffsets(group: string, topic?: string): Promise<void> {
    const pending: Array<Promise<unknown>> = [];
    for (const o of this.listConsumerOffsets(group)) {
      if (topic !== undefined && o.topic !== topic) continue;
      const st = this.index.lookup(o.topic, o.queueId, false);
      if (st) pending.push(this.meta.deleteOffset(st.qid, group));
    }
    await Promise.all(pending);
  }

  metaPut(namespace: string, key: string, value: Buffer): Promise<void> {
    return this.metaKv.put(namespace, key, value);
  }

  metaGet(namespace: string, key: string): Buffer | undefined {
    return this.metaKv.get(namespace, key);
  }

  metaDelete(namespace: string, key: string): Promise<void> {
    return this.metaKv.delete(namespace, key);
  }

  metaScan(namespace: string, prefix?: string, limit?: number): Iterable<{ key: string; value: Buffer }> {
    return this.metaKv.scan(namespace, prefix, limit);
  }

  async putTopicConfig(config: TopicConfig): Promise<void> {
    try {
      validateTopicName(config.topicName);
    } catch (err) {
      throw new IllegalPutError((err as Error).message, err);
    }
    await this.meta.putTopic(config);
  }

  getTopicConfig(topic: string): TopicConfig | undefined {
    return this.meta.getTopic(topic);
  }

  listTopicConfigs(): TopicConfig[] {
    return this.meta.listTopics();
  }

  async deleteTopicConfig(topic: string): Promise<void> {
    await this.meta.deleteTopic(topic);
  }

  hasQueue(topic: string, queueId: number): boolean {
    return this.index.lookup(topic, queueId, false) !== undefined;
  }

  stats(): StoreStats & { corruptReads: number; fsyncs: number; hotTailBytes: number } {
    return {
      minCommitLogOffset: this.commitLog.minPos,
      maxCommitLogOffset: this.commitLog.appendPos,
      flushedCommitLogOffset: this.commitLog.flushedPos,
      segments: this.commitLog.segments.segments.length,
      cachedQueues: this.index.cachedCount,
      putMessages: this.putMessages,
      putBytes: this.putBytes,
      corruptReads: this.corruptReads,
      fsyncs: this.commitLog.fsyncs,
      hotTailBytes: this.commitLog.hotBytes,
    };
  }

  async flush(): Promise<void> {
    await this.meta.flushOffsets();
    await this.commitLog.drain();
    const end = this.commitLog.flushedPos;
    this.indexBound = end;
    await this.index.flush(end, () => this.keyIndex.flushInto(end));
  }

  /** Runs retention and LMQ expiry once now (tests, admin). */
  runMaintenance(): Promise<void> {
    return this.retention.runOnce();
  }

  close(): Promise<void> {
    if (!this.closing) this.closing = this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (this.indexTimer) clearInterval(this.indexTimer);
    await this.retention.stop();
    try {
      await this.meta.flushOffsets();
      await this.commitLog.close();
      const end = this.commitLog.flushedPos;
      await this.index.flush(end, () => this.keyIndex.flushInto(end));
      await this.env.root.flushed;
      this.checkpoint.writeSync(this.checkpointState(true));
    } finally {
      await this.checkpoint.close();
      await this.env.root.close();
      this.lock.release();
    }
  }
}

const MULTI_QUEUE_OFFSET_PREFIX = Buffer.from(`${PropertyKey.INNER_MULTI_QUEUE_OFFSET}${NAME_VALUE_SEPARATOR}`, 'latin1');

/** Writes a non-negative safe integer as ASCII digits at `at`; returns the position after them. */
function writeDecimal(buf: Buffer, at: number, n: number): number {
  if (n < 10) {
    buf[at] = 48 + n;
    return at + 1;
  }
  let digits = 1;
  for (let p = 10; p <= n && digits < 16; p *= 10) digits++;
  let v = n;
  for (let i = at + digits - 1; i >= at; i--) {
    const q = Math.floor(v / 10);
    buf[i] = 48 + (v - q * 10);
    v = q;
  }
  return at + digits;
}

function hasSeparator(s: string): boolean {
  return s.indexOf('\u0001') >= 0 || s.indexOf('\u0002') >= 0;
}

/**
 * Segment size of an existing commit log: the distance between the first two segment names, else
 * the checkpoint's, else the size of a lone segment file (files are preallocated to full size).
 */
function existingSegmentSize(dir: string, fromCheckpoint: number | undefined): number | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => /^\d{20}$/.test(n)).sort();
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
