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

/**
 * Opens the CommitLog and re-dispatches every record past the index's dispatch marker into the
 * queue, LMQ and key indexes (at the offsets the records carry); truncates index entries that
 * point past the log's true end; persists the rebuilt index up to the end. Records are read in place by one reused field reader.
 */
export async function recover(
  commitLog: CommitLog,
  index: QueueIndex,
  keyIndex: KeyIndex,
  dispatcher: Dispatcher,
  cp: Checkpoint | null,
  log: Logger,
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
  const from = trusted ? marker : cp ? Math.min(marker, cpFlushed) : commitLog.segmentBase(marker);
  await commitLog.recover(from, marker, Math.max(marker, cpFlushed, cpMin), (buf, off, size, pos) => {
    records++;
    rec.read(buf, off);
    if (rec.storeTimestamp > lastStoreTimestamp) lastStoreTimestamp = rec.storeTimestamp;
    if (entersQueues(rec.sysFlag)) dispatcher.redispatch(rec, pos, size);
  });
  const end = commitLog.appendPos;
  if (marker > end) {
    const fixed = index.truncateAbove(end);
    log.warn({ marker, end, queuesFixed: fixed }, 'store: index was ahead of the commit log (durable data lost); truncated');
  }
  await index.flush(end, () => keyIndex.flushInto(end));
  log.info({ clean, from, marker, end, records, ms: Date.now() - t0 }, 'store: recovered');
  return { end, lastStoreTimestamp };
}
