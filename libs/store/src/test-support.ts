import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PutMessage, PutResult, StoreConfig } from './api.js';
import type { Logger } from './logger.js';
import { DefaultMessageStore } from './message-store.js';

/** A fresh temp data directory (removed by the returned cleanup). */
export function tempDir(prefix = 'apg-store-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Collects log lines instead of printing them. */
export function memoryLogger(): Logger & { lines: Array<{ level: string; msg: string; obj: object }> } {
  const lines: Array<{ level: string; msg: string; obj: object }> = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', msg, obj }),
    warn: (obj, msg) => lines.push({ level: 'warn', msg, obj }),
    error: (obj, msg) => lines.push({ level: 'error', msg, obj }),
  };
}

export function openTestStore(dataDir: string, extra: Partial<StoreConfig> = {}, log: Logger = memoryLogger()): Promise<DefaultMessageStore> {
  return DefaultMessageStore.open({ dataDir, segmentSize: 64 * 1024, ...extra }, log);
}

/**
 * Base of the clocks of deterministic stores (openDetStore): a day ahead of the wall clock (to the
 * hour), so retention, which dates key-index rows by the segment files' mtimes, never expires
 * them. APOGEE_DET_T0 sets it (a child process sharing its parent's sequence).
 */
export const DET_T0 = Number(process.env['APOGEE_DET_T0'] ?? Math.floor(Date.now() / 3_600_000) * 3_600_000 + 86_400_000);

/** A settable clock: the store's `now`. */
export interface DetClock {
  t: number;
}

/** Opens a store whose clock the test sets: two such stores given the same puts at the same clock hold byte-identical logs. */
export async function openDetStore(dataDir: string, extra: Partial<StoreConfig> = {}, log?: Logger): Promise<{ s: DefaultMessageStore; clock: DetClock }> {
  const clock: DetClock = { t: DET_T0 };
  const s = await openTestStore(dataDir, { now: () => clock.t, ...extra }, log);
  return { s, clock };
}

/**
 * Message `i` of the deterministic sequence: 4 queues of T, bodies of 100–400 bytes, a key
 * `k<i>`, every 5th also into the LMQs %LMQ%a and %LMQ%b.
 */
export function detMessage(i: number, variant = 0): PutMessage {
  const properties: Record<string, string> = { KEYS: `k${i}`, TAGS: `t${i % 3}` };
  if (variant) properties['V'] = String(variant);
  if (i % 5 === 0) properties['INNER_MULTI_DISPATCH'] = '%LMQ%a,%LMQ%b';
  return { topic: 'T', queueId: i % 4, body: Buffer.alloc(100 + ((i * 37) % 300), (i + variant) % 251), properties, bornTimestamp: DET_T0 + i };
}

/** Puts messages [from, to) one at a time, the clock at `base + i` for message i. */
export async function fillDet(s: DefaultMessageStore, clock: DetClock, from: number, to: number, base = DET_T0, variant = 0): Promise<PutResult[]> {
  const out: PutResult[] = [];
  for (let i = from; i < to; i++) {
    clock.t = base + i;
    out.push(await s.put(detMessage(i, variant)));
  }
  return out;
}
