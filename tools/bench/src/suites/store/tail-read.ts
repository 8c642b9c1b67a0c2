/**
 * Scenario f: reads. A consumer tailing a writer (get() from its offset, woken by onArrival)
 * against the same writer alone; and a cold sequential read of old segments after a reopen
 * (store's hot tail empty) against a raw sequential read of the same CommitLog files.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { openStore, type MessageStore, type StoreConfig } from '@apogee/store';
import { MB, rawSequentialRead } from '../../ceilings.js';
import { alternate, runLabel, pump } from '../../runner.js';
import type { BenchContext, Scenario } from '../../suite.js';
import { makeBody, MiB, pick, runsFor, TOPIC, withStore } from './common.js';

const BODY_BYTES = 1024;
const WINDOW = 1024;
const MAX_PER_GET = 256;
/** A consumer waiting this long on onArrival while messages are due is a store bug. */
const STALL_MS = 5000;

/**
 * Reads queue (TOPIC, 0) from offset 0 until `target()` is known and reached, parking on
 * onArrival when caught up. `wakeups.wake` is set so the writer can wake it once it is done.
 * Checks that offsets come back contiguous.
 */
interface TailResult {
  read: number;
  /** get() calls that returned messages. */
  gets: number;
  /** Times the consumer caught up and parked until onArrival. */
  parks: number;
}

async function tail(store: MessageStore, target: () => number | null, wakeups: { wake: () => void }): Promise<TailResult> {
  let offset = 0;
  let gets = 0;
  let parks = 0;
  let waiter: (() => void) | null = null;
  const wake = (): void => {
    const w = waiter;
    waiter = null;
    w?.();
  };
  const park = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiter = null;
        reject(new Error(`tailing consumer at offset ${offset} (max offset ${store.getMaxOffset(TOPIC, 0)}) got no onArrival for ${STALL_MS} ms`));
      }, STALL_MS);
      waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  wakeups.wake = wake;
  const unsubscribe = store.onArrival(TOPIC, 0, wake);
  try {
    for (;;) {
      const total = target();
      if (total !== null && offset >= total) return { read: offset, gets, parks };
      const r = await store.get(TOPIC, 0, offset, MAX_PER_GET);
      if (r.status === 'FOUND') {
        const first = r.messages[0]!.queueOffset;
        if (first !== offset) throw new Error(`get(offset ${offset}) returned queue offset ${first} first`);
        offset = r.nextOffset;
        gets++;
        continue;
      }
      if (r.status !== 'OFFSET_OVERFLOW_ONE' && r.status !== 'NO_MESSAGE_IN_QUEUE') throw new Error(`tailing get(offset ${offset}) answered ${r.status}`);
      // No await between this check and parking, so an arrival cannot slip in unseen.
      if (store.getMaxOffset(TOPIC, 0) > offset) continue;
      if (target() !== null && offset >= target()!) continue;
      parks++;
      await park();
    }
  } finally {
    unsubscribe();
  }
}

export const tailRead: Scenario = {
  name: 'tail-read',
  description: `a consumer tailing a writer (${BODY_BYTES} B bodies, get() ≤ ${MAX_PER_GET}, onArrival): messages/s vs the writer alone`,
  async run(ctx: BenchContext): Promise<void> {
    const body = makeBody(BODY_BYTES);
    const durationMs = pick(ctx, 400, 2500);
    const maxMessages = pick(ctx, 300_000, 2_000_000);
    const config = { flushMode: 'ASYNC_FLUSH', segmentSize: 64 * MiB } as const;

    const withConsumer = (run: number): Promise<number> =>
      withStore(ctx, 'tail-read', config, async (store) => {
        let written: number | null = null;
        const wakeups = { wake: (): void => {} };
        const start = performance.now();
        const consumer = tail(store, () => written, wakeups);
        const w = await pump({ window: WINDOW, maxOps: maxMessages, durationMs, op: () => store.put({ topic: TOPIC, queueId: 0, body }) });
        written = w.ops;
        wakeups.wake();
        const { read, gets, parks } = await consumer;
        const elapsedMs = performance.now() - start;
        const rate = read / (elapsedMs / 1000);
        ctx.log(
          `   ${runLabel(run)} writer+consumer: ${read} msgs written and read in ${elapsedMs.toFixed(0)} ms (writer done at ${w.elapsedMs.toFixed(0)} ms) = ${rate.toFixed(0)} msg/s; ` +
            `${gets} gets (${(read / Math.max(1, gets)).toFixed(1)} msgs each), parked ${parks} times`,
        );
        return rate;
      });

    const writerAlone = (run: number): Promise<number> =>
      withStore(ctx, 'tail-read', config, async (store) => {
        const w = await pump({ window: WINDOW, maxOps: maxMessages, durationMs, op: () => store.put({ topic: TOPIC, queueId: 0, body }) });
        const rate = w.ops / (w.elapsedMs / 1000);
        ctx.log(`   ${runLabel(run)} writer alone:    ${w.ops} msgs in ${w.elapsedMs.toFixed(0)} ms = ${rate.toFixed(0)} msg/s`);
        return rate;
      });

    const [a, b] = await alternate(runsFor(ctx), [withConsumer, writerAlone], { warmup: true });
    ctx.report.add({
      scenario: 'tail-read',
      metric: 'consumer keeping up with a writer (written and read)',
      unit: 'msg/s',
      better: 'higher',
      samples: a!,
      baseline: { name: 'the same writer, no consumer', samples: b! },
    });
  },
};

