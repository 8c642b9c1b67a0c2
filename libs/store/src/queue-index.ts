import { readInt64BE, writeInt64BE } from '@apogee/message';
import { type IndexEnv, u32Key } from './index-env.js';
import type { Logger } from './logger.js';
import { BLOCK_ENTRIES, ENTRY_BYTES, entryEnd, entryLogOffset, entryStoreTime, writeEntry } from './queue-entry.js';
import { QueueState } from './queue-state.js';

const ZERO = Buffer.from([0]);

/** New qids are reserved in LMDB this many at a time. */
const QID_RESERVATION = 1024;

/** Key of a queue in the `queues` table: topic UTF-8, a NUL, queue id (4 B). */
export function queueNameKey(topic: string, queueId: number): Buffer {
  const len = Buffer.byteLength(topic, 'utf8');
  const b = Buffer.allocUnsafe(len + 5);
  b.write(topic, 0, 'utf8');
  b[len] = 0;
  b.writeUInt32BE(queueId, len + 1);
  return b;
}

function blockKey(qid: number, block: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE(qid, 0);
  b.writeUInt32BE(block, 4);
  return b;
}

/**
 * A queue's row in the `queues` table, keyed by its name: qid (4) · next (8) · min (8) ·
 * lastActive (8) · the persisted entries of its partial tail block, [next - next % 64, next).
 * Full blocks live in the `blocks` table. So a new queue costs one LMDB insert, and a dirty queue
 * one row write per flush (plus a block write when a block fills).
 */
const ROW_FIXED = 4 + 8 + 8 + 8;

function encodeRow(st: QueueState, next: number, inline: Buffer, inlineCount: number): Buffer {
  const b = Buffer.allocUnsafe(ROW_FIXED + inlineCount * ENTRY_BYTES);
  b.writeUInt32BE(st.qid, 0);
  writeInt64BE(b, next, 4);
  writeInt64BE(b, st.min, 12);
  writeInt64BE(b, st.lastActive, 20);
  if (inlineCount > 0) inline.copy(b, ROW_FIXED, 0, inlineCount * ENTRY_BYTES);
  return b;
}

/** A queue as stored: its name key, qid, offsets and inline tail entries. */
export interface QueueMeta {
  key: Buffer;
  qid: number;
  next: number;
  min: number;
  lastActive: number;
  topic: string;
  queueId: number;
  inline: Buffer;
}

export function decodeQueueName(key: Buffer): { topic: string; queueId: number } {
  return { topic: key.toString('utf8', 0, key.length - 5), queueId: key.readUInt32BE(key.length - 4) };
}

function decodeRow(key: Buffer, b: Buffer): QueueMeta {
  const { topic, queueId } = decodeQueueName(key);
  return {
    key,
    qid: b.readUInt32BE(0),
    next: readInt64BE(b, 4),
    min: readInt64BE(b, 12),
    lastActive: readInt64BE(b, 20),
    topic,
    queueId,
    inline: b.subarray(ROW_FIXED),
  };
}

/** A located index entry. */
export interface EntryRef {
  buf: Buffer;
  idx: number;
}

/** Called with a queue's new readable end. */
type ArrivalListener = (maxOffset: number) => void;

/**
 * Queue indexes for every queue, LMQs included, in LMDB: one row per queue (meta) and one per
 * block of 64 entries. Only cached queues (an LRU of at most maxCached states and maxBytes bytes)
 * live in memory, so memory does not grow with idle queues. Offsets are assigned synchronously in append(), so they are
 * dense and unique per queue whatever the number of concurrent producers.
 *
 * Persistence lags the CommitLog on purpose: flush(bound) writes only entries whose record ends
 * at or below `bound` (the durable log position) together with the dispatch marker, so the index
 * on disk never points past durable data; recovery re-dispatches the log from the marker.
 */
