import fs from 'node:fs';
import { BLANK_MIN_BYTES, Histogram, LATENCY_BUCKETS_SECONDS, MessageMagic, checkRecord } from '@apogee/message';
import type { ResolvedStoreConfig } from './config.js';
import { StoreUnavailableError } from './errors.js';
import { HotTail, pageSizeFor } from './hot-tail.js';
import type { Logger } from './logger.js';
import { type Segment, SegmentSet } from './segments.js';

/** A writev in flight: log bytes [start, end); `next` is where the log continues after it. */
interface InflightWrite {
  start: number;
  end: number;
  next: number;
  done: boolean;
  error: Error | null;
}

/** A second write starts alongside the first once this much is waiting. */
const PARALLEL_WRITE_BYTES = 1024 * 1024;
const MAX_WRITES_IN_FLIGHT = 2;

/** A hot tail that saw no append for this long gives its memory back (HotTail.shrink). */
const IDLE_SHRINK_MS = 5000;

interface Waiter {
  end: number;
  value: unknown;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** What a resolved waiter's slot holds until the array is compacted. */
const RESOLVED: Waiter = { end: 0, value: undefined, resolve: () => {}, reject: () => {} };

/** Called for each valid record found by recovery at or after the dispatch point. */
export type RecoveredRecord = (buf: Buffer, offset: number, size: number, logOffset: number) => void;

/**
 * The CommitLog: one append-only log of records in fixed-size segment files.
 *
 * Positions (absolute log offsets), always appendPos >= writtenPos >= flushedPos:
 * - appendPos: next byte to assign (records are encoded into the hot tail synchronously);
 * - writtenPos: bytes handed to the OS (survive a process kill);
 * - flushedPos: bytes fdatasync'ed (survive a power cut).
 * `confirmedPos` is what a put waits for and what readers may see: writtenPos under
 * ASYNC_FLUSH, flushedPos under SYNC_FLUSH. One writev and one fdatasync are in flight at a time;
 * everything appended meanwhile goes into the next one (group commit).
 */
export class CommitLog {
  readonly segments: SegmentSet;
  readonly pageSize: number;
  private hot!: HotTail;
  appendPos = 0;
  writtenPos = 0;
  flushedPos = 0;
  /** Called whenever confirmedPos advances. */
  onConfirmed: (confirmedPos: number) => void = () => {};
  /** Called whenever flushedPos advances. */
  onFlushed: (flushedPos: number) => void = () => {};

  private readonly waiters: Waiter[] = [];
  private waiterHead = 0;
  private readonly inflight: InflightWrite[] = [];
  private flushing = false;
  private readonly unsynced = new Set<Segment>();
  private writeError: Error | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  /** appendPos at the previous idle check. */
  private idleMark = -1;
  private closed = false;
  private idleResolvers: Array<() => void> = [];
  /** Fsync batches and the records they covered, for stats. */
  fsyncs = 0;
  /** Seconds from each fdatasync call to its callback (one clock read per flush, one per segment synced). */
  readonly fsyncLatency = new Histogram(LATENCY_BUCKETS_SECONDS);

  constructor(
    private readonly cfg: ResolvedStoreConfig,
    dir: string,
    private readonly log: Logger,
  ) {
    this.segments = new SegmentSet(dir, cfg.segmentSize);
    this.pageSize = pageSizeFor(cfg.segmentSize);
  }

  get syncMode(): boolean {
    return this.cfg.flushMode === 'SYNC_FLUSH';
  }

  get confirmedPos(): number {
    return this.syncMode ? this.flushedPos : this.writtenPos;
  }

  get minPos(): number {
    return this.segments.first()?.base ?? this.appendPos;
  }

  /** Largest record that fits a segment together with the end-of-segment filler. */
  get maxRecordSize(): number {
    return this.cfg.segmentSize - BLANK_MIN_BYTES;
  }

  // ---------------------------------------------------------------- recovery

