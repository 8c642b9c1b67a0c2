/**
 * The CommitLog tail in memory: fixed-size pages aligned to absolute log offsets. Records are
 * encoded straight into these pages, the writer hands page slices to writev, and tailing readers
 * get slices of them without a syscall. A page is dropped once written and older than the hot
 * window; if no reader ever got a slice of it, it is reused for new appends (fresh memory costs a
 * page fault per 4 KiB on first write), otherwise it is left to the GC, since a reader may still
 * hold — and be sending — its slice. What it holds — window, unwritten pages and spares — stays
 * within `keepBytes` plus the pages not yet written; once appends stop, `shrink` lets the window
 * go too.
 */
export class HotTail {
  private readonly pages = new Map<number, Buffer>();
  /** Pages a reader got a slice of: never reused. */
  private readonly lent = new Set<Buffer>();
  private readonly spare: Buffer[] = [];
  /** Unlent pages kept for reuse: a quarter of the window, at most MAX_SPARE_PAGES. */
  private readonly maxSpare: number;
  private lowestPage = 0;
  /** Positions below this are never served from memory (bytes before a recovered tail are not loaded). */
  private floor: number;

  constructor(
    readonly pageSize: number,
    private readonly keepBytes: number,
    start: number,
  ) {
    this.floor = start;
    this.lowestPage = Math.floor(start / pageSize);
    this.maxSpare = Math.min(MAX_SPARE_PAGES, Math.floor(keepBytes / pageSize / 4));
  }

  /** The page holding `pos`, allocated on first use (only for positions being appended). */
  page(pos: number): Buffer {
    const idx = Math.floor(pos / this.pageSize);
    let p = this.pages.get(idx);
    if (!p) {
      p = this.spare.pop() ?? Buffer.allocUnsafeSlow(this.pageSize);
      this.pages.set(idx, p);
    }
    return p;
  }

  /** Copies `src` into the pages from `pos` on (a record straddling pages). */
  copyIn(pos: number, src: Buffer): void {
    let done = 0;
    while (done < src.length) {
      const at = pos + done;
      const off = at % this.pageSize;
      const n = Math.min(src.length - done, this.pageSize - off);
      src.copy(this.page(at), off, done, done + n);
      done += n;
    }
  }

  /** Slices covering [start, end) for writev. The pages must exist (they were appended to). */
  slices(start: number, end: number): Buffer[] {
    const out: Buffer[] = [];
    let at = start;
    while (at < end) {
      const off = at % this.pageSize;
      const n = Math.min(end - at, this.pageSize - off);
      out.push(this.page(at).subarray(off, off + n));
      at += n;
    }
    return out;
  }

  /** The bytes [pos, pos + size) if all in memory; a slice when within one page, else a copy. */
  read(pos: number, size: number): Buffer | null {
    if (pos < this.floor) return null;
    const first = Math.floor(pos / this.pageSize);
    const last = Math.floor((pos + size - 1) / this.pageSize);
    const page = this.pages.get(first);
    if (!page) return null;
    const off = pos % this.pageSize;
    if (first === last) {
      this.lent.add(page);
      return page.subarray(off, off + size);
    }
    const out = Buffer.allocUnsafe(size);
    let done = 0;
    for (let i = first; i <= last; i++) {
      const p = this.pages.get(i);
      if (!p) return null;
      const from = i === first ? off : 0;
      const n = Math.min(size - done, this.pageSize - from);
      p.copy(out, done, from, from + n);
      done += n;
    }
    return out;
  }

  /** Drops pages wholly below both the write position and the hot window. */
  release(writtenPos: number, appendPos: number, keepBytes = this.keepBytes): void {
    const keepFrom = Math.min(writtenPos, appendPos - keepBytes);
    const limit = Math.floor(keepFrom / this.pageSize);
    while (this.lowestPage < limit) {
      const page = this.pages.get(this.lowestPage);
      this.pages.delete(this.lowestPage);
      this.lowestPage++;
      if (!page) continue;
      if (this.lent.delete(page)) continue;
      if (this.spare.length < this.maxSpare) this.spare.push(page);
    }
    if (this.floor < this.lowestPage * this.pageSize) this.floor = this.lowestPage * this.pageSize;
  }

  /**
   * Appends have stopped: drops every written page but the one appends continue in, and the
   * spares. Readers of older records read them from the file (the page cache) instead.
   */
  shrink(writtenPos: number, appendPos: number): void {
    this.release(writtenPos, appendPos, 0);
    this.spare.length = 0;
  }

  /** Bytes held: pages in the log's window and spares. */
  get bytes(): number {
    return (this.pages.size + this.spare.length) * this.pageSize;
  }
}

/** Unlent pages kept for reuse. */
const MAX_SPARE_PAGES = 4;

/** Largest power of two <= 4 MiB dividing the segment size, so a page never spans two segments. */
export function pageSizeFor(segmentSize: number): number {
  let p = 4 * 1024 * 1024;
  while (segmentSize % p !== 0) p /= 2;
  return p;
}
