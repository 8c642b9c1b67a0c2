/**
 * Reporting of the mqtt suite: every Apogee figure is reported once per peer (the reporter has one
 * baseline per row): against plain aedes and against mosquitto, each with its target. A peer that
 * is not installed gets its row with no baseline and a note, not silence.
 */
import type { Better, Target } from '../../report.js';
import type { BenchContext } from '../../suite.js';
import { PEER_LABEL, type BrokerName, type Brokers } from './brokers.js';

/** Targets of the brief: Apogee ≥ 1.0 × plain aedes and ≥ 0.8 × mosquitto in every throughput scenario. */
export const THROUGHPUT_TARGETS: Record<'aedes' | 'mosquitto', Target> = {
  aedes: { on: 'ratio', op: '>=', value: 1.0, label: '≥ 1.0 × aedes' },
  mosquitto: { on: 'ratio', op: '>=', value: 0.8, label: '≥ 0.8 × mosquitto' },
};

/** p99 publish → deliver at 5,000 msgs/s QoS 1. */
export const TARGET_P99_MS = 2;

export function runsFor(ctx: BenchContext): number {
  return ctx.quick ? 3 : 5;
}

export function pick<T>(ctx: BenchContext, quick: T, full: T): T {
  return ctx.quick ? quick : full;
}

export interface PeerRows {
  scenario: string;
  metric: string;
  unit: string;
  better: Better;
  samples: Partial<Record<BrokerName, number[]>>;
  /** Target of the row against each peer (none when absent). */
  targets?: Partial<Record<'aedes' | 'mosquitto', Target>>;
}

const noted = new Set<string>();

/** One row per peer: "<metric> — vs aedes", "<metric> — vs mosquitto". */
export function addPeerRows(ctx: BenchContext, brokers: Pick<Brokers, 'mosquittoMissing'>, rows: PeerRows): void {
  const apogee = rows.samples.apogee;
  if (!apogee || apogee.length === 0) throw new Error(`${rows.scenario}: no Apogee samples for ${rows.metric}`);
  for (const peer of ['aedes', 'mosquitto'] as const) {
    const samples = rows.samples[peer];
    const target = rows.targets?.[peer];
    if (!samples || samples.length === 0) {
      const why = peer === 'mosquitto' && brokers.mosquittoMissing ? brokers.mosquittoMissing : 'no samples';
      ctx.report.add({
        scenario: rows.scenario,
        metric: `${rows.metric} — vs ${peer}: UNAVAILABLE`,
        unit: rows.unit,
        better: rows.better,
        samples: apogee,
        baseline: null,
      });
      if (!noted.has(`${rows.scenario}/${peer}`)) ctx.report.note(`${rows.scenario}: ${peer} baseline unavailable (${why})`);
      noted.add(`${rows.scenario}/${peer}`);
      continue;
    }
    ctx.report.add({
      scenario: rows.scenario,
      metric: `${rows.metric} — vs ${peer}`,
      unit: rows.unit,
      better: rows.better,
      samples: apogee,
      baseline: { name: PEER_LABEL[peer], samples },
      ...(target ? { target } : {}),
    });
  }
}
