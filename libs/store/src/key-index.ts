import { readInt64BE, writeInt64BE } from '@apogee/message';
import type { IndexEnv } from './index-env.js';

/** Key index rows are grouped in hourly buckets so retention drops whole ranges. */
export const KEY_BUCKET_MS = 3600_000;
/** Longer keys are indexed by their first bytes; lookups re-check the full key on the record. */
const MAX_INDEXED_KEY_BYTES = 400;

interface PendingKey {
  key: Buffer;
  end: number;
}

export interface KeyHitRef {
  commitLogOffset: number;
  size: number;
  storeTimestamp: number;
}

function prefix(bucket: number, topic: string, key: string): Buffer {
  const t = Buffer.from(topic, 'utf8');
  let k = Buffer.from(key, 'utf8');
  if (k.length > MAX_INDEXED_KEY_BYTES) k = k.subarray(0, MAX_INDEXED_KEY_BYTES);
  const b = Buffer.allocUnsafe(4 + t.length + 1 + k.length + 1);
  b.writeUInt32BE(bucket, 0);
  t.copy(b, 4);
  b[4 + t.length] = 0;
  k.copy(b, 5 + t.length);
  b[b.length - 1] = 0;
  return b;
}

/**
 * Finds messages by KEYS and by UNIQ_KEY within a time range: LMDB rows
 * `bucket · topic \0 key \0 · storeTime · logOffset -> size`. Like queue entries, rows are
 * persisted only once their record is durable (flushInto), and rebuilt from the log on recovery.
 */
export class KeyIndex {
  private pending: PendingKey[] = [];
  private head = 0;

  constructor(private readonly env: IndexEnv) {}

  /** Indexes one record under each of `keys` (called during dispatch). */
  add(topic: string, keys: readonly string[], storeTime: number, logOffset: number, size: number): void {
    const bucket = Math.floor(storeTime / KEY_BUCKET_MS);
    const tLen = Buffer.byteLength(topic, 'utf8');
    for (const k of keys) {
      if (k.length === 0) continue;
      const kLen = Buffer.byteLength(k, 'utf8');
      if (kLen > MAX_INDEXED_KEY_BYTES) {
        const p = prefix(bucket, topic, k);
        const long = Buffer.allocUnsafe(p.length + 16);
        p.copy(long, 0);
        writeInt64BE(long, storeTime, p.length);
        writeInt64BE(long, logOffset, p.length + 8);
        this.pending.push({ key: long, end: logOffset + size });
        continue;
      }
      // Same layout as prefix() + time + offset, built in one allocation (hot path).
      const row = Buffer.allocUnsafe(4 + tLen + 1 + kLen + 1 + 16);
      row.writeUInt32BE(bucket, 0);
      row.write(topic, 4, 'utf8');
      row[4 + tLen] = 0;
      row.write(k, 5 + tLen, 'utf8');
      row[5 + tLen + kLen] = 0;
      writeInt64BE(row, storeTime, 6 + tLen + kLen);
      writeInt64BE(row, logOffset, 14 + tLen + kLen);
      // The size rides along in the pending entry's end; the row value is the size.
      this.pending.push({ key: row, end: logOffset + size });
    }
  }

  /** Queues LMDB writes for pending rows whose records end at or below `bound` (same turn as the queue flush). */
  flushInto(bound: number): void {
    const p = this.pending;
    let i = this.head;
    for (; i < p.length && p[i]!.end <= bound; i++) {
      const row = p[i]!;
      const size = Buffer.allocUnsafe(4);
      size.writeInt32BE(row.end - readInt64BE(row.key, row.key.length - 8), 0);
      this.env.keys.put(row.key, size);
    }
    if (i === p.length) {
      this.pending = [];
      this.head = 0;
    } else {
      this.head = i;
      if (i > 4096 && i * 2 > p.length) {
        this.pending = p.slice(i);
        this.head = 0;
      }
    }
  }

  /** Candidate records for (topic, key) stored within [begin, end], oldest first. */
  private oldestBucket(): number {
    let oldest = Number.MAX_SAFE_INTEGER;
    for (const k of this.env.keys.getKeys({ limit: 1 })) oldest = (k as Buffer).readUInt32BE(0);
    if (this.head < this.pending.length) oldest = Math.min(oldest, this.pending[this.head]!.key.readUInt32BE(0));
    return oldest;
  }

