import fs from 'node:fs';
import path from 'node:path';
import { syncDir } from './atomic-file.js';
import { StoreCorruptError } from './errors.js';

/** One CommitLog segment file: bytes [base, base + size) of the log. */
export interface Segment {
  readonly base: number;
  readonly file: string;
  /** Open descriptor, or -1. */
  fd: number;
  /** Reads in flight on fd; the fd is closed only when this drops to 0. */
  readers: number;
  /** Set once the segment is to be deleted; the file goes when its readers are done. */
  removed: boolean;
  /**
   * Where the data of a sealed segment ends: after the 8-byte end-of-segment filler header.
   * The rest of the segment is never written. Null while the segment is being appended.
   */
  dataEnd: number | null;
}

const NAME = /^\d{20}$/;

export function segmentFileName(base: number): string {
  return String(base).padStart(20, '0');
}

/**
 * The ordered set of segment files of a CommitLog directory: naming, creation (preallocated to
 * full size with ftruncate, so appends never change the file size), descriptor caching, removal.
 */
export class SegmentSet {
  readonly segments: Segment[] = [];
  private openFds = 0;
  private readonly maxOpenFds = 256;

  constructor(
    readonly dir: string,
    readonly segmentSize: number,
  ) {}

  /** Loads existing segment files, checking they are contiguous and of the expected size. */
  load(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const names = fs
      .readdirSync(this.dir)
      .filter((n) => NAME.test(n))
      .sort();
    for (const name of names) {
      const base = Number(name);
      const prev = this.segments[this.segments.length - 1];
      if (prev && base !== prev.base + this.segmentSize) {
        throw new StoreCorruptError(`commit log segments are not contiguous: ${segmentFileName(prev.base)} then ${name} (segment size ${this.segmentSize})`);
      }
      if (base % this.segmentSize !== 0) throw new StoreCorruptError(`segment ${name} does not start on a segment boundary of ${this.segmentSize}`);
      const file = path.join(this.dir, name);
      const size = fs.statSync(file).size;
      if (size > this.segmentSize) throw new StoreCorruptError(`segment ${name} is ${size} bytes, larger than the segment size ${this.segmentSize}`);
      // A crash between create and preallocate leaves a short file; extend it.
      if (size < this.segmentSize) fs.truncateSync(file, this.segmentSize);
      this.segments.push({ base, file, fd: -1, readers: 0, removed: false, dataEnd: null });
    }
  }

  first(): Segment | undefined {
    return this.segments[0];
  }

  last(): Segment | undefined {
    return this.segments[this.segments.length - 1];
  }

  /** Segment holding log offset `pos`, if it exists. */
  find(pos: number): Segment | undefined {
    const first = this.segments[0];
    if (!first || pos < first.base) return undefined;
    return this.segments[Math.floor((pos - first.base) / this.segmentSize)];
  }

  baseOf(pos: number): number {
    return pos - (pos % this.segmentSize);
  }

  /** Creates the segment starting at `base` (synchronously; only on open and on rollover). */
  createSync(base: number): Segment {
    const last = this.last();
    if (last && base !== last.base + this.segmentSize) throw new StoreCorruptError(`segment ${base} does not follow ${last.base}`);
    const file = path.join(this.dir, segmentFileName(base));
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    fs.ftruncateSync(fd, this.segmentSize);
    const seg: Segment = { base, file, fd, readers: 0, removed: false, dataEnd: null };
    this.openFds++;
    this.segments.push(seg);
    this.trimFds();
    return seg;
  }

  /** Descriptor of a segment, opened on demand. */
  fd(seg: Segment): number {
    if (seg.fd < 0) {
      seg.fd = fs.openSync(seg.file, fs.constants.O_RDWR);
      this.openFds++;
      this.trimFds();
    }
    return seg.fd;
  }

  /** Closes descriptors of old, idle segments beyond the cap (the newest two stay open). */
  private trimFds(): void {
    for (let i = 0; this.openFds > this.maxOpenFds && i < this.segments.length - 2; i++) {
      const s = this.segments[i]!;
      if (s.fd >= 0 && s.readers === 0) {
        fs.closeSync(s.fd);
        s.fd = -1;
        this.openFds--;
      }
    }
  }

  /**
   * Removes the oldest segment (retention): it leaves the set at once, its file is unlinked off the
   * event loop (a large unlink can take milliseconds), its fd closes when idle.
   */
  async removeFirst(): Promise<Segment | undefined> {
    const seg = this.segments.shift();
    if (!seg) return undefined;
    seg.removed = true;
    this.releaseIfIdle(seg);
    await fs.promises.rm(seg.file, { force: true });
    return seg;
  }

  /** Drops every segment after `keep` (recovery truncation). */
  removeAfter(keep: Segment | undefined): void {
    while (this.segments.length > 0 && this.last() !== keep) {
      const seg = this.segments.pop()!;
      seg.removed = true;
      fs.rmSync(seg.file, { force: true });
      this.releaseIfIdle(seg);
    }
  }

  /** Drops every segment after `keep`, newest first, off the event loop, then syncs the directory (run-time truncation). */
  async removeAfterAsync(keep: Segment): Promise<void> {
    while (this.segments.length > 0 && this.last() !== keep) {
      const seg = this.segments.pop()!;
      seg.removed = true;
      this.releaseIfIdle(seg);
      await fs.promises.rm(seg.file, { force: true });
    }
    await syncDir(this.dir);
  }

  releaseIfIdle(seg: Segment): void {
    if (seg.removed && seg.readers === 0 && seg.fd >= 0) {
      fs.closeSync(seg.fd);
      seg.fd = -1;
      this.openFds--;
    }
  }

  closeAll(): void {
    for (const s of this.segments) {
      if (s.fd >= 0) fs.closeSync(s.fd);
      s.fd = -1;
    }
    this.openFds = 0;
  }
}
