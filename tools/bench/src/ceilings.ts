/**
 * Physical ceilings of this machine, measured on the disk the store under test uses (callers pass
 * a directory under the same temp root): what plain Node file I/O does with records of the same
 * size, with no message encoding, indexing or bookkeeping at all.
 */
import { randomFillSync } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

export const MB = 1e6;
export const MiB = 1 << 20;

export interface ThroughputResult {
  bytes: number;
  records: number;
  elapsedMs: number;
  /** 10^6 bytes per second. */
  mbPerSec: number;
  recordsPerSec: number;
}

function throughput(bytes: number, records: number, elapsedMs: number): ThroughputResult {
  const s = elapsedMs / 1000;
  return { bytes, records, elapsedMs, mbPerSec: bytes / MB / s, recordsPerSec: records / s };
}

/** A buffer of `count` records of `recordSize` bytes with incompressible content. */
function recordBuffer(recordSize: number, count: number): Buffer {
  const buf = Buffer.allocUnsafe(recordSize * count);
  randomFillSync(buf);
  for (let i = 0; i < count; i++) buf.writeInt32BE(recordSize, i * recordSize);
  return buf;
}

/** Append-only files of fixed size, rolled like CommitLog segments. */
class SegmentedFile {
  private fh: FileHandle | null = null;
  private pos = 0;
  private index = 0;

  constructor(
    private readonly dir: string,
    private readonly segmentSize: number,
    /** fdatasync each file before closing it (durable runs). */
    private readonly syncOnClose = false,
  ) {}

  async append(buf: Buffer, length: number): Promise<FileHandle> {
    if (!this.fh || this.pos + length > this.segmentSize) {
      if (this.fh && this.syncOnClose) await this.fh.datasync();
      await this.fh?.close();
      this.fh = await open(path.join(this.dir, String(this.index++).padStart(20, '0')), 'w');
      this.pos = 0;
    }
    let off = 0;
    while (off < length) {
      const { bytesWritten } = await this.fh.write(buf, off, length - off, this.pos);
      off += bytesWritten;
      this.pos += bytesWritten;
    }
    return this.fh;
  }

  async close(): Promise<void> {
    if (this.fh && this.syncOnClose) await this.fh.datasync();
    await this.fh?.close();
    this.fh = null;
  }
}

export interface RawAppendOptions {
  /** Directory on the disk under test; files are written here (the caller removes it). */
  dir: string;
  recordSize: number;
  /** Stop after this many bytes... */
  maxBytes: number;
  /** ...or this much time. */
  durationMs: number;
  /** Bytes per fs.write. Default 4 MiB. */
  batchBytes?: number;
  /** Files roll over at this size. Default 1 GiB. */
  segmentSize?: number;
  /** fdatasync every file before the clock stops: the disk's rate, not the page cache's. */
  durable?: boolean;
}

/** Raw sequential append: records of `recordSize` bytes written with fs.write in large batches. */
export async function rawSequentialAppend(opts: RawAppendOptions): Promise<ThroughputResult> {
  const perBatch = Math.max(1, Math.floor((opts.batchBytes ?? 4 * MiB) / opts.recordSize));
  const buf = recordBuffer(opts.recordSize, perBatch);
  const file = new SegmentedFile(opts.dir, Math.max(opts.segmentSize ?? 1024 * MiB, buf.length), opts.durable ?? false);
  let bytes = 0;
  let records = 0;
  let closed = false;
  const start = performance.now();
  const deadline = start + opts.durationMs;
  try {
    while (bytes < opts.maxBytes && performance.now() < deadline) {
      await file.append(buf, buf.length);
      bytes += buf.length;
      records += perBatch;
    }
    if (opts.durable) {
      await file.close();
      closed = true;
    }
    return throughput(bytes, records, performance.now() - start);
  } finally {
    if (!closed) await file.close();
  }
}

export interface RawSyncAppendOptions {
  dir: string;
  recordSize: number;
  /** Records written per fs.write, each write followed by one fdatasync. */
  batchRecords: number;
  maxRecords: number;
  durationMs: number;
}

export interface SyncAppendResult extends ThroughputResult {
  fdatasyncs: number;
}

/** Raw group commit: write `batchRecords` records, fdatasync, repeat. */
export async function rawSyncAppend(opts: RawSyncAppendOptions): Promise<SyncAppendResult> {
  const batch = Math.max(1, Math.round(opts.batchRecords));
  const buf = recordBuffer(opts.recordSize, batch);
  const file = new SegmentedFile(opts.dir, 1024 * MiB);
  let records = 0;
  let fdatasyncs = 0;
  const start = performance.now();
  const deadline = start + opts.durationMs;
  try {
    while (records < opts.maxRecords && performance.now() < deadline) {
      const fh = await file.append(buf, buf.length);
      await fh.datasync();
      fdatasyncs++;
      records += batch;
    }
    return { ...throughput(records * opts.recordSize, records, performance.now() - start), fdatasyncs };
  } finally {
    await file.close();
  }
}

export interface RawReadOptions {
  /** Files read one after the other, from their start. */
  files: readonly string[];
  /** Stop after this many bytes in total (the used part of the files). */
  maxBytes: number;
  /** Bytes per read. Default 1 MiB. */
  chunkBytes?: number;
}

/** Raw sequential read of existing files with fs.read in large chunks. */
export async function rawSequentialRead(opts: RawReadOptions): Promise<ThroughputResult> {
  const buf = Buffer.allocUnsafe(opts.chunkBytes ?? MiB);
  let bytes = 0;
  const start = performance.now();
  for (const f of opts.files) {
    if (bytes >= opts.maxBytes) break;
    const fh = await open(f, 'r');
    try {
      let pos = 0;
      while (bytes < opts.maxBytes) {
        const want = Math.min(buf.length, opts.maxBytes - bytes);
        const { bytesRead } = await fh.read(buf, 0, want, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        bytes += bytesRead;
      }
    } finally {
      await fh.close();
    }
  }
  return throughput(bytes, 0, performance.now() - start);
}