export class QueueIndex {
  private readonly cache = new Map<string, QueueState>();
  private readonly dirty = new Set<QueueState>();
  /** Queues being removed (TTL): their LMDB rows may still be visible until the delete commits. */
  private readonly deleting = new Set<string>();
  private touchGen = 0;
  private flushGen = 0;
  private committedGen = 0;
  private evictAfterGen = 0;
  private evictScheduled = false;
  nextQid = 1;
  /** Bumped whenever a state leaves the cache (or the LRU order is reset): resolved-state caches check it. */
  epoch = 0;
  /** qids below this are reserved in LMDB (sys.nextQid). */
  private reservedQid = 1;
  /** Arrival listeners by queue key: the function itself while a queue has one (most LMQs), a Set from the second on. */
  private readonly listeners = new Map<string, ArrivalListener | Set<ArrivalListener>>();
  private readonly pendingArrivals = new Set<QueueState>();
  private readonly entryScratch = Buffer.alloc(ENTRY_BYTES);
  /** Bytes of the cached states (QueueState.memBytes as last accounted). */
  private bytes = 0;

  constructor(
    private readonly env: IndexEnv,
    private readonly maxCached: number,
    private readonly log: Logger,
    /** Bytes of cached states above which clean ones are evicted. */
    private readonly maxBytes: number = Number.POSITIVE_INFINITY,
  ) {
    const n = env.sys.get('nextQid');
    if (n) this.nextQid = n.readUInt32BE(0);
    this.reservedQid = this.nextQid;
  }

  get cachedCount(): number {
    return this.cache.size;
  }

  /** Bytes the cached states hold (estimate, see QueueState.memBytes). */
  get cachedBytes(): number {
    return this.bytes;
  }

  private get overBudget(): boolean {
    return this.cache.size > this.maxCached || this.bytes > this.maxBytes;
  }

  /** Brings the cache total up to date with a state whose size may have changed. */
  private account(st: QueueState): void {
    const now = st.memBytes;
    this.bytes += now - st.accounted;
    st.accounted = now;
  }

  /** A state leaves the cache: its bytes no longer count. */
  private unaccount(st: QueueState): void {
    this.bytes -= st.accounted;
    st.accounted = 0;
  }

  private scheduleEvict(): void {
    if (this.evictScheduled) return;
    this.evictScheduled = true;
    // Never evict synchronously: the caller (a put naming several queues) still holds states.
    setImmediate(() => {
      this.evictScheduled = false;
      this.evict();
    });
  }

  /** Cache key: the name alone for queue 0 (every LMQ), name NUL id otherwise (names never hold NUL). */
  static key(topic: string, queueId: number): string {
    return queueId === 0 ? topic : `${topic}\u0000${queueId}`;
  }

  /** The queue's state, loading it from LMDB; with `create`, a missing queue is created. */
  lookup(topic: string, queueId: number, create: boolean): QueueState | undefined {
    const key = QueueIndex.key(topic, queueId);
    let st = this.cache.get(key);
    if (st) {
      if (st.touchGen !== this.touchGen) {
        this.cache.delete(key);
        this.cache.set(key, st);
        st.touchGen = this.touchGen;
      }
      return st;
    }
    if (!this.deleting.has(key)) {
      const nameKey = queueNameKey(topic, queueId);
      const row = this.env.queues.get(nameKey);
      if (row) st = this.load(key, decodeRow(nameKey, row));
    }
    if (!st) {
      if (!create) return undefined;
      st = new QueueState(key, this.nextQid++, topic, queueId);
      // qids are reserved a block at a time, ahead of use: a restart never hands one out twice.
      if (st.qid >= this.reservedQid) {
        this.reservedQid = st.qid + QID_RESERVATION;
        this.env.sys.put('nextQid', u32Key(this.reservedQid));
      }
      st.metaDirty = true; // its row goes out with the next flush
      this.markDirty(st);
    }
    st.touchGen = this.touchGen;
    this.cache.set(key, st);
    this.account(st);
    if (this.overBudget) this.scheduleEvict();
    return st;
  }

  private load(key: string, m: QueueMeta): QueueState {
    const st = new QueueState(key, m.qid, m.topic, m.queueId);
    st.rowWritten = true;
    st.next = m.next;
    st.min = m.min;
    st.lastActive = m.lastActive;
    st.persisted = st.next;
    st.notified = st.next;
    st.tailBase = st.next - (st.next % BLOCK_ENTRIES);
    const count = st.next - st.tailBase;
    if (count > 0) {
      st.tail = Buffer.allocUnsafe(Math.min(BLOCK_ENTRIES, Math.max(4, count * 2)) * ENTRY_BYTES);
      const have = Math.min(count * ENTRY_BYTES, m.inline.length);
      m.inline.copy(st.tail, 0, 0, have);
      st.tail.fill(0, have, count * ENTRY_BYTES); // lost entries read as holes
      st.lastEnd = entryEnd(st.tail, count - 1);
    }
    return st;
  }