  /**
   * Opens the log: loads segments, walks records from `scanFrom` (a record boundary) checking each (size, magic,
   * position, body CRC, record CRC), hands those at or after `dispatchFrom` to `onRecord`, and
   * truncates at the first bad or missing record. `floorPos` is the lowest offset the log may
   * restart at when no segment is left (offsets never go backwards). With `stopAt` (a record
   * boundary at or above `scanFrom`: an interrupted truncation's target) the log ends there at
   * the latest, whatever follows it.
   */
  async recover(scanFrom: number, dispatchFrom: number, floorPos: number, onRecord: RecoveredRecord, stopAt = Number.POSITIVE_INFINITY): Promise<void> {
    this.segments.load();
    const size = this.cfg.segmentSize;
    if (this.segments.segments.length === 0) {
      const base = Math.ceil(floorPos / size) * size;
      this.segments.createSync(base);
      this.setPositions(base);
      return;
    }
    const first = this.segments.first()!;
    let pos = Math.max(scanFrom, first.base);
    // Past the last segment (the log lost data the index had seen): scan all of the last one.
    let seg = this.segments.find(pos) ?? this.segments.last()!;
    if (pos >= seg.base + size) pos = seg.base;
    const chunk = Math.min(size, 8 * 1024 * 1024);
    let end = -1;
    let reason = '';
    scan: while (seg) {
      const segEnd = seg.base + size;
      const fd = this.segments.fd(seg);
      let buf = Buffer.allocUnsafe(Math.min(chunk, segEnd - pos));
      let bufPos = pos;
      let bufLen = await readAt(fd, buf, pos - seg.base);
      while (pos < segEnd) {
        if (pos >= stopAt) {
          end = pos;
          reason = 'an interrupted truncation ends the log here';
          break scan;
        }
        let off = pos - bufPos;
        let avail = bufLen - off;
        const need = avail >= 8 ? buf.readInt32BE(off) : 8;
        if (need > avail && need <= segEnd - pos && segEnd - pos > avail) {
          // The record announced here goes past the buffer: refill from pos, large enough for it.
          const want = Math.min(segEnd - pos, Math.max(chunk, need));
          if (buf.length < want) buf = Buffer.allocUnsafe(want);
          bufPos = pos;
          bufLen = await readAt(fd, buf.subarray(0, want), pos - seg.base);
          off = 0;
          avail = bufLen;
        }
        const check = checkRecord(buf, off, avail, { expectedPhysicalOffset: pos });
        if (check.kind === 'record') {
          if (pos >= dispatchFrom) onRecord(buf, off, check.size, pos);
          pos += check.size;
          continue;
        }
        if (check.kind === 'blank') {
          if (pos + check.size !== segEnd) {
            end = pos;
            reason = 'end-of-segment filler does not reach the segment end';
            break scan;
          }
          seg.dataEnd = pos + BLANK_MIN_BYTES;
          pos = segEnd;
          break;
        }
        end = pos;
        reason = check.kind === 'corrupt' ? check.reason : '';
        break scan;
      }
      const next = this.segments.find(segEnd);
      if (!next || pos >= stopAt) {
        end = pos;
        break;
      }
      seg = next;
      pos = segEnd;
    }
    await this.truncate(end, reason);
    this.setPositions(end);
  }

