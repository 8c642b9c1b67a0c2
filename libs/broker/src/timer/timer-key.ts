/**
 * Index rows of pending timers in the store's metadata (namespace TIMER_NAMESPACE): the key is
 * the due time then the timer record's commit-log offset, each as 16 fixed-width hex digits, so
 * key order is due order (ties in store order) and a metaScan from '' yields the earliest first.
 * The value is the record's size (4 bytes, big-endian), enough to read it back with readRecord.
 */

/** Metadata namespace of the pending-timer rows. */
export const TIMER_NAMESPACE = 'timer';
/** Metadata namespace of the firing intent (one row per batch in flight, see TimerFiring) and the retention floor. */
export const TIMER_STATE_NAMESPACE = 'timer-state';

const WIDTH = 16;
export const TIMER_KEY_LENGTH = 2 * WIDTH;

/** One pending timer, as the index knows it. */
export interface TimerRow {
  dueMs: number;
  /** Commit-log offset of the record in the timer topic. */
  offset: number;
  /** Record size in bytes. */
  size: number;
}

function hex(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`timer key part ${n} is not a non-negative safe integer`);
  return n.toString(16).padStart(WIDTH, '0');
}

export function timerKey(dueMs: number, offset: number): string {
  return hex(dueMs) + hex(offset);
}

/** The row behind a key and value; null for a key or value not written by timerKey / timerValue. */
export function decodeTimerRow(key: string, value: Buffer): TimerRow | null {
  if (key.length !== TIMER_KEY_LENGTH || value.length !== 4) return null;
  const dueMs = Number.parseInt(key.slice(0, WIDTH), 16);
  const offset = Number.parseInt(key.slice(WIDTH), 16);
  if (!Number.isSafeInteger(dueMs) || !Number.isSafeInteger(offset)) return null;
  return { dueMs, offset, size: value.readUInt32BE(0) };
}

export function timerValue(size: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(size, 0);
  return b;
}
