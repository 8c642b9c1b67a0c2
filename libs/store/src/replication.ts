import { MessageMagic, checkRecord } from '@apogee/message';
import type { CommitLog } from './commit-log.js';
import type { Dispatcher } from './dispatch.js';
import { entersQueues } from './dispatch-rules.js';
import type { PutPath } from './put-path.js';
import { RecordFieldReader } from './record-fields.js';

/**
 * A replication step the store refuses: a chunk it cannot apply where it is (its log would differ
 * from its master's), a truncation to a point that is not a record boundary of its log, or an epoch
 * that would break its epoch history.
 */
export class ReplicationError extends Error {
  override readonly name = 'ReplicationError';
}

/** Whole records of a master's log for a replica, and where the next chunk starts. */
export interface ReplicaChunk {
  bytes: Buffer;
  /** `from` + bytes.length, or the next segment's start after an end-of-segment filler. */
  next: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * The master's side of commit-log replication (docs/ha-design.md): whole records from `from` (a
 * record boundary), confirmed ones only (a replica never holds what its master could still lose),
 * about `maxBytes` (more when the first record is larger), never past a segment's end-of-segment
 * filler (sent as its 8 bytes). Empty when there is nothing new; null when `from` is not retained
 * or not a position this log has.
 */
export async function readForReplica(log: CommitLog, segmentSize: number, from: number, maxBytes: number): Promise<ReplicaChunk | null> {
  const confirmed = log.confirmedPos;
  if (from > confirmed || from < log.minPos) return null;
  if (from === confirmed) return { bytes: EMPTY, next: from };
  const segEnd = log.segmentBase(from) + segmentSize;
  const read = async (len: number) => log.readHot(from, len) ?? (await log.readCold(from, len));
  let raw = await read(Math.min(confirmed, segEnd, from + maxBytes) - from);
  if (raw === null) return null;
  let at = 0;
  for (;;) {
    if (raw.length - at < 8) break;
    const size = raw.readInt32BE(at);
    if (raw.readInt32BE(at + 4) === MessageMagic.BLANK) return { bytes: raw.subarray(0, at + 8), next: segEnd };
    if (size <= 0) return null; // not a record boundary
    if (at + size > raw.length) {
      if (at > 0) break;
      // The first record is larger than maxBytes: send it whole.
      if (from + size > Math.min(confirmed, segEnd)) return null;
      raw = await read(size);
      if (raw === null) return null;
    }
    at += size;
  }
  return { bytes: raw.subarray(0, at), next: from + at };
}

/**
 * The replica's side: appends raw log bytes its master sent, at the same positions, and indexes
 * them as recovery does (queue, LMQ and key entries at the offsets the records carry), so its log
 * and indexes equal the master's. Whole records only: a chunk ending inside a record stops before
 * it. The master's end-of-segment filler seals the replica's segment in the same place. A chunk
 * that does not start at the replica's end, a record that fails its checks, or a record the
 * replica would place elsewhere is refused with ReplicationError; the records before it stay
 * applied.
 */
export class ReplicaApplier {
  private readonly rec = new RecordFieldReader();

  constructor(
    private readonly log: CommitLog,
    private readonly dispatcher: Dispatcher,
    private readonly puts: PutPath,
    private readonly segmentSize: number,
  ) {}

  /** Applies what it can of `bytes` (which start at log offset `from`); resolves with the new end once it is confirmed. */
  apply(from: number, bytes: Buffer): Promise<number> {
    try {
      this.applyRecords(from, bytes);
    } catch (err) {
      this.log.writeSoon(); // the good records before the refused one are kept
      return Promise.reject(err as Error);
    }
    this.log.writeSoon();
    const end = this.log.appendPos;
    return this.log.whenConfirmed(end, end);
  }

  private applyRecords(from: number, bytes: Buffer): void {
    const log = this.log;
    if (log.truncating !== null) throw new ReplicationError(`cannot apply a chunk now: ${log.truncating}`);
    if (from !== log.appendPos) throw new ReplicationError(`the chunk starts at ${from}, this replica's log ends at ${log.appendPos}`);
    let at = 0;
    while (bytes.length - at >= 8) {
      const pos = from + at;
      const size = bytes.readInt32BE(at);
      if (bytes.readInt32BE(at + 4) === MessageMagic.BLANK) {
        const segEnd = log.segmentBase(pos) + this.segmentSize;
        if (size !== segEnd - pos) throw new ReplicationError(`end-of-segment filler at ${pos} of ${size} bytes does not reach the segment end ${segEnd}`);
        log.sealSegment();
        break; // the master sends nothing past a segment end in one chunk
      }
      if (size > bytes.length - at && size <= log.maxRecordSize) break; // the rest comes in the next chunk
      const check = checkRecord(bytes, at, bytes.length - at, { expectedPhysicalOffset: pos });
      if (check.kind !== 'record') throw new ReplicationError(`no valid record at ${pos}: ${check.kind === 'corrupt' ? check.reason : check.kind}`);
      const placed = log.reserve(check.size);
      if (placed !== pos) throw new ReplicationError(`the record of ${check.size} bytes from ${pos} would land at ${placed} here (segment sizes differ?)`);
      log.copyIn(placed, bytes.subarray(at, at + check.size));
      const rec = this.rec.read(bytes, at);
      if (rec.storeTimestamp > this.puts.lastStoreTimestamp) this.puts.lastStoreTimestamp = rec.storeTimestamp;
      if (entersQueues(rec.sysFlag)) this.dispatcher.redispatch(rec, placed, check.size);
      at += check.size;
    }
  }
}