  /** Makes `end` the end of the log: discards bytes after it and later segments, syncs. */
  private async truncate(end: number, reason: string): Promise<void> {
    const size = this.cfg.segmentSize;
    let seg = this.segments.find(end);
    if (!seg && end === this.segments.last()!.base + size) {
      // The log ends exactly at a segment end: start the next one.
      seg = this.segments.createSync(end);
    }
    if (!seg) throw new Error(`recovery end ${end} outside the commit log`);
    this.segments.removeAfter(seg);
    const fd = this.segments.fd(seg);
    const inSeg = end - seg.base;
    const probe = Buffer.alloc(Math.min(8, size - inSeg));
    await readAt(fd, probe, inSeg);
    if (probe.some((b) => b !== 0)) this.log.warn({ offset: end, reason }, 'commit log: truncating a torn or corrupt tail');
    // Always discard every byte after `end`, even when it reads as zeros: writes land out of order
    // (two writes in flight, or pages after a power cut), so whole records may sit beyond a hole,
    // and must never reappear once new appends fill the hole. Shrinking then re-growing the file
    // makes them zeros.
    fs.ftruncateSync(fd, inSeg);
    fs.ftruncateSync(fd, size);
    for (const s of this.segments.segments) {
      if (s.base + size > end - size) fs.fdatasyncSync(this.segments.fd(s));
    }
  }

  /**
   * Why appends are refused while the log is cut back (truncation.ts), or null. Set for the whole
   * of a truncation, and for good when one failed midway (the next open finishes it).
   */
  truncating: string | null = null;

  /**
   * Makes `end` (a record boundary at or below the end) the end of the log at run time: the
   * segment holding `end` is cut there (the rest of it zeroed) and synced first, then the later
   * segments are deleted, newest first, and the directory synced; the hot tail restarts at `end`.
   * Nothing may be in flight: the caller drained the log and holds appends off (`truncating`).
   * `afterCut` runs between the cut and the deletions (a test hook).
   */
  async cutTo(end: number, afterCut: () => void = () => {}): Promise<void> {
    if (this.inflight.length > 0 || this.flushing || this.appendPos !== this.writtenPos || this.writtenPos !== this.flushedPos)
      throw new Error('commit log: cannot cut while writes or flushes are pending');
    const size = this.cfg.segmentSize;
    let seg = this.segments.find(end);
    if (!seg && end === this.segments.last()!.base + size) seg = this.segments.createSync(end);
    if (!seg) throw new Error(`commit log: ${end} is outside the log`);
    seg.readers++;
    try {
      const fd = this.segments.fd(seg);
      // Shrinking then re-growing zeroes every byte after `end` (see truncate).
      await fdCall((cb) => fs.ftruncate(fd, end - seg.base, cb));
      await fdCall((cb) => fs.ftruncate(fd, size, cb));
      await fdCall((cb) => fs.fdatasync(fd, cb));
    } finally {
      seg.readers--;
    }
    seg.dataEnd = null; // no longer sealed: appends continue in it
    afterCut();
    await this.segments.removeAfterAsync(seg);
    this.setPositions(end);
  }

  private setPositions(end: number): void {
    this.appendPos = end;
    this.writtenPos = end;
    this.flushedPos = end;
    this.hot = new HotTail(this.pageSize, this.cfg.hotTailBytes, end);
  }

  // ---------------------------------------------------------------- append

  /** Why puts cannot be taken now, or null. */
  refusal(): StoreUnavailableError | null {
    if (this.closed) return new StoreUnavailableError('CLOSED', 'the store is closed');
    if (this.truncating !== null) return new StoreUnavailableError('WRITE_FAILED', this.truncating);
    if (this.writeError) return new StoreUnavailableError('WRITE_FAILED', `commit log writes are failing (${this.writeError.message}); retrying`);
    const backlog = this.appendPos - this.writtenPos;
    if (backlog > this.cfg.maxWriteBacklogBytes) {
      return new StoreUnavailableError(
        'WRITE_BACKLOG',
        `${backlog} bytes wait to be written to disk (limit ${this.cfg.maxWriteBacklogBytes}); the disk is slower than the producers`,
      );
    }
    return null;
  }

