import type { Checkpoint } from './checkpoint.js';
import type { CommitLog } from './commit-log.js';
import type { Dispatcher } from './dispatch.js';
import { entersQueues } from './dispatch-rules.js';
import type { KeyIndex } from './key-index.js';
import type { Logger } from './logger.js';
import type { QueueIndex } from './queue-index.js';
import { RecordFieldReader } from './record-fields.js';

/** Where recovery ended. */
export interface Recovered {
  /** End of the commit log (the next append position). */
  end: number;
  /** Newest store time seen (the checkpoint's, or a newer record's). */
  lastStoreTimestamp: number;
}

/** An interrupted truncation (truncation.ts) that recovery finishes. */
export interface PendingCut {
  /** Where the log is to end. */
  offset: number;
  /** Store time of the first record cut (where the key index's rows of the cut records start). */
  keysFrom: number;
}

/**
 * Opens the CommitLog and re-dispatches every record past the index's dispatch marker into the
 * queue, LMQ and key indexes (at the offsets the records carry); truncates index entries that
 * point past the log's true end; persists the rebuilt index up to the end. Records are read in place by one reused field reader.
 * With `cut`, the log ends at `cut.offset` at the latest, and the queue, LMQ and key indexes are
 * cut there whatever the dispatch marker says (the truncation may have stopped anywhere).
 */
export async function recover(
  commitLog: CommitLog,
  index: QueueIndex,
  keyIndex: KeyIndex,
  dispatcher: Dispatcher,
  cp: Checkpoint | null,
  log: Logger,
  cut?: PendingCut,
): Promise<Recovered> {
  const cpFlushed = cp?.flushedOffset ?? 0;
  const cpMin = cp?.minOffset ?? 0;
  const clean = cp?.cleanShutdown ?? false;
  const marker = index.dispatchedMarker();
  const t0 = Date.now();
  let records = 0;
  let lastStoreTimestamp = cp?.lastStoreTimestamp ?? 0;
  const rec = new RecordFieldReader();
  // After a clean shutdown the log ends exactly at the marker. After a crash, everything below the
  // older of the marker and the checkpoint's flushed offset was durable before either was written
  // (both are record boundaries), so the scan starts there: what is re-read is bounded by the
  // checkpoint window, not by how full the segment is. Without a checkpoint (lost or never
  // written) nothing vouches for the marker: the whole segment holding it is scanned, so a loss of
  // durable data there (a lying or damaged disk) cannot hide the true end.
  const trusted = clean && cpFlushed === marker;
  const scanFrom = trusted ? marker : cp ? Math.min(marker, cpFlushed) : commitLog.segmentBase(marker);
  // An interrupted truncation's target is a record boundary: the scan starts at or below it.
  const from = cut ? Math.min(scanFrom, cut.offset) : scanFrom;
  /** Store time of the last record scanned (0: none). */
  let lastScanned = 0;
  const onRecord = (buf: Buffer, off: number, size: number, pos: number) => {
    records++;
    rec.read(buf, off);
    lastScanned = rec.storeTimestamp;
    if (rec.storeTimestamp > lastStoreTimestamp) lastStoreTimestamp = rec.storeTimestamp;
    if (entersQueues(rec.sysFlag)) dispatcher.redispatch(rec, pos, size);
  };
  await commitLog.recover(from, marker, Math.max(marker, cpFlushed, cpMin), onRecord, cut?.offset);
  const end = commitLog.appendPos;
  if (cut) {
    const queuesFixed = index.truncateAbove(end);
    const keysDropped = keyIndex.truncateAbove(end, Math.min(cut.keysFrom, lastScanned || cut.keysFrom));
    log.warn({ offset: cut.offset, end, marker, queuesFixed, keysDropped }, 'store: finished an interrupted truncation of the commit log');
  } else if (marker > end) {
    const fixed = index.truncateAbove(end);
    // Rows of the lost records are in buckets from the last record kept on (store times never go backwards).
    const keysDropped = keyIndex.truncateAbove(end, lastScanned);
    log.warn({ marker, end, queuesFixed: fixed, keysDropped }, 'store: index was ahead of the commit log (durable data lost); truncated');
  }
  await index.flush(end, () => keyIndex.flushInto(end));
  log.info({ clean, from, marker, end, records, ms: Date.now() - t0 }, 'store: recovered');
  return { end, lastStoreTimestamp };
}
