/**
 * Scenarios a and b: ASYNC_FLUSH append throughput against raw sequential fs.write of records of
 * the same size, on the same disk, runs alternating store / raw.
 */
import type { PutMessage } from '@apogee/store';
import { MB, rawSequentialAppend } from '../../ceilings.js';
import { alternate, runLabel, pump } from '../../runner.js';
import type { BenchContext, Scenario } from '../../suite.js';
import { expectedRecordSize, makeBody, MiB, pick, runsFor, TOPIC, withStore } from './common.js';

const QUEUES = 8;
const SEGMENT_SIZE = 64 * MiB;

export const append4k: Scenario = {
  name: 'append-4k',
  description: 'ASYNC_FLUSH put of ~4 KiB records, 2048 in flight: MB/s vs raw sequential fs.write',
  async run(ctx: BenchContext): Promise<void> {
    const body = makeBody(4000);
    const window = 2048;
    const durationMs = pick(ctx, 600, 3000);
    const maxBytes = pick(ctx, 256 * MiB, 768 * MiB);
    let recordSize = expectedRecordSize({ topic: TOPIC, queueId: 0, body });

    // Two comparisons: to the page cache (no fsync anywhere in the clock), and to the disk — the
    // issue's "raw sequential-write ceiling of the same disk": the clock stops only once the data
    // is fdatasync'ed (store.flush() for Apogee, fdatasync of every file for raw writes).
    const storeRun = (durable: boolean) => (run: number) =>
      withStore(ctx, 'append-4k', { flushMode: 'ASYNC_FLUSH', segmentSize: SEGMENT_SIZE }, async (store) => {
        let bytes = 0;
        const r = await pump({
          window,
          maxOps: Math.ceil(maxBytes / recordSize),
          durationMs,
          op: (i) =>
            store.put({ topic: TOPIC, queueId: i % QUEUES, body }).then((res) => {
              bytes += res.size;
              recordSize = res.size;
            }),
        });
        let elapsedMs = r.elapsedMs;
        if (durable) {
          const t = performance.now();
          await store.flush();
          elapsedMs += performance.now() - t;
        }
        const mbps = bytes / MB / (elapsedMs / 1000);
        ctx.log(
          `   ${runLabel(run)} apogee${durable ? ' (to disk)' : ''}: ${r.ops} puts, ${(bytes / MiB).toFixed(0)} MiB in ${elapsedMs.toFixed(0)} ms = ${mbps.toFixed(1)} MB/s`,
        );
        return mbps;
      });
    const rawRun = (durable: boolean) => (run: number) =>
      ctx.tmp.with('raw-append', async (dir) => {
        const r = await rawSequentialAppend({ dir, recordSize, maxBytes, durationMs, segmentSize: SEGMENT_SIZE, durable });
        ctx.log(
          `   ${runLabel(run)} raw${durable ? ' (to disk)' : ''}:    ${(r.bytes / MiB).toFixed(0)} MiB of ${recordSize} B records in ${r.elapsedMs.toFixed(0)} ms = ${r.mbPerSec.toFixed(1)} MB/s`,
        );
        return r.mbPerSec;
      });

    const [apogeeDisk, rawDisk, apogee, raw] = await alternate(runsFor(ctx), [storeRun(true), rawRun(true), storeRun(false), rawRun(false)], { warmup: true });

    ctx.report.add({
      scenario: 'append-4k',
      metric: `put ${recordSize} B records, ${window} in flight, until on disk`,
      unit: 'MB/s',
      better: 'higher',
      samples: apogeeDisk!,
      baseline: { name: 'raw fs.write 4 MiB batches + fdatasync', samples: rawDisk! },
      target: { on: 'ratio', op: '>=', value: 0.7 },
    });
    ctx.report.add({
      scenario: 'append-4k',
      metric: `put ${recordSize} B records, ${window} in flight, into the page cache`,
      unit: 'MB/s',
      better: 'higher',
      samples: apogee!,
      baseline: { name: 'raw fs.write, 4 MiB batches, no fsync', samples: raw! },
    });
    ctx.report.note(
      "append-4k: the target row stops the clock once the data is fdatasync'ed (the disk's ceiling); the page-cache row never fsyncs the raw file, so it measures memory bandwidth",
    );
  },
};

export const append128: Scenario = {
  name: 'append-128b',
  description: 'ASYNC_FLUSH put and putBatch(32/64) of 128 B bodies: messages/s vs raw append of same-size records',
  async run(ctx: BenchContext): Promise<void> {
    const body = makeBody(128);
    const durationMs = pick(ctx, 400, 2500);
    const maxMessages = pick(ctx, 2_000_000, 3_000_000);
    let recordSize = expectedRecordSize({ topic: TOPIC, queueId: 0, body });
    /** Reused batches, one per queue: the store copies what it stores. */
    const batches = (n: number): PutMessage[][] =>
      Array.from({ length: QUEUES }, (_, q) => Array.from({ length: n }, () => ({ topic: TOPIC, queueId: q, body })));

    const single = async (run: number): Promise<number> =>
      withStore(ctx, 'append-128b', { flushMode: 'ASYNC_FLUSH', segmentSize: SEGMENT_SIZE }, async (store) => {
        const r = await pump({
          window: 4096,
          maxOps: maxMessages,
          durationMs,
          op: (i) =>
            store.put({ topic: TOPIC, queueId: i % QUEUES, body }).then((res) => {
              recordSize = res.size;
            }),
        });
        const rate = r.ops / (r.elapsedMs / 1000);
        ctx.log(`   ${runLabel(run)} put:        ${r.ops} msgs in ${r.elapsedMs.toFixed(0)} ms = ${rate.toFixed(0)} msg/s`);
        return rate;
      });

    const batched =
      (size: number) =>
      async (run: number): Promise<number> =>
        withStore(ctx, 'append-128b', { flushMode: 'ASYNC_FLUSH', segmentSize: SEGMENT_SIZE }, async (store) => {
          const lots = batches(size);
          const r = await pump({
            window: Math.max(1, Math.floor(4096 / size)),
            maxOps: Math.ceil(maxMessages / size),
            durationMs,
            op: (i) => store.putBatch(lots[i % QUEUES]!),
          });
          const msgs = r.ops * size;
          const rate = msgs / (r.elapsedMs / 1000);
          ctx.log(`   ${runLabel(run)} putBatch ${size}: ${msgs} msgs in ${r.elapsedMs.toFixed(0)} ms = ${rate.toFixed(0)} msg/s`);
          return rate;
        });

    const raw = async (run: number): Promise<number> =>
      ctx.tmp.with('raw-append', async (dir) => {
        const r = await rawSequentialAppend({ dir, recordSize, maxBytes: maxMessages * recordSize, durationMs, segmentSize: SEGMENT_SIZE });
        ctx.log(
          `   ${runLabel(run)} raw:        ${r.records} records of ${recordSize} B in ${r.elapsedMs.toFixed(0)} ms = ${r.recordsPerSec.toFixed(0)} rec/s`,
        );
        return r.recordsPerSec;
      });

    const [put, b32, b64, base] = await alternate(runsFor(ctx), [single, batched(32), batched(64), raw], { warmup: true });
    const baseline = { name: `raw fs.write of ${recordSize} B records`, samples: base! };
    const row = (metric: string, samples: number[]): void => {
      ctx.report.add({ scenario: 'append-128b', metric, unit: 'msg/s', better: 'higher', samples, baseline });
    };
    row('put, 4096 in flight', put!);
    row('putBatch of 32, 128 in flight', b32!);
    row('putBatch of 64, 64 in flight', b64!);
  },
};
