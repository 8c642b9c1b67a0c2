/**
 * AMQP 1.0 throughput, 128 B payloads, Apogee (ASYNC_FLUSH) against RabbitMQ's AMQP 1.0 plugin
 * side by side: one sender → one receiver at least once (1,000 unsettled) and at most once
 * (pre-settled), and one sender → four competing receivers at least once. Three kinds of process:
 * the two brokers and the load generator (throughput-child.ts).
 */
import { fileURLToPath } from 'node:url';
import { runChild } from '../../child.js';
import { median } from '../../stats.js';
import type { BenchContext, Scenario } from '../../suite.js';
import { clientNodeFlags } from '../remoting/common.js';
import { withMeasuredBrokers } from './memory-rows.js';
import { addPeerRow, pick, runsFor, THROUGHPUT_TARGET } from './common.js';
import type { ThroughputInput, ThroughputOutput } from './throughput-child.js';
import { PAYLOAD } from './wire.js';

const CHILD = fileURLToPath(new URL('./throughput-child.ts', import.meta.url));

interface Shape {
  name: string;
  description: string;
  metric: string;
  input: Pick<ThroughputInput, 'tag' | 'settled' | 'receivers'>;
}

function throughputScenario(shape: Shape): Scenario {
  return {
    name: shape.name,
    description: shape.description,
    async run(ctx: BenchContext): Promise<void> {
      const { out, rabbitMissing } = await withMeasuredBrokers(ctx, shape.name, async (brokers) => {
        const input: ThroughputInput = {
          ...shape.input,
          brokers: brokers.all,
          window: 1000,
          runs: runsFor(ctx),
          maxMessages: pick(ctx, 200_000, 1_000_000),
          durationMs: pick(ctx, 1000, 3000),
          warmupMs: pick(ctx, 1500, 2000),
          drainMs: 5000,
        };
        const out = await runChild<ThroughputOutput>({ module: CHILD, input, nodeFlags: clientNodeFlags(), timeoutMs: pick(ctx, 120_000, 400_000) });
        return { out, rabbitMissing: brokers.rabbitMissing };
      });
      addPeerRow(ctx, {
        scenario: shape.name,
        metric: shape.metric,
        unit: 'msg/s',
        better: 'higher',
        samples: out.samples,
        target: THROUGHPUT_TARGET,
        rabbitMissing,
      });
      const parts: string[] = [];
      for (const [name, runs] of Object.entries(out.runs)) {
        if (!runs || runs.length === 0) continue;
        const lost = runs.reduce((a, r) => a + (r.sent - r.delivered), 0);
        const spread = shape.input.receivers > 1 ? `, per receiver ${runs[0]!.perReceiver.map((n) => n.toLocaleString('en-US')).join('/')} (first run)` : '';
        parts.push(
          `${name} ${median(runs.map((r) => r.sent)).toLocaleString('en-US')} msgs/run in ${(median(runs.map((r) => r.elapsedMs)) / 1000).toFixed(2)} s${spread}${lost > 0 ? `, ${lost} NOT DELIVERED` : ''}`,
        );
      }
      ctx.report.note(`${shape.name}: ${parts.join('; ')}`);
      if (out.errors.length > 0) ctx.report.note(`${shape.name}: client errors: ${out.errors.slice(0, 3).join(' | ')}`);
    },
  };
}

export const atLeastOnce = throughputScenario({
  name: 'at-least-once-1to1',
  description: `one sender (1,000 unsettled) → one receiver, both settling, ${PAYLOAD} B: msgs/s delivered`,
  metric: 'at least once, 1 sender (1,000 unsettled) → 1 receiver, msgs delivered',
  input: { tag: 'alo', settled: false, receivers: 1 },
});

export const atMostOnce = throughputScenario({
  name: 'at-most-once-1to1',
  description: `one sender → one receiver, pre-settled both ways, ${PAYLOAD} B: msgs/s delivered`,
  metric: 'at most once (pre-settled), 1 sender → 1 receiver, msgs delivered',
  input: { tag: 'amo', settled: true, receivers: 1 },
});

export const competing = throughputScenario({
  name: 'competing-4',
  description: `one sender (1,000 unsettled) → four competing receivers on one queue, ${PAYLOAD} B: msgs/s delivered`,
  metric: 'at least once, 1 sender → 4 competing receivers, msgs delivered',
  input: { tag: 'c4', settled: false, receivers: 4 },
});