  /**
   * Drops clean, committed, unobserved queues from the cache, oldest first, to 90 % of both caps
   * (count and bytes). When a pass cannot get there (queues not yet persisted, or observed), no
   * new pass runs before the next index commit: otherwise every lookup would rescan the cache.
   */
  private evict(): void {
    if (this.committedGen < this.evictAfterGen) return;
    this.touchGen++;
    this.epoch++;
    const target = Math.floor(this.maxCached * 0.9);
    const targetBytes = this.maxBytes * 0.9;
    const done = (): boolean => this.cache.size <= target && this.bytes <= targetBytes;
    for (const [key, st] of this.cache) {
      if (done()) break;
      if (st.inDirty || st.flushGen > this.committedGen || this.listeners.has(key)) continue;
      this.cache.delete(key);
      this.unaccount(st);
    }
    if (!done()) this.evictAfterGen = this.committedGen + 1;
  }

  private markDirty(st: QueueState): void {
    if (!st.inDirty) {
      st.inDirty = true;
      this.dirty.add(st);
    }
  }

  /** Appends an entry at the queue's next offset and returns that offset. */
  append(st: QueueState, logOffset: number, size: number, tagsCode: number, storeTime: number): number {
    writeEntry(this.entryScratch, 0, logOffset, size, tagsCode, storeTime);
    return this.appendEncoded(st, this.entryScratch, logOffset + size, storeTime);
  }

  /**
   * Appends an entry already encoded (see writeEntry) — a message dispatched into many queues
   * encodes its entry once and copies it into each.
   */
  appendEncoded(st: QueueState, entry: Buffer, logEnd: number, storeTime: number): number {
    const offset = st.next;
    const tail = st.tail;
    const idx = st.slotForAppend();
    if (st.tail !== tail) {
      // The tail grew or a block was sealed: the state holds more memory.
      this.account(st);
      if (this.bytes > this.maxBytes) this.scheduleEvict();
    }
    st.tail.set(entry, idx * ENTRY_BYTES);
    st.next = offset + 1;
    st.lastActive = storeTime;
    st.lastEnd = logEnd;
    if (!st.inDirty) this.markDirty(st);
    if (this.listeners.size !== 0 && this.listeners.has(st.key)) this.pendingArrivals.add(st);
    return offset;
  }

  /**
   * Recovery: puts an entry at the offset the record says. Offsets already indexed are left as
   * they are (re-dispatch is idempotent); a gap (lost index data) is filled with holes.
   */
  appendAt(st: QueueState, offset: number, logOffset: number, size: number, tagsCode: number, storeTime: number): void {
    if (offset < st.next) return;
    if (offset > st.next) this.log.warn({ topic: st.topic, queueId: st.queueId, from: st.next, to: offset }, 'queue index: filling a gap with holes');
    while (st.next < offset) this.append(st, logOffset, 0, 0, storeTime);
    this.append(st, logOffset, size, tagsCode, storeTime);
  }

  /** The entry at `offset` (in memory or from its LMDB block), or null. */
  entry(st: QueueState, offset: number): EntryRef | null {
    const mem = st.memEntry(offset);
    if (mem) return mem;
    if (offset < 0 || offset >= st.next) return null;
    const block = this.env.blocks.get(blockKey(st.qid, Math.floor(offset / BLOCK_ENTRIES)));
    const idx = offset % BLOCK_ENTRIES;
    if (!block || (idx + 1) * ENTRY_BYTES > block.length) return null;
    return { buf: block, idx };
  }

  /**
   * Entries [from, from + max) as (buf, idx) pairs, reading each LMDB block once. Stops early at
   * the first missing block.
   */
  entries(st: QueueState, from: number, to: number, out: EntryRef[]): void {
    let block: Buffer | null = null;
    let blockNo = -1;
    for (let o = from; o < to; o++) {
      const mem = st.memEntry(o);
      if (mem) {
        out.push(mem);
        continue;
      }
      const b = Math.floor(o / BLOCK_ENTRIES);
      if (b !== blockNo) {
        blockNo = b;
        block = this.env.blocks.get(blockKey(st.qid, b)) ?? null;
      }
      const idx = o % BLOCK_ENTRIES;
      if (!block || (idx + 1) * ENTRY_BYTES > block.length) return;
      out.push({ buf: block, idx });
    }
  }

