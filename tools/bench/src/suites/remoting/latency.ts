/**
 * End-to-end latency, send → PushConsumer listener, at a fixed rate, with the server in
 * ASYNC_FLUSH and (a second server start) SYNC_FLUSH. Producer and consumer live in one load
 * generator process (latency-child.ts) so both timestamps come from one clock.
 *
 * In the same run, the ceiling: the same producer SDK at the same rate against the echo server
 * (same framing, no broker work), send → ack. Apogee's send → ack is reported against it; the
 * send → listener path needs at least one more hop than that ceiling.
 */
import { fileURLToPath } from 'node:url';
import { runChild } from '../../child.js';
import { median } from '../../stats.js';
import type { BenchContext, Scenario } from '../../suite.js';
import { clientNodeFlags, pick } from './common.js';
import { withMeasuredServers } from './memory-rows.js';
import type { LatencyInput, LatencyOutput, LatencyRun } from './latency-child.js';

const CHILD = fileURLToPath(new URL('./latency-child.ts', import.meta.url));
export const RATE = 10_000;
const BODY = 128;
/** Median of 3 runs; each run sends at RATE for the run time. */
const RUNS = 3;
export const TARGET_P99_MS = 1;

function latencyScenario(flush: 'async' | 'sync'): Scenario {
  const scenario = `latency-${flush}`;
  const mode = flush === 'async' ? 'ASYNC_FLUSH' : 'SYNC_FLUSH';
  return {
    name: scenario,
    description: `send → PushConsumer at ${RATE.toLocaleString('en-US')} msgs/s, ${BODY} B bodies, ${mode}: p50/p99/p99.9`,
    async run(ctx: BenchContext): Promise<void> {
      const topic = `BenchLatency${flush === 'async' ? 'Async' : 'Sync'}`;
      const durationMs = pick(ctx, 1000, 10_000 / RUNS);
      const out = await withMeasuredServers(ctx, scenario, flush, { echo: true }, async (apogee, echo) => {
        await apogee.createTopic(topic);
        // The same paced load against each target; only the target and what is measured differ.
        const measure = (nameServer: string, extra: Pick<LatencyInput, 'quietBursts' | 'mode'>): Promise<LatencyOutput> => {
          const input: LatencyInput = {
            topic,
            nameServer,
            rate: RATE,
            bodySize: BODY,
            runs: RUNS,
            durationMs,
            warmupMs: pick(ctx, 1000, 2000),
            drainMs: 3000,
            ...extra,
          };
          return runChild<LatencyOutput>({ module: CHILD, input, nodeFlags: clientNodeFlags(), timeoutMs: pick(ctx, 60_000, 120_000) });
        };
        ctx.log(`   ceiling: the same producer against the echo server, send → ack`);
        const ceiling = await measure(echo!.addr, { quietBursts: 0, mode: 'ack' });
        ctx.log(`   apogee:`);
        const measured = await measure(apogee.namesrvAddr, { quietBursts: pick(ctx, 1, 3), mode: 'e2e' });
        return { ...measured, ceiling: ceiling.runs };
      });

      const runs = out.runs;
      const lost = runs.reduce((a, r) => a + (r.sent - r.received), 0);
      const errors = runs.reduce((a, r) => a + r.sendErrors, 0);
      if (runs.some((r) => r.received === 0)) throw new Error(`a run received nothing (first error: ${out.firstError ?? 'none'})`);
      const add = (metric: string, pickFn: (r: LatencyRun) => number, target?: boolean): void => {
        ctx.report.add({
          scenario,
          metric,
          unit: 'ms',
          better: 'lower',
          samples: runs.map(pickFn),
          baseline: null,
          ...(target ? { target: { on: 'value' as const, op: '<=' as const, value: TARGET_P99_MS, label: `p99 < ${TARGET_P99_MS} ms` } } : {}),
        });
      };
      const what = `${mode}, ${RATE.toLocaleString('en-US')} msgs/s, send → listener`;
      add(`${what}, p50`, (r) => r.p50);
      add(`${what}, p99`, (r) => r.p99, true);
      add(`${what}, p99.9`, (r) => r.p999);
      const vsEcho = (metric: string, pickFn: (r: LatencyRun) => number): void => {
        ctx.report.add({
          scenario,
          metric,
          unit: 'ms',
          better: 'lower',
          samples: runs.map(pickFn),
          baseline: { name: 'echo', samples: out.ceiling.map(pickFn) },
        });
      };
      const ackWhat = `${mode}, ${RATE.toLocaleString('en-US')} msgs/s, send → ack`;
      vsEcho(`${ackWhat}, p50`, (r) => r.ackP50);
      vsEcho(`${ackWhat}, p99`, (r) => r.ackP99);
      vsEcho(`${ackWhat}, p99.9`, (r) => r.ackP999);
      ctx.report.note(
        `${scenario}: ${runs.length} runs × ${(durationMs / 1000).toFixed(1)} s, ${runs.map((r) => r.sent).join('/')} msgs sent (achieved ${median(runs.map((r) => r.sendRate)).toFixed(0)}/s); ` +
          `max ${median(runs.map((r) => r.max)).toFixed(2)} ms; send→ack p50 ${median(runs.map((r) => r.ackP50)).toFixed(3)} ms, p99 ${median(runs.map((r) => r.ackP99)).toFixed(3)} ms (medians of runs); ` +
          `pacing timer up to ${Math.max(...runs.map((r) => r.maxTimerLagMs)).toFixed(1)} ms late`,
      );
      if (errors > 0 || lost > 0) {
        ctx.report.note(
          `${scenario}: ${errors} send errors and ${lost} messages not received within 3 s (under continued load) — percentiles are over received messages only; first error: ${out.firstError ?? 'none'}`,
        );
      }
      const tails = out.quietTails;
      const late = tails.reduce((a, t) => a + t.late, 0);
      ctx.report.note(
        `${scenario}: quiet tail — ${tails.length} burst(s) of ${tails[0]?.sent ?? 0} msgs at ${RATE.toLocaleString('en-US')}/s, each followed by no traffic: ${late} acked message(s) not delivered within 1 s` +
          (late > 0
            ? ` (queues ${[...new Set(tails.flatMap((t) => t.lateQueues))].join(',')}): a held pull missed its wake-up and waits for its 15 s suspend timeout`
            : ''),
      );
    },
  };
}

export const latencyAsync = latencyScenario('async');
export const latencySync = latencyScenario('sync');
