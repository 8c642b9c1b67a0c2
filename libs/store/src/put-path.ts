import {
  type ApogeeError,
  FrozenProperties,
  type HostAddress,
  NAME_VALUE_SEPARATOR,
  PROPERTY_SEPARATOR,
  PropertyKey,
  type RecordInput,
  TRANSIENT_PROPERTY_PREFIX,
  encodeHost,
  encodedRecordSize,
  isLmqName,
  validateTopicName,
  writeRecord,
} from '@apogee/message';
import type { PutMessage, PutResult } from './api.js';
import type { CommitLog } from './commit-log.js';
import type { ResolvedStoreConfig } from './config.js';
import type { Dispatcher, LmqList } from './dispatch.js';
import { entersQueues, lmqDispatchAllowed } from './dispatch-rules.js';
import { IllegalPutError, MessageTooLargeError, StoreUnavailableError } from './errors.js';
import type { Logger } from './logger.js';
import type { QueueIndex } from './queue-index.js';
import type { QueueState } from './queue-state.js';
import type { Retention } from './retention.js';

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
    return {
      commitLogOffset: this.commitLogOffset,
      queueOffset: this.queueOffset,
      size: this.size,
      storeTimestamp: this.storeTimestamp,
      msgId: this.msgId,
      lmqOffsets: this.lmqOffsets,
    };
  }
}

const DEFAULT_BORN_HOST = encodeHost({ address: '127.0.0.1', port: 0 });

/**
 * The put path: validates a put, appends its record to the CommitLog tail with its queue and LMQ
 * offsets (dispatch), and confirms it under the flush mode. Appends are synchronous, so offsets
 * are atomic per queue; the confirmation is the CommitLog's (one promise per put or batch).
 */
export class PutPath {
  /** Store time of the newest record (store times never go backwards; recovery seeds it). */
  lastStoreTimestamp = 0;
  putMessages = 0;
  putBytes = 0;
  /** Set when the store starts closing: puts are refused from then on. */
  closing = false;
  /** Why puts are refused while the log is written only by replication (a replica), or null. */
  readOnly: string | null = null;
  /** Upper-case hex of the encoded store host: the first part of every offset message id. */
  readonly storeHostHex: string;
  private readonly topicBytes = new Map<string, Buffer>();
  /** Encoded born hosts by address object (an endpoint keeps one per connection; treated as immutable). */
  private readonly bornHosts = new WeakMap<HostAddress, Buffer>();
  private readonly validTopics = new Set<string>();
  /** Scratch of prepare(): reused, as puts are prepared one at a time. */
  private readonly scan: ScannedProperties = { props: '', propsBytes: 0, tags: undefined, keys: undefined, uniqKey: undefined, lmqList: undefined };
  private scratch = Buffer.allocUnsafe(64 * 1024);
  private readonly input: RecordInput;

  constructor(
    private readonly cfg: ResolvedStoreConfig,
    private readonly commitLog: CommitLog,
    private readonly index: QueueIndex,
    private readonly dispatcher: Dispatcher,
    private readonly retention: Retention,
    private readonly log: Logger,
  ) {
    const storeHost = encodeHost(cfg.storeHost);
    this.storeHostHex = storeHost.toString('hex').toUpperCase();
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
      storeHost,
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
      body: Buffer.alloc(0),
      properties: '',
    };
  }

  // ---------------------------------------------------------------- append + confirm

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
    if (this.readOnly !== null) return new StoreUnavailableError('READ_ONLY', this.readOnly);
    return this.retention.refusal() ?? this.commitLog.refusal();
  }

  // ---------------------------------------------------------------- validation

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
    const lmqs = lmqList !== undefined && dispatched && lmqDispatchAllowed(topic) ? this.dispatcher.lmqList(lmqList) : null;
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
      if (n !== undefined && (!Number.isInteger(n) || n < -0x80000000 || n > 0x7fffffff))
        throw new IllegalPutError(`flag and reconsumeTimes must be 32-bit integers, got ${n}`);
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

  // ---------------------------------------------------------------- append

  /**
   * Appends a prepared put: assigns queue and LMQ offsets, encodes the record into the CommitLog
   * tail and adds its index entries — synchronously, so offsets are atomic per queue.
   */
  private append(p: PreparedPut): { end: number; result: PutResult } {
    const msg = p.msg;
    // Its own queue first, then its LMQs: queues get their ids in this order.
    const st = p.dispatched ? this.index.lookup(msg.topic, msg.queueId, true)! : null;
    let lmqStates: QueueState[] | null = null;
    let lmqOffsets: number[] = [];
    let suffix: Buffer | undefined;
    if (p.lmqs) {
      lmqStates = this.dispatcher.lmqStates(p.lmqs);
      lmqOffsets = new Array<number>(lmqStates.length);
      // INNER_MULTI_QUEUE_OFFSET goes into the record as bytes written here, not as a string.
      suffix = this.dispatcher.multiQueueOffsets(lmqStates, lmqOffsets);
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
    input.properties = p.baseProperties;
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
    const queueOffset = this.dispatcher.dispatch(st, lmqStates, msg.topic, p.tags, p.keys, p.uniqKey, pos, size, storeTimestamp);
    this.putMessages++;
    this.putBytes += size;
    const end = pos + size;
    return {
      end,
      result: new AppendedMessage(pos, queueOffset, size, storeTimestamp, lmqOffsets, this.storeHostHex),
    };
  }
}

function hasSeparator(s: string): boolean {
  return s.indexOf('\u0001') >= 0 || s.indexOf('\u0002') >= 0;
}
