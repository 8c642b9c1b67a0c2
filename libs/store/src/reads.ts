import { type CheckOptions, PropertyKey, RecordOffset, checkRecord, findProperty, readRecordProperties } from '@apogee/message';
import type { GetOptions, GetResult, KeyLookupHit, MessageFilter, StoredMessage } from './api.js';
import type { CommitLog } from './commit-log.js';
import type { ResolvedStoreConfig } from './config.js';
import type { KeyIndex } from './key-index.js';
import type { Logger } from './logger.js';
import { entryLogOffset, entrySize, entryStoreTime, entryTagsCode } from './queue-entry.js';
import type { EntryRef, QueueIndex } from './queue-index.js';

const SCAN_ENTRIES = 800;

/** Entries a record filter's read takes at least per chunk. */
const RECORD_CHUNK = 64;

/** What a read took: its messages, where the next read starts, and whether any entry or record was there. */
interface Taken {
  messages: StoredMessage[];
  next: number;
  anyPicked: boolean;
  anyRecord: boolean;
}

function storedOf(e: PickedEntry, record: Buffer): StoredMessage {
  return { record, queueOffset: e.offset, commitLogOffset: e.logOffset, tagsCode: e.tagsCode, storeTimestamp: e.storeTime };
}

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
    const out = filter?.matchByRecord
      ? await this.takeByRecord(refs, offset, wanted, maxBytes, filter)
      : await this.takeByIndex(refs, offset, wanted, maxBytes, filter);
    if (!out.anyPicked) {
      return { ...base, status: refs.length > 0 ? 'NO_MATCHED_MESSAGE' : 'OFFSET_FOUND_NULL', nextOffset: refs.length > 0 ? out.next : offset + 1 };
    }
    const status = out.messages.length > 0 ? 'FOUND' : out.anyRecord ? 'NO_MATCHED_MESSAGE' : 'OFFSET_FOUND_NULL';
    return { ...base, status, messages: out.messages, nextOffset: out.next };
  }

  /** Entries chosen by their index entry alone (no filter, or tags): up to `wanted`, within maxBytes, then their records. */
  private async takeByIndex(refs: readonly EntryRef[], offset: number, wanted: number, maxBytes: number, filter: MessageFilter | undefined): Promise<Taken> {
    const picked: PickedEntry[] = [];
    let next = offset;
    let bytes = 0;
    for (let i = 0; i < refs.length; i++) {
      const r = refs[i]!;
      const size = entrySize(r.buf, r.idx);
      if (picked.length >= wanted || (picked.length > 0 && bytes + size > maxBytes)) break;
      next = offset + i + 1;
      if (size <= 0) continue;
      const tagsCode = entryTagsCode(r.buf, r.idx);
      if (filter && !filter.matchByTagsCode(tagsCode)) continue;
      picked.push({ offset: offset + i, logOffset: entryLogOffset(r.buf, r.idx), size, tagsCode, storeTime: entryStoreTime(r.buf, r.idx) });
      bytes += size;
    }
    if (picked.length === 0) return { messages: [], next, anyPicked: false, anyRecord: false };
    const records = await this.readRecords(picked);
    const messages: StoredMessage[] = [];
    for (let k = 0; k < picked.length; k++) {
      const record = records[k];
      if (record) messages.push(storedOf(picked[k]!, record));
    }
    return { messages, next, anyPicked: true, anyRecord: messages.length > 0 };
  }

  /**
   * Entries checked on their records too (SQL92): read in chunks of at least RECORD_CHUNK entries
   * (a selective filter rejects most, and small chunks of cold records would be a pread each),
   * taken until `wanted` matches or maxBytes of them; the next read starts right after the last
   * one taken, or after the whole scan when it ran out first, so no match is ever skipped.
   */
  private async takeByRecord(refs: readonly EntryRef[], offset: number, wanted: number, maxBytes: number, filter: MessageFilter): Promise<Taken> {
    const messages: StoredMessage[] = [];
    let bytes = 0;
    let anyPicked = false;
    let anyRecord = false;
    let i = 0;
    while (i < refs.length) {
      const picked: PickedEntry[] = [];
      const chunk = Math.max(RECORD_CHUNK, wanted - messages.length);
      for (; i < refs.length && picked.length < chunk; i++) {
        const r = refs[i]!;
        const size = entrySize(r.buf, r.idx);
        if (size <= 0) continue;
        const tagsCode = entryTagsCode(r.buf, r.idx);
        if (!filter.matchByTagsCode(tagsCode)) continue;
        picked.push({ offset: offset + i, logOffset: entryLogOffset(r.buf, r.idx), size, tagsCode, storeTime: entryStoreTime(r.buf, r.idx) });
      }
      if (picked.length === 0) break;
      anyPicked = true;
      const records = await this.readRecords(picked);
      for (let k = 0; k < picked.length; k++) {
        const record = records[k];
        if (!record) continue;
        anyRecord = true;
        if (!filter.matchByRecord!(record)) continue;
        const e = picked[k]!;
        // Over the byte budget: this match is the first of the next read.
        if (messages.length > 0 && bytes + e.size > maxBytes) return { messages, next: e.offset, anyPicked, anyRecord };
        messages.push(storedOf(e, record));
        bytes += e.size;
        if (messages.length >= wanted) return { messages, next: e.offset + 1, anyPicked, anyRecord };
      }
    }
    return { messages, next: offset + i, anyPicked, anyRecord };
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
