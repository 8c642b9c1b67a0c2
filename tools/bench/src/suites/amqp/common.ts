/**
 * Reporting of the amqp suite: each Apogee figure is one row with RabbitMQ as its baseline, or,
 * when RabbitMQ is not installed, the row with no baseline and a note saying so.
 */
import type { Better, Target } from '../../report.js';
import type { BenchContext } from '../../suite.js';
import { PEER_LABEL, type BrokerName } from './brokers.js';

/** Ahead of RabbitMQ in every throughput scenario. */
export const THROUGHPUT_TARGET: Target = { on: 'ratio', op: '>=', value: 1.0, label: '≥ 1.0 × RabbitMQ' };

/** p99 send → deliver at 5,000 msgs/s. */
export const TARGET_P99_MS = 2;

export function runsFor(ctx: BenchContext): number {
  return ctx.quick ? 3 : 5;
}

export function pick<T>(ctx: BenchContext, quick: T, full: T): T {
  return ctx.quick ? quick : full;
}

export interface PeerRow {
  scenario: string;
  metric: string;
  unit: string;
  better: Better;
  samples: Partial<Record<BrokerName, number[]>>;
  /** Target against RabbitMQ (ratio) or on the value itself. */
  target?: Target;
  rabbitMissing: string | null;
}

export function addPeerRow(ctx: BenchContext, row: PeerRow): void {
  const apogee = row.samples.apogee;
  if (!apogee || apogee.length === 0) throw new Error(`${row.scenario}: no Apogee samples for ${row.metric}`);
  const rabbit = row.samples.rabbitmq;
  const target = row.target;
  if (!rabbit || rabbit.length === 0) {
    const why = row.rabbitMissing ?? 'no samples (see the client errors)';
    // A value target still applies without the peer; a ratio target cannot.
    ctx.report.add({
      scenario: row.scenario,
      metric: `${row.metric} — vs RabbitMQ: UNAVAILABLE`,
      unit: row.unit,
      better: row.better,
      samples: apogee,
      baseline: null,
      ...(target && target.on === 'value' ? { target } : {}),
    });
    ctx.report.note(`${row.scenario}: RabbitMQ baseline unavailable (${why})`);
    return;
  }
  ctx.report.add({
    scenario: row.scenario,
    metric: `${row.metric} — vs RabbitMQ`,
    unit: row.unit,
    better: row.better,
    samples: apogee,
    baseline: { name: PEER_LABEL, samples: rabbit },
    ...(target ? { target } : {}),
  });
}
