/**
 * Publish → deliver latency at a fixed 5,000 msgs/s, QoS 1 both ways, 128 B payloads, on Apogee
 * (ASYNC_FLUSH), plain aedes and mosquitto side by side; publisher and subscriber share the load
 * generator process (latency-child.ts) so both timestamps come from one clock.
 */
import { fileURLToPath } from 'node:url';
import { runChild } from '../../child.js';
import { median } from '../../stats.js';
import type { BenchContext, Scenario } from '../../suite.js';
import { clientNodeFlags } from '../remoting/common.js';
import { withMeasuredBrokers } from './memory-rows.js';
import { addPeerRows, pick, runsFor, TARGET_P99_MS } from './common.js';
import type { LatencyInput, LatencyOutput, LatencyRun } from './latency-child.js';
import { PAYLOAD } from './wire.js';

const CHILD = fileURLToPath(new URL('./latency-child.ts', import.meta.url));
export const RATE = 5000;

export const latency: Scenario = {
  name: 'latency-qos1',
  description: `publish → deliver at ${RATE.toLocaleString('en-US')} msgs/s, QoS 1, ${PAYLOAD} B: p50/p99/p99.9`,
  async run(ctx: BenchContext): Promise<void> {
    const durationMs = pick(ctx, 800, 3000);
    const { out, mosquittoMissing } = await withMeasuredBrokers(ctx, 'latency-qos1', async (brokers) => {
      const input: LatencyInput = { brokers: brokers.all, rate: RATE, runs: runsFor(ctx), durationMs, warmupMs: pick(ctx, 400, 1000), drainMs: 3000 };
      const out = await runChild<LatencyOutput>({ module: CHILD, input, nodeFlags: clientNodeFlags(), timeoutMs: pick(ctx, 60_000, 180_000) });
      return { out, mosquittoMissing: brokers.mosquittoMissing };
    });
    const samples = (f: (r: LatencyRun) => number): Partial<Record<'apogee' | 'aedes' | 'mosquitto', number[]>> => {
      const o: Partial<Record<'apogee' | 'aedes' | 'mosquitto', number[]>> = {};
      for (const [name, runs] of Object.entries(out.runs)) if (runs) o[name as 'apogee'] = runs.map(f);
      return o;
    };
    const apogeeRuns = out.runs.apogee ?? [];
    if (apogeeRuns.some((r) => r.received === 0)) throw new Error(`an Apogee run received nothing (first error: ${out.firstError ?? 'none'})`);
    const what = `QoS 1, ${RATE.toLocaleString('en-US')} msgs/s, publish → deliver`;
    const p99Target = { on: 'value' as const, op: '<=' as const, value: TARGET_P99_MS, label: `p99 < ${TARGET_P99_MS} ms` };
    addPeerRows(ctx, { mosquittoMissing }, { scenario: 'latency-qos1', metric: `${what}, p50`, unit: 'ms', better: 'lower', samples: samples((r) => r.p50) });
    addPeerRows(
      ctx,
      { mosquittoMissing },
      {
        scenario: 'latency-qos1',
        metric: `${what}, p99`,
        unit: 'ms',
        better: 'lower',
        samples: samples((r) => r.p99),
        targets: { aedes: p99Target, mosquitto: p99Target },
      },
    );
    addPeerRows(
      ctx,
      { mosquittoMissing },
      { scenario: 'latency-qos1', metric: `${what}, p99.9`, unit: 'ms', better: 'lower', samples: samples((r) => r.p999) },
    );
    const parts: string[] = [];
    for (const [name, runs] of Object.entries(out.runs)) {
      if (!runs) continue;
      const lost = runs.reduce((a, r) => a + (r.sent - r.received), 0);
      parts.push(
        `${name} ${runs.length} runs × ${(durationMs / 1000).toFixed(1)} s at ${median(runs.map((r) => r.sendRate)).toFixed(0)}/s, max ${median(runs.map((r) => r.max)).toFixed(2)} ms (median of runs), pacing ≤ ${Math.max(...runs.map((r) => r.maxTimerLagMs)).toFixed(1)} ms late` +
          (lost > 0 ? `, ${lost} NOT DELIVERED within 3 s` : ''),
      );
    }
    ctx.report.note(`latency-qos1: ${parts.join('; ')}`);
    if (out.firstError) ctx.report.note(`latency-qos1: first client error: ${out.firstError}`);
  },
};
