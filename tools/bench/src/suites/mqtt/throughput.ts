/**
 * MQTT throughput, 128 B payloads, Apogee (ASYNC_FLUSH) against plain aedes and mosquitto, side by
 * side in one run: QoS 0 one-to-one, QoS 1 one-to-one with 1,000 publishes in flight, QoS 0
 * fan-out to 100 subscribers, and QoS 1 over 10,000 topics (100 connections × 100 subscriptions).
 * Four kinds of process: the three brokers and the load generator (throughput-child.ts).
 */
import { fileURLToPath } from 'node:url';
import { runChild } from '../../child.js';
import { median } from '../../stats.js';
import type { BenchContext, Scenario } from '../../suite.js';
import { clientNodeFlags } from '../remoting/common.js';
import { withMeasuredBrokers } from './memory-rows.js';
import { addPeerRows, pick, runsFor, THROUGHPUT_TARGETS } from './common.js';
import type { ThroughputInput, ThroughputOutput } from './throughput-child.js';
import { PAYLOAD } from './wire.js';

const CHILD = fileURLToPath(new URL('./throughput-child.ts', import.meta.url));

interface Shape {
  name: string;
  description: string;
  metric: string;
  unit: string;
  input: (ctx: BenchContext) => Omit<ThroughputInput, 'brokers' | 'runs'>;
}

function throughputScenario(shape: Shape): Scenario {
  return {
    name: shape.name,
    description: shape.description,
    async run(ctx: BenchContext): Promise<void> {
      const { out, mosquittoMissing } = await withMeasuredBrokers(ctx, shape.name, async (brokers) => {
        const input: ThroughputInput = { ...shape.input(ctx), brokers: brokers.all, runs: runsFor(ctx) };
        const out = await runChild<ThroughputOutput>({ module: CHILD, input, nodeFlags: clientNodeFlags(), timeoutMs: pick(ctx, 90_000, 400_000) });
        return { out, mosquittoMissing: brokers.mosquittoMissing };
      });
      addPeerRows(
        ctx,
        { mosquittoMissing },
        {
          scenario: shape.name,
          metric: shape.metric,
          unit: shape.unit,
          better: 'higher',
          samples: out.samples,
          targets: THROUGHPUT_TARGETS,
        },
      );
      const parts: string[] = [];
      let trouble = '';
      for (const [name, runs] of Object.entries(out.runs)) {
        if (!runs) continue;
        const lost = runs.reduce((a, r) => a + (r.expected - r.deliveries), 0);
        const stalled = runs.filter((r) => r.stalled).length;
        const holds = runs.reduce((a, r) => a + r.backlogHolds, 0);
        parts.push(
          `${name} ${median(runs.map((r) => r.published)).toLocaleString('en-US')} msgs/run in ${(median(runs.map((r) => r.elapsedMs)) / 1000).toFixed(2)} s, ` +
            `CPU broker ${median(runs.map((r) => r.brokerCpu)).toFixed(0)}% / load generator ${median(runs.map((r) => r.clientCpu)).toFixed(0)}% of a core`,
        );
        if (lost > 0 || stalled > 0 || holds > 0) {
          trouble += ` ${name}: ${lost} deliveries missing${stalled ? `, ${stalled} run(s) stalled` : ''}${holds ? `, publishing was limited by the cap on undelivered messages (${holds.toLocaleString('en-US')} waits: PUBACKs came back faster than deliveries)` : ''};`;
        }
      }
      ctx.report.note(`${shape.name}: ${parts.join('; ')}`);
      if (trouble) ctx.report.note(`${shape.name}:${trouble}`);
      if (out.errors.length > 0) ctx.report.note(`${shape.name}: client errors: ${out.errors.slice(0, 3).join(' | ')}`);
    },
  };
}

const common = (ctx: BenchContext) => ({
  subscribeBatch: 100,
  maxMessages: pick(ctx, 400_000, 2_000_000),
  durationMs: pick(ctx, 450, 2000),
  warmupMs: pick(ctx, 300, 1000),
  drainMs: 5000,
  stallMs: 3000,
});

export const qos0 = throughputScenario({
  name: 'qos0-1to1',
  description: `QoS 0 one-to-one, ${PAYLOAD} B: msgs/s delivered (1,000 undelivered in flight)`,
  metric: 'QoS 0 publisher → 1 subscriber, msgs delivered',
  unit: 'msg/s',
  input: (ctx) => ({ ...common(ctx), tag: 'q0', qos: 0, topics: 1, subscribers: 1, fanout: false, window: 1000, maxBacklog: 1000 }),
});

export const qos1 = throughputScenario({
  name: 'qos1-1to1',
  description: `QoS 1 one-to-one, ${PAYLOAD} B, 1,000 unacknowledged publishes: msgs/s delivered`,
  metric: 'QoS 1 publisher (1,000 unacked) → 1 subscriber, msgs delivered',
  unit: 'msg/s',
  input: (ctx) => ({ ...common(ctx), tag: 'q1', qos: 1, topics: 1, subscribers: 1, fanout: false, window: 1000, maxBacklog: 10_000 }),
});

export const fanout = throughputScenario({
  name: 'fanout-100',
  description: `QoS 0 fan-out, one topic, 100 subscribers, ${PAYLOAD} B: deliveries/s`,
  metric: 'QoS 0 one topic → 100 subscribers, deliveries',
  unit: 'deliveries/s',
  input: (ctx) => ({
    ...common(ctx),
    maxMessages: pick(ctx, 20_000, 100_000),
    tag: 'fo',
    qos: 0,
    topics: 1,
    subscribers: 100,
    fanout: true,
    window: 200,
    maxBacklog: 200,
  }),
});

export const topics10k = throughputScenario({
  name: 'topics-10k',
  description: `QoS 1, 10,000 topics (100 connections × 100 subscriptions), round-robin publishes, 1,000 unacked, ${PAYLOAD} B: deliveries/s`,
  metric: 'QoS 1 round-robin over 10,000 topics (100 conns × 100 subs), 1,000 unacked, deliveries',
  unit: 'deliveries/s',
  input: (ctx) => ({ ...common(ctx), tag: 'tk', qos: 1, topics: 10_000, subscribers: 100, fanout: false, window: 1000, maxBacklog: 10_000 }),
});
