/** Helpers shared by the store scenarios: store lifecycle, message shapes, budgets. */
import { randomFillSync } from 'node:crypto';
import { openStore, type MessageStore, type PutMessage, type StoreConfig } from '@apogee/store';
import { computeRecordSize, encodeProperties, RECORD_CRC_RESERVED_BYTES } from '@apogee/message';
import type { BenchContext } from '../../suite.js';

export const TOPIC = 'BenchTopic';
export const MiB = 1 << 20;

/** Median of at least 3 runs, as the contract asks; the full suite takes 5. */
export function runsFor(ctx: BenchContext): number {
  return ctx.quick ? 3 : 5;
}

/** The quick or the full figure. */
export function pick<T>(ctx: BenchContext, quick: T, full: T): T {
  return ctx.quick ? quick : full;
}

/** A body of `size` random bytes (shared by every message of a run; the store copies it). */
export function makeBody(size: number): Buffer {
  return randomFillSync(Buffer.allocUnsafe(size));
}

/** What withStore hands to a scenario besides the store. */
export interface StoreHandle {
  dataDir: string;
  /** Closes the store (once; withStore does not close it again). Lets a scenario time close(). */
  close(): Promise<void>;
}

/**
 * Opens a store on a fresh temp directory, runs fn, closes the store (unless fn did) and removes
 * the directory, whatever happens.
 */
export async function withStore<T>(
  ctx: BenchContext,
  label: string,
  config: Omit<StoreConfig, 'dataDir'>,
  fn: (store: MessageStore, handle: StoreHandle) => Promise<T>,
): Promise<T> {
  return ctx.tmp.with(label, async (dataDir) => {
    const store = await openStore({ ...config, dataDir });
    let closing: Promise<void> | null = null;
    const close = (): Promise<void> => (closing ??= store.close());
    try {
      return await fn(store, { dataDir, close });
    } finally {
      await close();
    }
  });
}

/**
 * The record size the store will write for a message, from the record layout (IPv4 hosts,
 * the record CRC property included). Only a fallback: scenarios prefer PutResult.size.
 */
export function expectedRecordSize(msg: PutMessage, recordCrc = true): number {
  const props = msg.properties ? encodeProperties(msg.properties) : '';
  const propsLen = Buffer.byteLength(props) + (recordCrc ? RECORD_CRC_RESERVED_BYTES + (props.length > 0 && !props.endsWith('\u0002') ? 1 : 0) : 0);
  return computeRecordSize(msg.body.length, Buffer.byteLength(msg.topic), propsLen, 8, 8);
}
