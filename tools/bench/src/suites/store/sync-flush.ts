/**
 * Scenario c: SYNC_FLUSH group commit. 64 writers, each awaiting its put before the next, against
 * raw append + one fdatasync per batch, the batch being the number of messages the store itself
 * put behind each flush in the preceding run.
 */
import { rawSyncAppend } from '../../ceilings.js';
import { installFsyncCounter } from '../../fsync-counter.js';
import { alternate, runLabel } from '../../runner.js';
import { median } from '../../stats.js';
import type { BenchContext, Scenario } from '../../suite.js';
import { expectedRecordSize, makeBody, MiB, pick, runsFor, TOPIC, withStore } from './common.js';

const WRITERS = 64;
const BODY_BYTES = 1024;

interface SyncRun {
  rate: number;
  /** Messages per durable flush, as the writers saw it. */
  batch: number;
}

export const syncFlush: Scenario = {
  name: 'sync-flush',
  description: `SYNC_FLUSH, ${WRITERS} writers each awaiting its put: messages/s vs raw write + fdatasync per batch of the same size`,
  async run(ctx: BenchContext): Promise<void> {
    const body = makeBody(BODY_BYTES);
    const durationMs = pick(ctx, 500, 3000);
    const maxMessages = pick(ctx, 200_000, 1_000_000);
    let recordSize = expectedRecordSize({ topic: TOPIC, queueId: 0, body });
    let lastBatch = WRITERS;
    let earlyAcks = 0;

    const apogee = async (run: number): Promise<SyncRun> =>
      withStore(ctx, 'sync-flush', { flushMode: 'SYNC_FLUSH', segmentSize: 64 * MiB }, async (store) => {
        const counter = await installFsyncCounter();
        let issued = 0;
        let acked = 0;
        let flushPoints = 0;
        let lastFlushed = -1;
        const start = performance.now();
        const deadline = start + durationMs;
        const writer = async (id: number): Promise<void> => {
          while (issued < maxMessages && performance.now() < deadline) {
            issued++;
            const res = await store.put({ topic: TOPIC, queueId: id % 8, body });
            acked++;
            recordSize = res.size;
            const flushed = store.stats().flushedCommitLogOffset;
            if (flushed < res.commitLogOffset + res.size) earlyAcks++;
            if (flushed !== lastFlushed) {
              lastFlushed = flushed;
              flushPoints++;
            }
          }
        };
        try {
          await Promise.all(Array.from({ length: WRITERS }, (_, id) => writer(id)));
        } finally {
          counter.uninstall();
        }
        const elapsedMs = performance.now() - start;
        const rate = acked / (elapsedMs / 1000);
        const byFlushPoints = flushPoints > 0 ? acked / flushPoints : 0;
        const byFsyncs = counter.count > 0 ? acked / counter.count : 0;
        // What the writers saw (distinct flushed offsets at their acks) is the group size; the
        // node:fs fsync count is the fallback when the store reports no flushed offset.
        const batch = byFlushPoints >= 1 && byFlushPoints <= WRITERS ? byFlushPoints : byFsyncs >= 1 ? Math.min(byFsyncs, WRITERS) : WRITERS;
        lastBatch = batch;
        ctx.log(
          `   ${runLabel(run)} apogee: ${acked} msgs in ${elapsedMs.toFixed(0)} ms = ${rate.toFixed(0)} msg/s; ` +
            `${flushPoints} flush points (${byFlushPoints.toFixed(1)} msg each), ${counter.count} fs fsync calls (${byFsyncs.toFixed(1)} msg each)`,
        );
        return { rate, batch };
      });

    const raw = async (run: number): Promise<number> =>
      ctx.tmp.with('raw-sync', async (dir) => {
        const batchRecords = Math.max(1, Math.round(lastBatch));
        const r = await rawSyncAppend({ dir, recordSize, batchRecords, maxRecords: maxMessages, durationMs });
        ctx.log(
          `   ${runLabel(run)} raw:    ${r.records} records of ${recordSize} B, ${batchRecords} per fdatasync, ${r.fdatasyncs} fdatasyncs = ${r.recordsPerSec.toFixed(0)} rec/s`,
        );
        return r.recordsPerSec;
      });

    const [a, b] = await alternate<SyncRun | number>(runsFor(ctx), [apogee, raw], { warmup: true });
    const runs = a as SyncRun[];
    const batches = runs.map((r) => r.batch);
    ctx.report.add({
      scenario: 'sync-flush',
      metric: `${WRITERS} writers, put→await, ${BODY_BYTES} B bodies`,
      unit: 'msg/s',
      better: 'higher',
      samples: runs.map((r) => r.rate),
      baseline: { name: 'raw fs.write + fdatasync per batch of the store’s size', samples: b as number[] },
      target: { on: 'ratio', op: '>=', value: 0.7 },
    });
    ctx.report.add({ scenario: 'sync-flush', metric: 'messages per fdatasync (group size)', unit: 'msg', better: 'higher', samples: batches });
    ctx.report.note(
      `sync-flush: the raw baseline wrote ${Math.round(median(batches))} records (median; each run used its store run's size) of ${recordSize} B per fdatasync`,
    );
    if (earlyAcks > 0) {
      ctx.report.note(`sync-flush: ${earlyAcks} SYNC_FLUSH puts resolved before stats().flushedCommitLogOffset covered them`);
    }
  },
};