  private newestBucket(): number {
    let newest = -1;
    for (const k of this.env.keys.getKeys({ limit: 1, reverse: true })) newest = (k as Buffer).readUInt32BE(0);
    if (this.pending.length > this.head) newest = Math.max(newest, this.pending[this.pending.length - 1]!.key.readUInt32BE(0));
    return newest;
  }

  lookup(topic: string, key: string, begin: number, end: number, limit: number): KeyHitRef[] {
    const out: KeyHitRef[] = [];
    // Only buckets that can hold rows: from the oldest stored (or pending) row to the newest, so
    // a range such as [0, now] costs a few lookups, not one per hour since 1970.
    const b0 = Math.max(Math.floor(Math.max(0, begin) / KEY_BUCKET_MS), this.oldestBucket());
    const b1 = Math.min(Math.floor(Math.max(0, end) / KEY_BUCKET_MS), this.newestBucket());
    const seen = new Set<number>();
    for (let b = b0; b <= b1 && out.length < limit; b++) {
      const p = prefix(b, topic, key);
      const start = Buffer.allocUnsafe(p.length + 8);
      p.copy(start, 0);
      writeInt64BE(start, Math.max(0, begin), p.length);
      const stop = Buffer.allocUnsafe(p.length + 8);
      p.copy(stop, 0);
      writeInt64BE(stop, end + 1, p.length);
      for (const { key: k, value } of this.env.keys.getRange({ start, end: stop })) {
        const row = k as Buffer;
        const logOffset = readInt64BE(row, row.length - 8);
        if (seen.has(logOffset)) continue;
        seen.add(logOffset);
        out.push({ commitLogOffset: logOffset, size: value.readInt32BE(0), storeTimestamp: readInt64BE(row, row.length - 16) });
        if (out.length >= limit) break;
      }
    }
    // Not yet persisted rows.
    for (let i = this.head; i < this.pending.length && out.length < limit; i++) {
      const row = this.pending[i]!.key;
      const ts = readInt64BE(row, row.length - 16);
      if (ts < begin || ts > end) continue;
      const p = prefix(Math.floor(ts / KEY_BUCKET_MS), topic, key);
      if (row.length !== p.length + 16 || row.compare(p, 0, p.length, 0, p.length) !== 0) continue;
      const logOffset = readInt64BE(row, row.length - 8);
      if (seen.has(logOffset)) continue;
      seen.add(logOffset);
      out.push({ commitLogOffset: logOffset, size: this.pending[i]!.end - logOffset, storeTimestamp: ts });
    }
    return out;
  }

  /**
   * Drops the rows of records at or above `logEnd` (a truncated tail), pending and stored. Store
   * times never go backwards along the log, so stored rows are looked for only in buckets from
   * that of `fromTime` (the store time of the first record cut, 0 when unknown) on — one bucket
   * earlier, for safety. Returns the rows dropped.
   */
  truncateAbove(logEnd: number, fromTime: number): number {
    let n = 0;
    const kept: PendingKey[] = [];
    for (let i = this.head; i < this.pending.length; i++) {
      const row = this.pending[i]!;
      if (readInt64BE(row.key, row.key.length - 8) < logEnd) kept.push(row);
      else n++;
    }
    this.pending = kept;
    this.head = 0;
    const start = Buffer.allocUnsafe(4);
    start.writeUInt32BE(Math.max(0, Math.floor(fromTime / KEY_BUCKET_MS) - 1), 0);
    for (const k of this.env.keys.getKeys({ start })) {
      const row = k as Buffer;
      if (readInt64BE(row, row.length - 8) < logEnd) continue;
      // A copy: the iterator may hand out its keys in a buffer it reuses.
      this.env.keys.remove(Buffer.from(row));
      n++;
    }
    return n;
  }

  /** Deletes rows of buckets wholly older than `before` ms; at most `budget` rows per call. Returns rows deleted. */
  expire(before: number, budget: number): number {
    const endBucket = Math.floor(before / KEY_BUCKET_MS);
    if (endBucket <= 0) return 0;
    const stop = Buffer.allocUnsafe(4);
    stop.writeUInt32BE(endBucket, 0);
    let n = 0;
    for (const k of this.env.keys.getKeys({ end: stop, limit: budget })) {
      this.env.keys.remove(k as Buffer);
      n++;
    }
    return n;
  }
}
