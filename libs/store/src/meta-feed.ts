import { randomBytes } from 'node:crypto';
import type { MetaFeedPosition } from './api.js';
import { CHANGES_OVERHEAD, MAX_META_FRAME_BYTES, type MetaChange, changeSize, encodeChanges } from './meta-change-codec.js';

/** Default bound of the journal's changes, in (approximate) encoded bytes. */
export const META_JOURNAL_MAX_BYTES = 16 * 1024 * 1024;
/** Default bound of the journal's changes, in count. */
export const META_JOURNAL_MAX_CHANGES = 100_000;

/**
 * A change in the journal: the change object itself, with its sequence number, approximate
 * encoded size (string lengths in UTF-16 units) and `dead` once a later change of the same
 * consumer offset superseded it — one object per change, since the journal holds up to
 * META_JOURNAL_MAX_CHANGES of them and their count is what the garbage collector pays for.
 */
type JournalEntry = MetaChange & { seq: number; size: number; dead: boolean };
type OffsetEntry = JournalEntry & { kind: 'offset' | 'offset-delete' };

const isOffset = (e: JournalEntry): e is OffsetEntry => e.kind === 'offset' || e.kind === 'offset-delete';

/**
 * The journal's newest entry per consumer offset: group → topic → queueId, so the commit path
 * looks up strings it has (their hashes cached) and a number, and builds no key.
 */
class OffsetEntries {
  private readonly groups = new Map<string, Map<string, Map<number, OffsetEntry>>>();

  get(group: string, topic: string, queueId: number): OffsetEntry | undefined {
    return this.groups.get(group)?.get(topic)?.get(queueId);
  }

  set(e: OffsetEntry): void {
    const { group, topic, queueId } = e;
    let topics = this.groups.get(group);
    if (topics === undefined) this.groups.set(group, (topics = new Map()));
    let queues = topics.get(topic);
    if (queues === undefined) topics.set(topic, (queues = new Map()));
    queues.set(queueId, e);
  }

  /** Forgets `e` if it is still the entry of its offset. */
  delete(e: OffsetEntry): void {
    const topics = this.groups.get(e.group);
    const queues = topics?.get(e.topic);
    if (queues?.get(e.queueId) !== e) return;
    queues.delete(e.queueId);
    if (queues.size === 0) {
      topics!.delete(e.topic);
      if (topics!.size === 0) this.groups.delete(e.group);
    }
  }

  clear(): void {
    this.groups.clear();
  }
}

/** Approximate encoded size of a consumer-offset change (exact for ASCII names). */
const offsetSize = (group: string, topic: string) => 22 + group.length + topic.length;

/**
 * The metadata change feed's journal (docs/ha-design.md decision 4): every durable metadata
 * mutation made through the store, in the order it was made, each with a sequence number, kept
 * in memory within a bound of bytes and count — the oldest fall out, and a replica behind them
 * needs a snapshot. Consumer-offset changes of one (group, topic, queueId) coalesce: the newer
 * one replaces the older in the journal (moving to the end, with a new sequence number), so a
 * consumer committing on every pull leaves one entry, not one per commit.
 *
 * `generation` is random per store open: sequence numbers mean nothing across a restart.
 */
export class MetaFeed {
  readonly generationBytes = randomBytes(16);
  readonly generation = this.generationBytes.toString('hex');
  /** Sequence number of the newest change (0: none yet). */
  private seq = 0;
  /** Changes with seq <= floor may be gone from the journal: a position below it cannot be served. */
  private floor = 0;
  private entries: JournalEntry[] = [];
  private head = 0;
  private liveBytes = 0;
  private liveCount = 0;
  private deadCount = 0;
  private readonly byOffset = new OffsetEntries();
  private readonly listeners = new Set<(position: MetaFeedPosition) => void>();
  private notifyQueued = false;
  /** While set, changes are not recorded (a snapshot being applied resets the journal instead). */
  suspended = false;

  constructor(
    private maxBytes = META_JOURNAL_MAX_BYTES,
    private maxChanges = META_JOURNAL_MAX_CHANGES,
  ) {}

  position(): MetaFeedPosition {
    return { generation: this.generation, seq: this.seq };
  }

  /** Changes held (live) and their approximate bytes; the oldest position still served. */
  stats(): { changes: number; bytes: number; floor: number; seq: number } {
    return { changes: this.liveCount, bytes: this.liveBytes, floor: this.floor, seq: this.seq };
  }

  /** Changes the bounds (tests); the journal is trimmed to them at once. */
  setLimits(maxBytes: number, maxChanges: number): void {
    this.maxBytes = maxBytes;
    this.maxChanges = maxChanges;
    this.trim();
  }

