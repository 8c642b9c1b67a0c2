import { type CheckOptions, PropertyKey, RecordOffset, checkRecord, findProperty, readRecordProperties } from '@apogee/message';
import type { GetOptions, GetResult, KeyLookupHit, StoredMessage } from './api.js';
import type { CommitLog } from './commit-log.js';
import type { ResolvedStoreConfig } from './config.js';
import type { KeyIndex } from './key-index.js';
import type { Logger } from './logger.js';
import { entryLogOffset, entrySize, entryStoreTime, entryTagsCode } from './queue-entry.js';
import type { EntryRef, QueueIndex } from './queue-index.js';

const SCAN_ENTRIES = 800;

/** An index entry chosen for reading. */
interface PickedEntry {
  offset: number;
  logOffset: number;
  size: number;
  tagsCode: number;
  storeTime: number;
}

/**
 * The read side: queue reads (index entries, then their records — hot ones from the CommitLog's
 * memory tail, cold ones from disk, verified before they are served), queue bounds, reads by
 * commit-log offset and by key.
 */
export class Reads {
  corruptReads = 0;

  constructor(
    private readonly cfg: ResolvedStoreConfig,
    private readonly commitLog: CommitLog,
    private readonly index: QueueIndex,
    private readonly keyIndex: KeyIndex,
    private readonly log: Logger,
  ) {}

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
    const wanted = Math.max(1, maxCount);
    const byRecord = filter?.matchByRecord?.bind(filter);
    const messages: StoredMessage[] = [];
    let next = offset;
    let bytes = 0;
    let anyPicked = false;
    let anyRecord = false;
    let i = 0;
    // Entries are picked by their index entry (tags code), then their records read and, with a
    // record filter (SQL92), checked: what it rejects frees room for more entries of the scan, so a
    // selective filter still fills a pull instead of returning a few of maxCount.
    for (;;) {
      const picked: PickedEntry[] = [];
      let pickedBytes = 0;
      for (; i < refs.length; i++) {
        const r = refs[i]!;
        const size = entrySize(r.buf, r.idx);
        const taken = messages.length + picked.length;
        if (taken >= wanted || (taken > 0 && bytes + pickedBytes + size > maxBytes)) break;
        next = offset + i + 1;
        if (size <= 0) continue;
        const tagsCode = entryTagsCode(r.buf, r.idx);
        if (filter && !filter.matchByTagsCode(tagsCode)) continue;
        picked.push({ offset: offset + i, logOffset: entryLogOffset(r.buf, r.idx), size, tagsCode, storeTime: entryStoreTime(r.buf, r.idx) });
        pickedBytes += size;
      }
      if (picked.length === 0) break;
      anyPicked = true;
      const records = await this.readRecords(picked);
      for (let k = 0; k < picked.length; k++) {
        const record = records[k];
        if (!record) continue;
        anyRecord = true;
        if (byRecord && !byRecord(record)) continue;
        const e = picked[k]!;
        messages.push({ record, queueOffset: e.offset, commitLogOffset: e.logOffset, tagsCode: e.tagsCode, storeTimestamp: e.storeTime });
        bytes += e.size;
      }
      if (!byRecord || i >= refs.length) break;
    }
    if (!anyPicked) {
      return { ...base, status: refs.length > 0 ? 'NO_MATCHED_MESSAGE' : 'OFFSET_FOUND_NULL', nextOffset: refs.length > 0 ? next : offset + 1 };
    }
    const status = messages.length > 0 ? 'FOUND' : anyRecord ? 'NO_MATCHED_MESSAGE' : 'OFFSET_FOUND_NULL';
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

  private async queryKeys(
    topic: string,
    key: string,
    maxNum: number,
    begin: number,
    end: number,
    matches: (props: string) => boolean,
  ): Promise<KeyLookupHit[]> {
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
}
