import { NAME_VALUE_SEPARATOR, PropertyKey, findProperty, parseMultiDispatch } from '@apogee/message';
import { indexKeysOf, lmqDispatchAllowed, tagsCodeOf } from './dispatch-rules.js';
import { IllegalPutError } from './errors.js';
import type { KeyIndex } from './key-index.js';
import { ENTRY_BYTES, writeEntry } from './queue-entry.js';
import type { QueueIndex } from './queue-index.js';
import type { QueueState } from './queue-state.js';
import type { RecordFieldReader } from './record-fields.js';

/** A parsed INNER_MULTI_DISPATCH list and, while valid, the queue states it resolved to. */
export interface LmqList {
  names: string[];
  states: QueueState[] | null;
  /** QueueIndex.epoch when `states` were resolved. */
  epoch: number;
  /** Used by an earlier put (only then are `states` kept). */
  seen: boolean;
}

/** Characters of INNER_MULTI_DISPATCH lists kept parsed (about 2 MiB of strings). */
const LMQ_LIST_CACHE_CHARS = 1 << 20;

const MULTI_QUEUE_OFFSET_PREFIX = Buffer.from(`${PropertyKey.INNER_MULTI_QUEUE_OFFSET}${NAME_VALUE_SEPARATOR}`, 'latin1');

/**
 * Queue and LMQ dispatch: which queues a record enters and the index entries that put it there —
 * live (a put: offsets assigned now) and in recovery (offsets the record carries). Both go
 * through here so they build the same index from the same record (see dispatch-rules.ts).
 */
export class Dispatcher {
  /** Parsed INNER_MULTI_DISPATCH lists: publishers repeat the same list per topic (bounded). */
  private readonly lmqLists = new Map<string, LmqList>();
  private lmqListChars = 0;
  /** The index entry of the message being appended (the same for all its queues). */
  private readonly entry = Buffer.alloc(ENTRY_BYTES);
  /** Reused bytes of the INNER_MULTI_QUEUE_OFFSET property (copied into each record). */
  private suffix = Buffer.allocUnsafe(4096);

  constructor(
    private readonly index: QueueIndex,
    private readonly keyIndex: KeyIndex,
  ) {}

  // ---------------------------------------------------------------- live

  /** The parsed LMQ list of a put (cached by its string). Throws IllegalPutError if malformed. */
  lmqList(list: string): LmqList {
    let lmqs = this.lmqLists.get(list);
    if (lmqs) return lmqs;
    try {
      lmqs = { names: parseMultiDispatch(list), states: null, epoch: -1, seen: false };
    } catch (err) {
      throw new IllegalPutError(`INNER_MULTI_DISPATCH is malformed: ${(err as Error).message}`, err);
    }
    // Bounded by characters, not entries: lists of many long names must not pile up.
    this.lmqListChars += list.length;
    if (this.lmqListChars > LMQ_LIST_CACHE_CHARS) {
      this.lmqLists.clear();
      this.lmqListChars = list.length;
    }
    this.lmqLists.set(list, lmqs);
    return lmqs;
  }

  /** The queue states of an LMQ list (created if missing). */
  lmqStates(lmqs: LmqList): QueueState[] {
    // The states resolved last time stay valid while no queue has left the cache. Only lists
    // seen before keep them: a one-off list must not pin its states in memory.
    if (lmqs.epoch === this.index.epoch && lmqs.states) return lmqs.states;
    const names = lmqs.names;
    const n = names.length;
    const resolved = new Array<QueueState>(n);
    for (let i = 0; i < n; i++) resolved[i] = this.index.lookup(names[i]!, 0, true)!;
    if (lmqs.seen) {
      lmqs.states = resolved;
      lmqs.epoch = this.index.epoch;
    }
    lmqs.seen = true;
    return resolved;
  }

  /**
   * The INNER_MULTI_QUEUE_OFFSET property as record bytes (a view of a reused buffer, valid until
   * the next call), with each LMQ's next offset also stored into `offsets`.
   */
  multiQueueOffsets(states: readonly QueueState[], offsets: number[]): Buffer {
    const n = states.length;
    if (this.suffix.length < MULTI_QUEUE_OFFSET_PREFIX.length + n * 17 + 1) this.suffix = Buffer.allocUnsafe(MULTI_QUEUE_OFFSET_PREFIX.length + n * 17 + 1);
    const out = this.suffix;
    let at = MULTI_QUEUE_OFFSET_PREFIX.copy(out, 0);
    for (let i = 0; i < n; i++) {
      const next = states[i]!.next;
      offsets[i] = next;
      if (i > 0) out[at++] = 0x2c; // ','
      at = writeDecimal(out, at, next);
    }
    out[at++] = 2;
    return out.subarray(0, at);
  }

  /**
   * Indexes a record just appended at `pos`: one entry, encoded once, into its own queue (`st`,
   * null if it enters none) and each LMQ; its keys into the key index. Returns its queue offset.
   */
  dispatch(
    st: QueueState | null,
    lmqStates: readonly QueueState[] | null,
    topic: string,
    tags: string | undefined,
    keys: string | undefined,
    uniqKey: string | undefined,
    pos: number,
    size: number,
    storeTimestamp: number,
  ): number {
    const entry = this.entry;
    writeEntry(entry, 0, pos, size, tagsCodeOf(tags), storeTimestamp);
    const queueOffset = st ? this.index.appendEncoded(st, entry, pos + size, storeTimestamp) : 0;
    if (lmqStates) for (let i = 0; i < lmqStates.length; i++) this.index.appendEncoded(lmqStates[i]!, entry, pos + size, storeTimestamp);
    if (keys || uniqKey) this.keyIndex.add(topic, indexKeysOf(keys, uniqKey), storeTimestamp, pos, size);
    return queueOffset;
  }

  // ---------------------------------------------------------------- recovery

  /**
   * Rebuilds the index entries of one recovered record (read into `rec`, and known to enter
   * queues), at the offsets it recorded.
   */
  redispatch(rec: RecordFieldReader, pos: number, size: number): void {
    const storeTime = rec.storeTimestamp;
    const topic = rec.topic();
    const props = rec.properties();
    const tagsCode = tagsCodeOf(findProperty(props, PropertyKey.TAGS));
    const st = this.index.lookup(topic, rec.queueId, true)!;
    this.index.appendAt(st, rec.queueOffset, pos, size, tagsCode, storeTime);
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
}

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
