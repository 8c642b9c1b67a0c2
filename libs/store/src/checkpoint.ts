import fs from 'node:fs';
import { crc32Masked, readInt64BE, writeInt64BE } from '@apogee/message';
import { StoreFormatError } from './errors.js';

/**
 * The checkpoint file: a hint of how far the CommitLog was durable, so recovery need not scan
 * everything. Layout: magic "APGC", version, segmentSize, flushedOffset, minOffset,
 * lastStoreTimestamp, cleanShutdown flag, CRC of the preceding bytes. Rewritten in place; a torn
 * or foreign file reads as absent (recovery then scans from the index checkpoint or the start).
 * A checkpoint (its magic) of another version is a StoreFormatError, never a silent misread: the
 * magic and version never change once a file is written, so they cannot be torn.
 */
export interface Checkpoint {
  segmentSize: number;
  flushedOffset: number;
  minOffset: number;
  lastStoreTimestamp: number;
  cleanShutdown: boolean;
}

const MAGIC = 0x41504743; // "APGC"
/** Format version of the checkpoint file (it has carried one since its first version). */
export const CHECKPOINT_FORMAT_VERSION = 1;
const VERSION = CHECKPOINT_FORMAT_VERSION;
const SIZE = 4 + 4 + 8 + 8 + 8 + 8 + 4 + 4;

export function encodeCheckpoint(cp: Checkpoint): Buffer {
  const b = Buffer.alloc(SIZE);
  b.writeUInt32BE(MAGIC, 0);
  b.writeUInt32BE(VERSION, 4);
  writeInt64BE(b, cp.segmentSize, 8);
  writeInt64BE(b, cp.flushedOffset, 16);
  writeInt64BE(b, cp.minOffset, 24);
  writeInt64BE(b, cp.lastStoreTimestamp, 32);
  b.writeUInt32BE(cp.cleanShutdown ? 1 : 0, 40);
  b.writeUInt32BE(crc32Masked(b, 0, 44), 44);
  return b;
}

export function decodeCheckpoint(b: Buffer): Checkpoint | null {
  if (b.length < SIZE || b.readUInt32BE(0) !== MAGIC || b.readUInt32BE(4) !== VERSION) return null;
  if (b.readUInt32BE(44) !== crc32Masked(b, 0, 44)) return null;
  return {
    segmentSize: readInt64BE(b, 8),
    flushedOffset: readInt64BE(b, 16),
    minOffset: readInt64BE(b, 24),
    lastStoreTimestamp: readInt64BE(b, 32),
    cleanShutdown: b.readUInt32BE(40) === 1,
  };
}

/** The checkpoint in `file`; null if absent, torn or foreign. Throws StoreFormatError for a checkpoint of another version. */
export function readCheckpoint(file: string): Checkpoint | null {
  let b: Buffer;
  try {
    b = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  if (b.length >= 8 && b.readUInt32BE(0) === MAGIC && b.readUInt32BE(4) !== VERSION) throw new StoreFormatError(file, b.readUInt32BE(4), VERSION);
  return decodeCheckpoint(b);
}

/** Writes the checkpoint in place (one small pwrite; no fsync needed: it is only a lower bound). */
export class CheckpointWriter {
  private fd: number;
  private writing = false;
  private pending: Checkpoint | null = null;
  private idle: (() => void) | null = null;

  constructor(file: string) {
    this.fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
  }

  /** Writes asynchronously; a newer checkpoint supersedes one not yet written. */
  write(cp: Checkpoint): void {
    this.pending = cp;
    if (!this.writing) this.drain();
  }

  private drain(): void {
    const cp = this.pending;
    if (!cp || this.fd < 0) {
      this.idle?.();
      return;
    }
    this.pending = null;
    this.writing = true;
    fs.write(this.fd, encodeCheckpoint(cp), 0, SIZE, 0, () => {
      this.writing = false;
      this.drain();
    });
  }

  /** Writes and fsyncs synchronously (clean shutdown). */
  writeSync(cp: Checkpoint): void {
    this.pending = null;
    fs.writeSync(this.fd, encodeCheckpoint(cp), 0, SIZE, 0);
    fs.fdatasyncSync(this.fd);
  }

  /** Waits for an in-flight write (so its fd is never reused underneath it), then closes. */
  async close(): Promise<void> {
    this.pending = null;
    if (this.writing) await new Promise<void>((resolve) => (this.idle = resolve));
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}
