import { readInt64BE, writeInt64BE } from '@apogee/message';

/**
 * One queue index entry (RocketMQ's ConsumeQueue unit plus the store time, so offset-by-time
 * needs no CommitLog read): log offset (8) · record size (4) · tags code (8) · store time (8).
 * A size of 0 marks a hole (an offset whose record is unknown); readers skip it.
 */
export const ENTRY_BYTES = 28;
/** Entries per persisted block: one LMDB value of at most 1,792 bytes. */
export const BLOCK_ENTRIES = 64;

export function writeEntry(buf: Buffer, i: number, logOffset: number, size: number, tagsCode: number, storeTime: number): void {
  const p = i * ENTRY_BYTES;
  writeInt64BE(buf, logOffset, p);
  buf.writeInt32BE(size, p + 8);
  writeInt64BE(buf, tagsCode, p + 12);
  writeInt64BE(buf, storeTime, p + 20);
}

export function entryLogOffset(buf: Buffer, i: number): number {
  return readInt64BE(buf, i * ENTRY_BYTES);
}

export function entrySize(buf: Buffer, i: number): number {
  return buf.readInt32BE(i * ENTRY_BYTES + 8);
}

export function entryTagsCode(buf: Buffer, i: number): number {
  return readInt64BE(buf, i * ENTRY_BYTES + 12);
}

export function entryStoreTime(buf: Buffer, i: number): number {
  return readInt64BE(buf, i * ENTRY_BYTES + 20);
}

export function entryEnd(buf: Buffer, i: number): number {
  return entryLogOffset(buf, i) + entrySize(buf, i);
}
