/**
 * Send → deliver latency at a fixed 5,000 msgs/s, at least once both ways, 128 B, on Apogee
 * (ASYNC_FLUSH) and RabbitMQ's AMQP 1.0 plugin side by side; sender and receiver share the load
 * generator process (latency-child.ts) so both timestamps come from one clock.
 */
import { fileURLToPath } from 'node:url';
import { runChild } from '../../child.js';
import { median } from '../../stats.js';
import type { BenchContext, Scenario } from '../../suite.js';
import { clientNodeFlags } from '../remoting/common.js';
import { withMeasuredBrokers } from './memory-rows.js';
import { addPeerRow, pick, runsFor, TARGET_P99_MS } from './common.js';
import type { LatencyInput, LatencyOutput, LatencyRun } from './latency-child.js';
import { PAYLOAD } from './wire.js';

const CHILD = fileURLToPath(new URL('./latency-child.ts', import.meta.url));
export const RATE = 5000;

export const latency: Scenario = {
  name: 'latency-5k',
  description: `send → deliver at ${RATE.toLocaleString('en-US')} msgs/s, at least once, ${PAYLOAD} B: p50/p99/p99.9`,
  async run(ctx: BenchContext): Promise<void> {
    const durationMs = pick(ctx, 1000, 3000);
    const { out, rabbitMissing } = await withMeasuredBrokers(ctx, 'latency-5k', async (brokers) => {
      const input: LatencyInput = { brokers: brokers.all, rate: RATE, runs: runsFor(ctx), durationMs, warmupMs: pick(ctx, 2000, 3000), drainMs: 3000 };
      const out = await runChild<LatencyOutput>({ module: CHILD, input, nodeFlags: clientNodeFlags(), timeoutMs: pick(ctx, 60_000, 180_000) });
      return { out, rabbitMissing: brokers.rabbitMissing };
    });
    const apogeeRuns = out.runs.apogee ?? [];
    if (apogeeRuns.length === 0 || apogeeRuns.some((r) => r.received === 0))
      throw new Error(`an Apogee run received nothing (first error: ${out.firstError ?? 'none'})`);
    const samples = (f: (r: LatencyRun) => number): Partial<Record<'apogee' | 'rabbitmq', number[]>> => {
      const o: Partial<Record<'apogee' | 'rabbitmq', number[]>> = {};
      for (const [name, runs] of Object.entries(out.runs)) if (runs && runs.length > 0) o[name as 'apogee'] = runs.map(f);
      return o;
    };
    const what = `at least once, ${RATE.toLocaleString('en-US')} msgs/s, send → deliver`;
    const p99Target = { on: 'value' as const, op: '<=' as const, value: TARGET_P99_MS, label: `p99 < ${TARGET_P99_MS} ms` };
    addPeerRow(ctx, { scenario: 'latency-5k', metric: `${what}, p50`, unit: 'ms', better: 'lower', samples: samples((r) => r.p50), rabbitMissing });
    addPeerRow(ctx, {
      scenario: 'latency-5k',
      metric: `${what}, p99`,
      unit: 'ms',
      better: 'lower',
      samples: samples((r) => r.p99),
      target: p99Target,
      rabbitMissing,
    });
    addPeerRow(ctx, { scenario: 'latency-5k', metric: `${what}, p99.9`, unit: 'ms', better: 'lower', samples: samples((r) => r.p999), rabbitMissing });
    const parts: string[] = [];
    for (const [name, runs] of Object.entries(out.runs)) {
      if (!runs || runs.length === 0) continue;
      const lost = runs.reduce((a, r) => a + (r.sent - r.received), 0);
      parts.push(
        `${name} ${runs.length} runs × ${(durationMs / 1000).toFixed(1)} s at ${median(runs.map((r) => r.sendRate)).toFixed(0)}/s, max ${median(runs.map((r) => r.max)).toFixed(2)} ms (median of runs), pacing ≤ ${Math.max(...runs.map((r) => r.maxTimerLagMs)).toFixed(1)} ms late${lost > 0 ? `, ${lost} NOT DELIVERED within 3 s` : ''}`,
      );
    }
    ctx.report.note(`latency-5k: ${parts.join('; ')}`);
    if (out.firstError) ctx.report.note(`latency-5k: first client error: ${out.firstError}`);
  },
};