  /** A consumer offset commit; replaces the journal's earlier change of the same offset. */
  offsetCommitted(group: string, topic: string, queueId: number, offset: number): void {
    if (this.suspended) return;
    const prev = this.byOffset.get(group, topic, queueId);
    if (prev !== undefined && prev.kind === 'offset' && prev === this.entries[this.entries.length - 1]) {
      // The hot path — the same consumer again, nothing else in between: renumber in place.
      prev.offset = offset;
      prev.seq = ++this.seq;
      this.changed();
      return;
    }
    this.append({ kind: 'offset', group, topic, queueId, offset, seq: 0, size: offsetSize(group, topic), dead: false }, prev);
  }

  offsetDeleted(group: string, topic: string, queueId: number): void {
    if (this.suspended) return;
    this.append(
      { kind: 'offset-delete', group, topic, queueId, seq: 0, size: offsetSize(group, topic) - 8, dead: false },
      this.byOffset.get(group, topic, queueId),
    );
  }

  /** Any other change (topic configs, meta KV): kept in order, never coalesced. The journal adopts the object. */
  record(change: MetaChange): void {
    if (this.suspended) return;
    let size: number;
    switch (change.kind) {
      case 'meta':
        size = 16 + change.namespace.length + change.key.length + change.value.length;
        break;
      case 'meta-delete':
        size = 16 + change.namespace.length + change.key.length;
        break;
      default:
        size = 512;
    }
    const e = change as JournalEntry;
    e.seq = 0;
    e.size = size;
    e.dead = false;
    this.append(e, undefined);
  }

  /**
   * The changes after `fromSeq` of this generation, encoded, about `maxBytes` (at least one
   * change when there is one); null when that position is not served (another generation, fallen
   * out of the journal, or ahead of this feed): the reader needs a snapshot.
   */
  read(generation: string, fromSeq: number, maxBytes: number): Buffer | null {
    if (generation !== this.generation || !Number.isSafeInteger(fromSeq) || fromSeq < this.floor || fromSeq > this.seq) return null;
    const budget = Math.min(Math.max(maxBytes, 0), MAX_META_FRAME_BYTES) - CHANGES_OVERHEAD;
    const out: MetaChange[] = [];
    let bytes = 0;
    let toSeq = this.seq;
    for (let i = this.firstAfter(fromSeq); i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (e.dead) continue;
      const n = changeSize(e);
      if (out.length > 0 && bytes + n > budget) {
        toSeq = this.entries[i - 1]!.seq;
        break;
      }
      out.push(e);
      bytes += n;
    }
    return encodeChanges(this.generationBytes, fromSeq, toSeq, out, bytes);
  }

  /** Forgets every change: positions before now are no longer served (after a snapshot was applied). */
  reset(): void {
    this.seq++;
    this.floor = this.seq;
    this.entries = [];
    this.head = 0;
    this.liveBytes = 0;
    this.liveCount = 0;
    this.deadCount = 0;
    this.byOffset.clear();
    this.changed();
  }

  onChange(listener: (position: MetaFeedPosition) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private append(e: JournalEntry, prev: OffsetEntry | undefined): void {
    if (prev !== undefined) {
      prev.dead = true;
      this.liveBytes -= prev.size;
      this.liveCount--;
      this.deadCount++;
    }
    e.seq = ++this.seq;
    this.entries.push(e);
    if (isOffset(e)) this.byOffset.set(e);
    this.liveBytes += e.size;
    this.liveCount++;
    this.trim();
    this.changed();
  }

  private trim(): void {
    while ((this.liveBytes > this.maxBytes || this.liveCount > this.maxChanges) && this.head < this.entries.length) {
      const e = this.entries[this.head++]!;
      if (e.dead) {
        this.deadCount--;
        continue;
      }
      this.floor = e.seq;
      this.liveBytes -= e.size;
      this.liveCount--;
      if (isOffset(e)) this.byOffset.delete(e);
    }
    // Drop what fell out, and superseded entries once they outnumber the live ones (amortised O(1)).
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    if (this.deadCount > 1024 && this.deadCount > this.liveCount) {
      this.entries = this.entries.slice(this.head).filter((e) => !e.dead);
      this.head = 0;
      this.deadCount = 0;
    }
  }

  /** Index of the first entry with seq > `seq` (entries are in seq order). */
  private firstAfter(seq: number): number {
    let lo = this.head;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.entries[mid]!.seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private changed(): void {
    if (this.notifyQueued || this.listeners.size === 0) return;
    this.notifyQueued = true;
    queueMicrotask(() => {
      this.notifyQueued = false;
      const p = this.position();
      for (const l of this.listeners) l(p);
    });
  }
}