  /**
   * Reserves `size` bytes for the next record and returns its log offset. When the record and
   * the 8-byte filler do not fit the current segment, the segment is sealed with a filler and the
   * record goes to the start of the next one.
   */
  reserve(size: number): number {
    let pos = this.appendPos;
    const segEnd = this.segments.baseOf(pos) + this.cfg.segmentSize;
    if (pos + size + BLANK_MIN_BYTES > segEnd) {
      this.sealAt(pos, segEnd);
      pos = segEnd;
    } else if (pos === segEnd - this.cfg.segmentSize && !this.segments.find(pos)) {
      this.segments.createSync(pos);
    }
    this.appendPos = pos + size;
    return pos;
  }

  /**
   * Seals the current segment with the end-of-segment filler now, so the log continues at the
   * next segment — what a replica does where its master's log has the filler (the master sealed
   * it because its next record did not fit). Refused on an empty segment (a master never seals one).
   */
  sealSegment(): void {
    const pos = this.appendPos;
    const base = this.segments.baseOf(pos);
    if (pos === base) throw new Error(`cannot seal the empty segment at ${base}`);
    this.sealAt(pos, base + this.cfg.segmentSize);
    this.appendPos = base + this.cfg.segmentSize;
  }

  private sealAt(pos: number, segEnd: number): void {
    const page = this.hot.page(pos);
    const off = pos % this.pageSize;
    page.writeInt32BE(segEnd - pos, off);
    page.writeInt32BE(MessageMagic.BLANK, off + 4);
    const seg = this.segments.find(pos)!;
    seg.dataEnd = pos + BLANK_MIN_BYTES;
    this.segments.createSync(segEnd);
  }

  /** Where to encode a record of `size` at `pos` in place, or null when it straddles two pages. */
  target(pos: number, size: number): { buf: Buffer; off: number } | null {
    const off = pos % this.pageSize;
    if (off + size > this.pageSize) return null;
    return { buf: this.hot.page(pos), off };
  }

  /** Copies an encoded record into the tail (for records straddling pages). */
  copyIn(pos: number, record: Buffer): void {
    this.hot.copyIn(pos, record);
  }

  /**
   * Resolves with `value` once everything below `end` is confirmed (written or flushed, per flush
   * mode). Waiters are served in the order they came; a later one for an earlier end may wait
   * for the ones before it.
   */
  whenConfirmed<T>(end: number, value: T): Promise<T> {
    if (end <= this.confirmedPos) return Promise.resolve(value);
    return new Promise<T>((resolve, reject) => {
      this.waiters.push({ end, value, resolve: resolve as (v: unknown) => void, reject });
      this.kickSoon();
    });
  }

  /** Starts writing what was appended, at the end of the current task (see kickSoon). */
  writeSoon(): void {
    this.kickSoon();
  }

  /**
   * Starts the write at the end of the current task rather than now: the puts of one socket read
   * (many frames in one chunk) then go out in one writev instead of a first one-record write and
   * a second write for the rest.
   */
  private kickSoon(): void {
    if (this.kickQueued) return;
    this.kickQueued = true;
    queueMicrotask(this.deferredKick);
  }

  private kickQueued = false;
  private readonly deferredKick = (): void => {
    this.kickQueued = false;
    this.kick();
  };

  /**
   * Starts writes: one whenever data waits and none is in flight (latency), and a second one in
   * parallel once at least PARALLEL_WRITE_BYTES wait (throughput: the kernel copies into the page
   * cache on another thread while the first write runs). writtenPos advances only over the
   * contiguous prefix of completed writes.
   */
  kick(): void {
    if (this.writeError) return;
    while (this.inflight.length < MAX_WRITES_IN_FLIGHT) {
      const start = this.inflight.length > 0 ? this.inflight[this.inflight.length - 1]!.next : this.writtenPos;
      const pending = this.appendPos - start;
      if (pending <= 0 || (this.inflight.length > 0 && pending < PARALLEL_WRITE_BYTES)) return;
      this.startWrite(start);
    }
  }

