/**
 * Child process of scenario e (run with --expose-gc, one per run, so its resident memory is its
 * own): creates `messages × perMessage` distinct LMQs, measures the resident memory they added,
 * reads one message from a random sample of them, closes, reopens and samples again.
 */
import { openStore, type MessageStore, type StoreConfig } from '@apogee/store';
import { childMain } from '../../child.js';
import { readProcMemory } from '../../proc-memory.js';
import { pump, sleep } from '../../runner.js';
import { makeBody, MiB, TOPIC } from './common.js';
import { dispatchTo, lmqName } from './lmq.js';

export interface MillionInput {
  dataDir: string;
  messages: number;
  perMessage: number;
  sample: number;
  seed: number;
}

export interface MillionOutput {
  lmqs: number;
  createMs: number;
  rssBefore: number;
  rssAfter: number;
  /** RssAnon / RssFile before and after (bytes): the store's own memory apart from its mapped files. */
  anonBefore: number;
  anonAfter: number;
  fileBefore: number;
  fileAfter: number;
  heapAddedBytes: number;
  peakRss: number;
  sampleMs: number;
  closeMs: number;
  reopenMs: number;
  sampleAfterReopenMs: number;
  misses: Record<string, number>;
  gc: boolean;
}

const PREFIX = 'bench/m';
const READ_CONCURRENCY = 32;

/** mulberry32: a small deterministic PRNG, so every run samples alike. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function settledRss(): Promise<{ rss: number; heap: number; anon: number; file: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(50);
  }
  const m = process.memoryUsage();
  const split = await readProcMemory(process.pid);
  return { rss: m.rss, heap: m.heapUsed, anon: split.anon, file: split.file };
}

/** get() one message from each of `sample` random LMQs; returns elapsed ms, counts non-FOUND statuses into misses. */
async function readSample(store: MessageStore, lmqs: number, sample: number, seed: number, misses: Record<string, number>): Promise<number> {
  const rnd = prng(seed);
  const start = performance.now();
  await pump({
    window: READ_CONCURRENCY,
    maxOps: sample,
    durationMs: Number.POSITIVE_INFINITY,
    op: async () => {
      const r = await store.get(lmqName(PREFIX, Math.floor(rnd() * lmqs)), 0, 0, 1);
      const key = r.status === 'FOUND' && r.messages.length !== 1 ? `FOUND with ${r.messages.length} messages` : r.status;
      if (key !== 'FOUND') misses[key] = (misses[key] ?? 0) + 1;
    },
  });
  return performance.now() - start;
}

async function run(input: MillionInput): Promise<MillionOutput> {
  const config: StoreConfig = { dataDir: input.dataDir, flushMode: 'ASYNC_FLUSH', segmentSize: 64 * MiB };
  const body = makeBody(64);
  const lmqs = input.messages * input.perMessage;
  const misses: Record<string, number> = {};

  let store = await openStore(config);
  const before = await settledRss();

  const t0 = performance.now();
  await pump({
    window: 64,
    maxOps: input.messages,
    durationMs: Number.POSITIVE_INFINITY,
    op: async (i) => {
      const names = Array.from({ length: input.perMessage }, (_, j) => lmqName(PREFIX, i * input.perMessage + j));
      const res = await store.put({ topic: TOPIC, queueId: 0, body, properties: dispatchTo(names) });
      if (res.lmqOffsets.length !== input.perMessage) throw new Error(`put into ${input.perMessage} LMQs returned ${res.lmqOffsets.length} lmqOffsets`);
    },
  });
  const createMs = performance.now() - t0;

  // Let periodic index persistence run before measuring what stays resident.
  await sleep(1000);
  const after = await settledRss();
  const sampleMs = await readSample(store, lmqs, input.sample, input.seed, misses);

  const t1 = performance.now();
  await store.close();
  const closeMs = performance.now() - t1;

  const t2 = performance.now();
  store = await openStore(config);
  const reopenMs = performance.now() - t2;
  const sampleAfterReopenMs = await readSample(store, lmqs, input.sample, input.seed + 1, misses);
  await store.close();

  return {
    lmqs,
    createMs,
    rssBefore: before.rss,
    rssAfter: after.rss,
    anonBefore: before.anon,
    anonAfter: after.anon,
    fileBefore: before.file,
    fileAfter: after.file,
    heapAddedBytes: after.heap - before.heap,
    peakRss: process.resourceUsage().maxRSS * 1024,
    sampleMs,
    closeMs,
    reopenMs,
    sampleAfterReopenMs,
    misses,
    gc: typeof (globalThis as { gc?: unknown }).gc === 'function',
  };
}

await childMain(run);
