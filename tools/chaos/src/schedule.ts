/**
 * The fault schedule of a run, derived from the seed before anything starts: after a warm-up,
 * fault → hold → heal → recover, again and again while the next one fits in the duration. The
 * kinds are taken in the order given (so a run with as many faults as kinds has each once); hold
 * and recover times are drawn from their ranges.
 */
import { Rng } from './rng.js';

export const FAULT_KINDS = ['kill', 'suspend', 'partition', 'loss', 'bridge'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Who a fault hits: the master of one group, or a minority of the topology's hosts. */
export type TargetMode = 'master' | 'minority';

export interface Range {
  minMs: number;
  maxMs: number;
}

export interface ScheduleOptions {
  kinds: readonly FaultKind[];
  seed: number;
  durationMs: number;
  warmupMs: number;
  hold: Range;
  recover: Range;
  /** Loss percentage range of `loss` faults. */
  lossPercent: { min: number; max: number };
  /** Where each fault aims; `mixed` draws master or minority per fault. */
  target: TargetMode | 'mixed';
  /** At most this many faults (0 or unset: as many as fit in the duration). */
  count?: number;
}

export interface ScheduledFault {
  index: number;
  kind: FaultKind;
  /** Offset from the workload's start. */
  atMs: number;
  holdMs: number;
  /** Quiet time after the heal before the next fault. */
  recoverMs: number;
  target: TargetMode;
  /** Drawn for `loss` only. */
  lossPercent?: number;
  /** Seed for the fault's own choices (which group, which hosts, which halves). */
  choiceSeed: number;
}

/** Bounds any schedule, whatever the duration and ranges. */
export const MAX_FAULTS = 10_000;

export function buildSchedule(o: ScheduleOptions): ScheduledFault[] {
  if (o.kinds.length === 0) return [];
  if (o.hold.minMs <= 0 || o.hold.maxMs < o.hold.minMs) throw new Error('hold range must be positive and ordered');
  if (o.recover.minMs < 0 || o.recover.maxMs < o.recover.minMs) throw new Error('recover range must be non-negative and ordered');
  const rng = new Rng(o.seed);
  const out: ScheduledFault[] = [];
  let t = o.warmupMs;
  const max = o.count !== undefined && o.count > 0 ? Math.min(o.count, MAX_FAULTS) : MAX_FAULTS;
  for (let i = 0; i < max; i++) {
    const holdMs = rng.between(o.hold.minMs, o.hold.maxMs);
    const recoverMs = rng.between(o.recover.minMs, o.recover.maxMs);
    // A fault is scheduled only when its hold ends inside the duration (its recovery may be cut short).
    if (t + holdMs > o.durationMs) break;
    const kind = o.kinds[i % o.kinds.length]!;
    const target: TargetMode = o.target === 'mixed' ? (rng.float() < 0.5 ? 'master' : 'minority') : o.target;
    const f: ScheduledFault = { index: i, kind, atMs: t, holdMs, recoverMs, target, choiceSeed: rng.u32() };
    if (kind === 'loss') f.lossPercent = rng.between(o.lossPercent.min, o.lossPercent.max);
    out.push(f);
    t += holdMs + recoverMs;
  }
  return out;
}

/** "60s", "1500ms", "2m", or a bare number of seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${JSON.stringify(text)} (e.g. 60s, 500ms, 2m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return Math.round(unit === 'ms' ? n : unit === 'm' ? n * 60_000 : n * 1000);
}

/** "5s..10s" or "5s" (a fixed time). */
export function parseRange(text: string): Range {
  const [a, b] = text.split('..');
  const minMs = parseDuration(a!);
  const maxMs = b === undefined ? minMs : parseDuration(b);
  if (maxMs < minMs) throw new Error(`range ${text}: the end is before the start`);
  return { minMs, maxMs };
}

export function parseKinds(text: string): FaultKind[] {
  const kinds = text
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
  for (const k of kinds) if (!(FAULT_KINDS as readonly string[]).includes(k)) throw new Error(`unknown fault ${k}; faults are ${FAULT_KINDS.join(', ')}`);
  return kinds as FaultKind[];
}