  private startWrite(start: number): void {
    const seg = this.segments.find(start)!;
    const limit = seg.dataEnd ?? seg.base + this.cfg.segmentSize;
    const end = Math.min(this.appendPos, limit);
    // A write that reaches a sealed segment's filler moves the position to the next segment.
    const w: InflightWrite = { start, end, next: end === seg.dataEnd ? seg.base + this.cfg.segmentSize : end, done: false, error: null };
    this.inflight.push(w);
    seg.readers++; // keeps the fd open while the write is in flight
    this.writeFrom(w, seg, start);
  }

  /** Writes [from, w.end) of the in-flight write `w`, continuing after a short write. */
  private writeFrom(w: InflightWrite, seg: Segment, from: number): void {
    fs.writev(this.segments.fd(seg), this.hot.slices(from, w.end), from - seg.base, (err, n) => {
      if (!err && from + n < w.end) return this.writeFrom(w, seg, from + n); // short write: write the rest
      seg.readers--;
      w.done = true;
      w.error = err;
      this.unsynced.add(seg);
      this.onWriteDone();
    });
  }

  private onWriteDone(): void {
    let failed: Error | null = null;
    while (this.inflight.length > 0 && this.inflight[0]!.done) {
      const w = this.inflight[0]!;
      if (w.error) {
        failed = w.error;
        break;
      }
      this.inflight.shift();
      this.writtenPos = w.next;
    }
    if (failed) {
      // Wait for the others, then rewrite everything from the last good position.
      if (this.inflight.every((x) => x.done)) {
        this.inflight.length = 0;
        this.onWriteError(failed);
      }
      return;
    }
    this.writeError = null;
    this.hot.release(this.writtenPos, this.appendPos);
    if (this.syncMode) this.flush();
    else this.confirm();
    this.kick();
    this.signalIdle();
  }

  private onWriteError(err: Error): void {
    if (!this.writeError) this.log.error({ err }, 'commit log write failed; puts are refused until it succeeds');
    this.writeError = err;
    if (this.closed) {
      this.failWaiters(err);
      this.signalIdle();
      return;
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.writeError = null;
      this.kick();
    }, 1000);
  }

  /** fdatasyncs every segment written since the last flush; one flush in flight at a time. */
  flush(): void {
    if (this.flushing || this.flushedPos >= this.writtenPos) return;
    this.flushing = true;
    const target = this.writtenPos;
    // Segments deleted by retention need no sync.
    const segs = [...this.unsynced].filter((s) => !s.removed);
    this.unsynced.clear();
    let left = segs.length;
    let failed: Error | null = null;
    const done = (): void => {
      this.flushing = false;
      if (failed) {
        for (const s of segs) this.unsynced.add(s);
        return this.onWriteError(failed);
      }
      this.fsyncs++;
      this.flushedPos = target;
      this.onFlushed(target);
      if (this.syncMode) this.confirm();
      if (this.syncMode && this.flushedPos < this.writtenPos) this.flush();
      this.signalIdle();
    };
    if (left === 0) return queueMicrotask(done);
    const started = performance.now();
    for (const seg of segs) {
      seg.readers++;
      fs.fdatasync(this.segments.fd(seg), (err) => {
        this.fsyncLatency.observe((performance.now() - started) / 1000);
        seg.readers--;
        this.segments.releaseIfIdle(seg);
        if (err) failed = err;
        if (--left === 0) done();
      });
    }
  }

  private confirm(): void {
    const pos = this.confirmedPos;
    const w = this.waiters;
    let i = this.waiterHead;
    while (i < w.length && w[i]!.end <= pos) {
      const x = w[i]!;
      // The slot lets go at once: a resolved waiter kept until the next compaction would hold
      // its value and promise (and what the caller's reactions captured) for seconds, promoting
      // them into the old generation.
      w[i++] = RESOLVED;
      x.resolve(x.value);
    }
    if (i === w.length) {
      w.length = 0;
      this.waiterHead = 0;
    } else if (i > 1024 && i * 2 > w.length) {
      w.splice(0, i);
      this.waiterHead = 0;
    } else {
      this.waiterHead = i;
    }
    this.onConfirmed(pos);
  }