/** CommitLog segment files in order (names are offsets, compared numerically). */
async function commitLogFiles(dataDir: string): Promise<string[]> {
  const dir = path.join(dataDir, 'commitlog');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new Error(`no CommitLog directory at ${dir} to take the raw-read baseline from`, { cause: err });
  }
  const segments = names.filter((n) => /^\d+$/.test(n));
  if (segments.length === 0) throw new Error(`no segment files (named by offset) in ${dir} to take the raw-read baseline from`);
  return segments.sort((x, y) => x.localeCompare(y, 'en', { numeric: true })).map((n) => path.join(dir, n));
}

interface ColdRun {
  msgPerSec: number;
  mbPerSec: number;
}

export const coldRead: Scenario = {
  name: 'cold-read',
  description: 'sequential read of old segments after a reopen (hot tail empty): messages/s and MB/s vs raw fs.read of the CommitLog files',
  async run(ctx: BenchContext): Promise<void> {
    const segmentSize = pick(ctx, 16 * MiB, 64 * MiB);
    const dataBytes = pick(ctx, 64 * MiB, 320 * MiB);
    const hotTailBytes = pick(ctx, 8 * MiB, 16 * MiB);
    const body = makeBody(BODY_BYTES);

    await ctx.tmp.with('cold-read', async (dataDir) => {
      const config: StoreConfig = { dataDir, flushMode: 'ASYNC_FLUSH', segmentSize, hotTailBytes };

      // Write the data once (not timed).
      let store = await openStore(config);
      let recordSize = 0;
      let messages = 0;
      let logBytes = 0;
      try {
        const w = await pump({
          window: WINDOW,
          maxOps: Math.ceil(dataBytes / (BODY_BYTES + 100)),
          durationMs: pick(ctx, 15_000, 60_000),
          op: (i) =>
            store.put({ topic: TOPIC, queueId: 0, body, bornTimestamp: Date.now() - 3_600_000 + i }).then((r) => {
              recordSize = r.size;
            }),
        });
        messages = w.ops;
        logBytes = store.stats().maxCommitLogOffset;
      } finally {
        await store.close();
      }
      const files = await commitLogFiles(dataDir);
      ctx.log(
        `   wrote ${messages} msgs of ${recordSize} B (${(logBytes / MiB).toFixed(0)} MiB) into ${files.length} segments of ${segmentSize / MiB} MiB; hot tail ${hotTailBytes / MiB} MiB`,
      );

      const storeRead = async (run: number): Promise<ColdRun> => {
        const t0 = performance.now();
        store = await openStore(config);
        const openMs = performance.now() - t0;
        try {
          let offset = 0;
          let bytes = 0;
          const start = performance.now();
          while (offset < messages) {
            const r = await store.get(TOPIC, 0, offset, 1024);
            if (r.status !== 'FOUND') throw new Error(`cold get(offset ${offset}) answered ${r.status} (max offset ${r.maxOffset})`);
            for (const m of r.messages) bytes += m.record.length;
            offset = r.nextOffset;
          }
          const s = (performance.now() - start) / 1000;
          const out = { msgPerSec: offset / s, mbPerSec: bytes / MB / s };
          ctx.log(
            `   ${runLabel(run)} apogee: opened in ${openMs.toFixed(0)} ms, read ${offset} msgs (${(bytes / MiB).toFixed(0)} MiB) in ${(s * 1000).toFixed(0)} ms = ${out.msgPerSec.toFixed(0)} msg/s, ${out.mbPerSec.toFixed(0)} MB/s`,
          );
          return out;
        } finally {
          await store.close();
        }
      };
      const rawRead = async (run: number): Promise<ColdRun> => {
        const r = await rawSequentialRead({ files, maxBytes: logBytes });
        const out = { msgPerSec: r.bytes / recordSize / (r.elapsedMs / 1000), mbPerSec: r.mbPerSec };
        ctx.log(`   ${runLabel(run)} raw:    read ${(r.bytes / MiB).toFixed(0)} MiB in ${r.elapsedMs.toFixed(0)} ms = ${r.mbPerSec.toFixed(0)} MB/s`);
        return out;
      };

      const [a, b] = await alternate(runsFor(ctx), [storeRead, rawRead], { warmup: true });
      const baselineName = 'raw fs.read of the CommitLog files, 1 MiB reads';
      ctx.report.add({
        scenario: 'cold-read',
        metric: `sequential get() ≤ 1024 after reopen, ${recordSize} B records`,
        unit: 'msg/s',
        better: 'higher',
        samples: a!.map((x) => x.msgPerSec),
        baseline: { name: `${baselineName} (÷ record size)`, samples: b!.map((x) => x.msgPerSec) },
      });
      ctx.report.add({
        scenario: 'cold-read',
        metric: `sequential get() ≤ 1024 after reopen, ${recordSize} B records`,
        unit: 'MB/s',
        better: 'higher',
        samples: a!.map((x) => x.mbPerSec),
        baseline: { name: baselineName, samples: b!.map((x) => x.mbPerSec) },
      });
      ctx.report.note('cold-read: "cold" means outside the store\'s hot tail; the OS page cache may still hold the files (caches are not dropped)');
    });
  },
};