  /**
   * One past the last entry whose record is confirmed (readable). Only in-memory entries above
   * `persisted` can be unconfirmed, and their log ends grow with the offset: binary search.
   */
  visibleMax(st: QueueState, confirmedPos: number): number {
    if (st.next === 0 || st.lastEnd <= confirmedPos) return st.next;
    let lo = Math.max(st.persisted, st.min); // entries below lo are confirmed
    let hi = st.next; // entries at or above hi are not
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = st.memEntry(mid);
      if (!e || entryEnd(e.buf, e.idx) <= confirmedPos) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Moves the queue's min offset past entries whose records are below `logMin` (deleted by
   * retention) and drops their blocks. Binary search over the index: O(log n) block reads.
   */
  correctMin(st: QueueState, logMin: number): void {
    if (st.minCheckedAt === logMin) return;
    st.minCheckedAt = logMin;
    if (st.min >= st.next) return;
    const first = this.entry(st, st.min);
    if (first && entryLogOffset(first.buf, first.idx) >= logMin) return;
    let lo = st.min;
    let hi = st.next; // first offset whose record is >= logMin lies in [lo, hi]
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const e = this.entry(st, mid);
      if (e && entryLogOffset(e.buf, e.idx) >= logMin) hi = mid;
      else lo = mid + 1;
    }
    const oldBlock = Math.floor(st.min / BLOCK_ENTRIES);
    st.min = lo;
    const newBlock = Math.floor(lo / BLOCK_ENTRIES);
    for (let b = oldBlock; b < newBlock; b++) this.env.blocks.remove(blockKey(st.qid, b));
    st.metaDirty = true;
    this.markDirty(st);
  }

  /** Offset of the first entry stored at or after `timestamp` ('lower'), or of the last at or before it ('upper'). */
  offsetByTime(st: QueueState, visibleMax: number, timestamp: number, boundary: 'lower' | 'upper'): number {
    const timeAt = (o: number): number => {
      const e = this.entry(st, o);
      return e ? entryStoreTime(e.buf, e.idx) : Number.MAX_SAFE_INTEGER;
    };
    if (visibleMax <= st.min) return st.min;
    if (boundary === 'lower') {
      let lo = st.min;
      let hi = visibleMax;
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        if (timeAt(mid) >= timestamp) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    }
    let lo = st.min - 1;
    let hi = visibleMax - 1;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (timeAt(mid) <= timestamp) lo = mid;
      else hi = mid - 1;
    }
    return Math.max(lo, st.min);
  }

  /**
   * Writes the row of a queue never persisted yet, at once: a consumer offset about to be
   * written refers to its qid, and must never outlive a crash that loses the qid's row.
   */
  ensureRow(st: QueueState): void {
    if (st.rowWritten) return;
    st.rowWritten = true;
    this.env.queues.put(queueNameKey(st.topic, st.queueId), encodeRow(st, st.persisted, st.tail, 0));
  }

  /** Marks a queue active now (offset commit) so TTL expiry leaves it alone. */
  touch(st: QueueState, now: number): void {
    st.lastActive = now;
    st.metaDirty = true;
    this.markDirty(st);
  }

  // ---------------------------------------------------------------- persistence

  /**
   * Writes every dirty queue's entries whose records end at or below `bound`, their meta, and
   * finally the dispatch marker `bound`, all in one event turn (one LMDB transaction, in order).
   * Resolves when committed.
   */
  flush(bound: number, extra?: () => void): Promise<unknown> {
    const gen = ++this.flushGen;
    for (const st of this.dirty) {
      const before = st.persisted;
      // Full blocks whose records are all durable go to the blocks table; the persisted part of
      // the first block that is not (or of the tail) goes inline into the queue's row.
      let persisted = before;
      let inline: Buffer = st.tail;
      let inlineCount = 0;
      let open = false;
      // Blocks whose write has committed are readable from LMDB now: drop them from memory.
      const sealedBefore = st.sealed.length;
      while (st.sealed.length > 0 && st.sealed[0]!.gen !== 0 && st.sealed[0]!.gen <= this.committedGen) st.sealed.shift();
      if (st.sealed.length !== sealedBefore && this.cache.get(st.key) === st) this.account(st);
      for (const s of st.sealed) {
        if (s.gen !== 0) continue; // written, commit pending
        const n = persistablePrefix(s.buf, BLOCK_ENTRIES, bound);
        if (n < BLOCK_ENTRIES) {
          persisted = s.base + n;
          inline = s.buf;
          inlineCount = n;
          open = true;
          break;
        }
        // A full block is never written again (appends go to a new tail): no copy needed.
        this.env.blocks.put(blockKey(st.qid, s.base / BLOCK_ENTRIES), s.buf);
        s.gen = gen;
        persisted = s.base + BLOCK_ENTRIES;
      }
      if (!open) {
        const n = persistablePrefix(st.tail, st.tailCount, bound);
        if (n === BLOCK_ENTRIES) {
          if (st.tailBlockGen === 0) {
            this.env.blocks.put(blockKey(st.qid, st.tailBase / BLOCK_ENTRIES), st.tail.subarray(0, BLOCK_ENTRIES * ENTRY_BYTES));
            st.tailBlockGen = gen;
          }
          persisted = st.tailBase + BLOCK_ENTRIES;
        } else {
          persisted = st.tailBase + n;
          inline = st.tail;
          inlineCount = n;
        }
      }
      if (persisted !== before || st.metaDirty || !st.rowWritten) {
        this.env.queues.put(queueNameKey(st.topic, st.queueId), encodeRow(st, persisted, inline, inlineCount));
        st.persisted = persisted;
        st.metaDirty = false;
        st.rowWritten = true;
        st.flushGen = gen;
      }
      if (st.persisted === st.next && st.sealed.length === 0) {
        this.dirty.delete(st);
        st.inDirty = false;
      }
    }
    extra?.();
    const marker = Buffer.allocUnsafe(8);
    writeInt64BE(marker, bound, 0);
    const done = this.env.sys.put('dispatched', marker);
    return done.then(() => {
      if (gen > this.committedGen) this.committedGen = gen;
      if (this.overBudget) this.evict();
    });
  }

  /** The persisted dispatch marker: every entry of a record below it is in LMDB. */
  dispatchedMarker(): number {
    const m = this.env.sys.get('dispatched');
    return m ? readInt64BE(m, 0) : 0;
  }

  get dirtyCount(): number {
    return this.dirty.size;
  }

  // ---------------------------------------------------------------- arrivals

  onArrival(topic: string, queueId: number, listener: ArrivalListener): () => void {
    const key = QueueIndex.key(topic, queueId);
    const had = this.listeners.get(key);
    if (had === undefined) this.listeners.set(key, listener);
    else if (typeof had === 'function') this.listeners.set(key, new Set([had, listener]));
    else had.add(listener);
    // Entries appended while nobody listened were not marked for notification; if they are not
    // readable yet, the listener must still hear when they become so (else a reader that saw the
    // old max and subscribed now would sleep through them).
    const st = this.cache.get(key);
    if (st && st.next > st.notified) this.pendingArrivals.add(st);
    return () => {
      const now = this.listeners.get(key);
      if (now === listener) this.listeners.delete(key);
      else if (typeof now === 'object' && now.delete(listener) && now.size === 0) this.listeners.delete(key);
    };
  }

  /** Tells listeners of queues whose new entries became readable. */
  notifyArrivals(confirmedPos: number): void {
    if (this.pendingArrivals.size === 0) return;
    for (const st of this.pendingArrivals) {
      const max = this.visibleMax(st, confirmedPos);
      if (st.lastEnd <= confirmedPos) this.pendingArrivals.delete(st);
      if (max <= st.notified) continue;
      st.notified = max;
      const fns = this.listeners.get(st.key);
      if (fns === undefined) continue;
      if (typeof fns === 'function') this.callListener(fns, max);
      else for (const fn of fns) this.callListener(fn, max);
    }
  }

  private callListener(fn: ArrivalListener, max: number): void {
    try {
      fn(max);
    } catch (err) {
      this.log.error({ err }, 'arrival listener threw');
    }
  }

  // ---------------------------------------------------------------- maintenance

  /** Queue rows after `after` (name order), at most `limit`: sweeps walk all queues a chunk at a time. */
  metaChunk(after: Buffer | null, limit: number): QueueMeta[] {
    const out: QueueMeta[] = [];
    const start = after ? Buffer.concat([after, ZERO]) : undefined;
    for (const { key, value } of this.env.queues.getRange(start ? { start, limit } : { limit })) out.push(decodeRow(key as Buffer, value));
    return out;
  }

  /** The stored row of a queue. */
  meta(topic: string, queueId: number): QueueMeta | undefined {
    const key = queueNameKey(topic, queueId);
    const row = this.env.queues.get(key);
    return row ? decodeRow(key, row) : undefined;
  }

  hasListeners(st: QueueState): boolean {
    return this.listeners.has(st.key);
  }

  /** A cached state for a meta row, if cached. */
  cached(topic: string, queueId: number): QueueState | undefined {
    return this.cache.get(QueueIndex.key(topic, queueId));
  }

  /**
   * Removes a queue with its entries; `alsoDelete` removes rows keyed by its qid elsewhere
   * (consumer offsets). The name stays reserved until the delete commits.
   */
  remove(meta: QueueMeta, alsoDelete: (qid: number) => void): Promise<unknown> {
    const key = QueueIndex.key(meta.topic, meta.queueId);
    const st = this.cache.get(key);
    if (st) {
      this.epoch++;
      this.cache.delete(key);
      this.unaccount(st);
      this.dirty.delete(st);
      st.inDirty = false;
      this.pendingArrivals.delete(st);
    }
    this.deleting.add(key);
    const removed = this.env.queues.remove(meta.key);
    for (const k of this.env.blocks.getKeys({ start: blockKey(meta.qid, 0), end: blockKey(meta.qid + 1, 0) })) this.env.blocks.remove(k as Buffer);
    alsoDelete(meta.qid);
    return removed.finally(() => this.deleting.delete(key));
  }

  /**
   * Recovery when the index is ahead of the CommitLog (durable data was lost below the marker),
   * and a replica's truncation (truncation.ts): every queue drops entries whose records end after
   * `logEnd`. Walks all queues that have a row once (queues created since the last flush have none:
   * a run-time caller flushes first).
   */
  truncateAbove(logEnd: number): number {
    let fixed = 0;
    let after: Buffer | null = null;
    for (;;) {
      const chunk = this.metaChunk(after, 10_000);
      if (chunk.length === 0) break;
      for (const m of chunk) {
        after = m.key;
        const st = this.lookup(m.topic, m.queueId, false);
        if (!st) continue;
        let n = st.next;
        while (n > st.min) {
          const e = this.entry(st, n - 1);
          if (e && entryEnd(e.buf, e.idx) <= logEnd) break;
          n--;
        }
        if (n === st.next) continue;
        fixed++;
        // Rebuild the tail from the block that now holds the last entry.
        const base = n - (n % BLOCK_ENTRIES);
        const tail = Buffer.alloc(BLOCK_ENTRIES * ENTRY_BYTES);
        for (let o = base; o < n; o++) {
          const e = this.entry(st, o);
          if (e) e.buf.copy(tail, (o - base) * ENTRY_BYTES, e.idx * ENTRY_BYTES, (e.idx + 1) * ENTRY_BYTES);
        }
        st.next = n;
        st.sealed = [];
        st.tailBlockGen = 0;
        st.tailBase = base;
        st.tail = tail;
        st.persisted = base;
        st.lastEnd = n > base ? entryEnd(tail, n - base - 1) : 0;
        // Listeners hear of the offsets refilled from here on (notifyArrivals skips offsets at or below `notified`).
        if (st.notified > n) st.notified = n;
        this.account(st);
        st.metaDirty = true;
        this.markDirty(st);
      }
    }
    return fixed;
  }
}

/** Number of leading entries whose records end at or below `bound`. */
function persistablePrefix(buf: Buffer, count: number, bound: number): number {
  let n = count;
  while (n > 0 && entryEnd(buf, n - 1) > bound) n--;
  return n;
}