  private failWaiters(err: Error): void {
    for (let i = this.waiterHead; i < this.waiters.length; i++) this.waiters[i]!.reject(err);
    this.waiters.length = 0;
    this.waiterHead = 0;
  }

  /** Starts the periodic fdatasync of ASYNC_FLUSH. */
  startFlushTimer(): void {
    if (this.syncMode) return;
    this.flushTimer = setInterval(() => this.flush(), this.cfg.asyncFlushIntervalMs);
    this.flushTimer.unref();
  }

  /** Starts the check that shrinks the hot tail once appends have stopped for IDLE_SHRINK_MS. */
  startIdleShrink(): void {
    this.idleTimer = setInterval(() => {
      const idle = this.appendPos === this.idleMark && this.writtenPos === this.appendPos;
      this.idleMark = this.appendPos;
      if (idle && this.hot.bytes > this.pageSize) this.hot.shrink(this.writtenPos, this.appendPos);
    }, IDLE_SHRINK_MS);
    this.idleTimer.unref();
  }

  private get writing(): boolean {
    return this.inflight.length > 0;
  }

  private signalIdle(): void {
    if (this.writing || this.flushing) return;
    if (this.writtenPos < this.appendPos && !this.writeError) return;
    const r = this.idleResolvers;
    this.idleResolvers = [];
    for (const f of r) f();
  }

  /** Writes and flushes everything appended so far. */
  async drain(): Promise<void> {
    for (;;) {
      this.kick();
      if (!this.writing && !this.flushing && this.writtenPos < this.appendPos && this.writeError) throw this.writeError;
      if (!this.writing && !this.flushing && this.writtenPos === this.appendPos) {
        if (this.flushedPos === this.writtenPos) return;
        this.flush();
      }
      await new Promise<void>((r) => this.idleResolvers.push(r));
    }
  }

  async close(): Promise<void> {
    if (this.flushTimer) clearInterval(this.flushTimer);
    if (this.idleTimer) clearInterval(this.idleTimer);
    try {
      await this.drain();
    } finally {
      this.closed = true;
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.failWaiters(new StoreUnavailableError('CLOSED', 'the store closed before this message was written'));
      this.segments.closeAll();
    }
  }

  // ---------------------------------------------------------------- read

  /** The bytes [pos, pos+size) if they are in the hot tail, else null. */
  readHot(pos: number, size: number): Buffer | null {
    return this.hot.read(pos, size);
  }

  /**
   * Reads [pos, pos+len) from disk (one pread on the thread pool). Null when the segment is gone
   * (retention) or the range crosses a segment end.
   */
  async readCold(pos: number, len: number): Promise<Buffer | null> {
    const seg = this.segments.find(pos);
    if (!seg || seg.removed || pos + len > seg.base + this.cfg.segmentSize || pos + len > this.writtenPos) return null;
    seg.readers++;
    try {
      const buf = Buffer.allocUnsafe(len);
      const n = await readAt(this.segments.fd(seg), buf, pos - seg.base);
      return n === len ? buf : null;
    } finally {
      seg.readers--;
      this.segments.releaseIfIdle(seg);
    }
  }

  /** Segment base of `pos`. */
  segmentBase(pos: number): number {
    return this.segments.baseOf(pos);
  }

  get hotBytes(): number {
    return this.hot.bytes;
  }
}

function fdCall(f: (cb: (err: NodeJS.ErrnoException | null) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => f((err) => (err ? reject(err) : resolve())));
}

function readAt(fd: number, buf: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let done = 0;
    const step = (): void => {
      fs.read(fd, buf, done, buf.length - done, position + done, (err, n) => {
        if (err) return reject(err);
        done += n;
        if (n === 0 || done === buf.length) resolve(done);
        else step();
      });
    };
    step();
  });
}
