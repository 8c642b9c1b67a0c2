import { BLOCK_ENTRIES, ENTRY_BYTES } from './queue-entry.js';

/** A full block kept in memory until its LMDB write has committed. */
export interface SealedBlock {
  base: number;
  buf: Buffer;
  /** Flush generation that wrote it to LMDB; 0 while unwritten. Dropped once that commits. */
  gen: number;
}

/**
 * In-memory state of one queue (a topic queue or an LMQ) while it is cached: its offsets and the
 * tail block of its index. Entries [tailBase, next) are in `tail`; older ones are in LMDB blocks
 * (or in `sealed` until persisted).
 */
export class QueueState {
  next = 0;
  min = 0;
  lastActive = 0;
  tail: Buffer;
  tailBase = 0;
  sealed: SealedBlock[] = [];
  /** Entries below this offset are persisted (or in an LMDB commit in flight). */
  persisted = 0;
  metaDirty = false;
  /** Flush generation that wrote the full tail as a block (0: not written). */
  tailBlockGen = 0;
  /** Its row exists in LMDB (or is in a write in flight). */
  rowWritten = false;
  /** Member of the index's dirty set. */
  inDirty = false;
  /** Flush generation that last wrote this queue; evictable once that generation committed. */
  flushGen = 0;
  touchGen = -1;
  /** CommitLog min offset that `min` was last corrected against. */
  minCheckedAt = -1;
  /** Log end of the newest entry (arrival notification). */
  lastEnd = 0;
  /** Highest max offset announced to arrival listeners. */
  notified = 0;
  /** Bytes the index's cache total counts for this state (see QueueIndex.account). */
  accounted = 0;

  constructor(
    readonly key: string,
    readonly qid: number,
    readonly topic: string,
    readonly queueId: number,
  ) {
    this.tail = EMPTY;
  }

  /**
   * Bytes this state holds in memory, by estimate: the object with its map entry and strings,
   * its tail block and the sealed blocks awaiting their LMDB commit.
   */
  get memBytes(): number {
    let n = STATE_OVERHEAD_BYTES + 2 * (this.key.length + (this.key === this.topic ? 0 : this.topic.length)) + this.tail.length;
    for (const s of this.sealed) n += SEALED_OVERHEAD_BYTES + s.buf.length;
    return n;
  }

  get tailCount(): number {
    return this.next - this.tailBase;
  }

  /** Makes room for one more entry in the tail, sealing a full block. Returns the entry index. */
  slotForAppend(): number {
    let idx = this.next - this.tailBase;
    if (idx === BLOCK_ENTRIES) {
      // Always kept: even a block already written may not be committed (readable in LMDB) yet.
      this.sealed.push({ base: this.tailBase, buf: this.tail, gen: this.tailBlockGen });
      this.tailBlockGen = 0;
      // A queue that filled a block is busy: its next tail gets a whole block at once.
      this.tail = Buffer.allocUnsafe(BLOCK_ENTRIES * ENTRY_BYTES);
      this.tailBase = this.next;
      idx = 0;
    }
    if ((idx + 1) * ENTRY_BYTES > this.tail.length) {
      const grown = Buffer.allocUnsafe(Math.min(BLOCK_ENTRIES, Math.max(4, (this.tail.length / ENTRY_BYTES) * 2)) * ENTRY_BYTES);
      this.tail.copy(grown, 0, 0, idx * ENTRY_BYTES);
      this.tail = grown;
    }
    return idx;
  }

  /** The in-memory buffer and index holding entry `offset`, or null if only LMDB has it. */
  memEntry(offset: number): { buf: Buffer; idx: number } | null {
    if (offset >= this.tailBase && offset < this.next) return { buf: this.tail, idx: offset - this.tailBase };
    for (const s of this.sealed) {
      if (offset >= s.base && offset < s.base + BLOCK_ENTRIES) return { buf: s.buf, idx: offset - s.base };
    }
    return null;
  }
}

const EMPTY = Buffer.alloc(0);

/** The state object, its cache-map entry and its tail's Buffer object (V8 sizes, rounded up). */
export const STATE_OVERHEAD_BYTES = 320;
/** A sealed block's record and Buffer object. */
const SEALED_OVERHEAD_BYTES = 120;
