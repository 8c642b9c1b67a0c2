/**
 * Shared helpers of the store's integration tests (crash, concurrency, million LMQs). No vitest
 * import here: the crash writer child process imports this file too.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type MessageExt, PropertyKey, decodeRecord } from '@apogee/message';
import type { Logger, MessageStore, StoredMessage } from '../src/index.js';

/** A fresh data directory under os.tmpdir(). */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `apogee-${prefix}-`));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Short content digest of a body. */
export function digest(body: Buffer): string {
  return createHash('sha1').update(body).digest('hex').slice(0, 20);
}

/** Small seeded PRNG (mulberry32): deterministic test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randInt(rnd: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rnd() * (hi - lo + 1));
}

/** `k` distinct elements of `pool`, in random order. */
export function pickDistinct<T>(rnd: () => number, pool: readonly T[], k: number): T[] {
  const idx = pool.map((_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rnd() * (idx.length - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, k).map((i) => pool[i]!);
}

/** A body of `size` bytes filled from the PRNG. */
export function randomBody(rnd: () => number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i += 4) {
    const v = (rnd() * 4294967296) >>> 0;
    for (let k = 0; k < 4 && i + k < size; k++) b[i + k] = (v >>> (k * 8)) & 0xff;
  }
  return b;
}

/** A logger that keeps what the store says (tests assert on it or print it on failure). */
export function memoryLogger(): Logger & { lines: Array<{ level: string; msg: string; obj: object }> } {
  const lines: Array<{ level: string; msg: string; obj: object }> = [];
  const keep = (level: string) => (obj: object, msg: string) => {
    if (lines.length < 10_000) lines.push({ level, msg, obj });
  };
  return { lines, info: keep('info'), warn: keep('warn'), error: keep('error') };
}

/** LMQ names and offsets of a decoded record (INNER_MULTI_DISPATCH / INNER_MULTI_QUEUE_OFFSET). */
export function lmqPropsOf(m: MessageExt): { names: string[]; offsets: number[] } {
  const names = m.properties.get(PropertyKey.INNER_MULTI_DISPATCH);
  const offsets = m.properties.get(PropertyKey.INNER_MULTI_QUEUE_OFFSET);
  return {
    names: names ? names.split(',') : [],
    offsets: offsets ? offsets.split(',').map(Number) : [],
  };
}

export interface QueueScan {
  /** Messages by queue offset. */
  messages: Map<number, StoredMessage>;
  /** Offsets in [from, to) that get() did not return. */
  missing: number[];
  /** Offsets returned out of sequence or twice. */
  anomalies: string[];
}

/**
 * Reads every offset of [from, to) of a queue with get(), `chunk` at a time. Bounded: at most
 * (to - from) + 16 get calls.
 */
export async function scanQueue(store: MessageStore, topic: string, queueId: number, from: number, to: number, chunk = 64): Promise<QueueScan> {
  const messages = new Map<number, StoredMessage>();
  const missing: number[] = [];
  const anomalies: string[] = [];
  let off = from;
  for (let calls = 0; off < to && calls < to - from + 16; calls++) {
    const r = await store.get(topic, queueId, off, Math.min(chunk, to - off), { maxBytes: 4 * 1024 * 1024 });
    let expect = off;
    for (const m of r.messages) {
      if (m.queueOffset < expect || messages.has(m.queueOffset)) anomalies.push(`${topic}:${queueId} offset ${m.queueOffset} returned out of order/twice`);
      for (let o = expect; o < m.queueOffset && o < to; o++) missing.push(o);
      messages.set(m.queueOffset, m);
      expect = m.queueOffset + 1;
    }
    const next = r.status === 'FOUND' || r.status === 'NO_MATCHED_MESSAGE' || r.status === 'OFFSET_FOUND_NULL' ? Math.max(r.nextOffset, off + 1) : to;
    for (let o = expect; o < next && o < to; o++) missing.push(o);
    if (r.status !== 'FOUND' && r.status !== 'OFFSET_FOUND_NULL' && r.status !== 'NO_MATCHED_MESSAGE') {
      anomalies.push(`${topic}:${queueId} get(${off}) -> ${r.status} (max ${r.maxOffset})`);
    }
    off = next;
  }
  if (off < to) anomalies.push(`${topic}:${queueId} scan did not reach ${to} (stopped at ${off})`);
  return { messages, missing, anomalies };
}

/** Decodes a stored message; throws with context if it does not decode. */
export function decode(m: StoredMessage | Buffer): MessageExt {
  return decodeRecord(Buffer.isBuffer(m) ? m : m.record, 0);
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export const MiB = 1024 * 1024;

export function rssMiB(): number {
  return Math.round(process.memoryUsage().rss / MiB);
}

// ---------------------------------------------------------------- crash test shared definitions

/** Segment size of the crash test's store: small, so segments roll over during every cycle. */
export const CRASH_SEGMENT_SIZE = 256 * 1024;
/** Topic queues the crash writer puts to. */
export const CRASH_QUEUES: ReadonlyArray<{ topic: string; queueId: number }> = [
  { topic: 'CrashA', queueId: 0 },
  { topic: 'CrashA', queueId: 1 },
  { topic: 'CrashB', queueId: 0 },
  { topic: 'CrashB', queueId: 3 },
  { topic: 'CrashC', queueId: 0 },
];
/** LMQ pool the crash writer dispatches into (each message: 0–4 of them). */
export const CRASH_LMQS: readonly string[] = Array.from({ length: 20 }, (_, i) => `%LMQ%crash/${i}`);

/** One acknowledged put, as the crash writer reports it on stdout (one JSON line each). */
export interface CrashAck {
  /** Writer cycle that stored it (-1: put by the verifying parent). */
  c: number;
  t: string;
  q: number;
  qo: number;
  clo: number;
  size: number;
  l: string[];
  lo: number[];
  d: string;
}
