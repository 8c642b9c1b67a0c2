/**
 * Where a fault's unavailable time went, for topologies that report who is master over time
 * (`ha`): from the master samples (the etcd key, every ~100 ms) and the ack times, per fault —
 * when the old master's key went (its lease expired, or it resigned), when a master of a higher
 * epoch appeared (the election), and when the first send was acknowledged after that (the new
 * master's stack and registration, the clients' route refresh and retries). And per fault kind:
 * how many, and the average, least and largest unavailable seconds.
 */
import type { FaultFigures } from './checker.js';
import type { MasterSample } from './topology.js';

export interface FailoverFigures {
  index: number;
  kind: string;
  group: string;
  /** The master when the fault started, and its epoch. */
  from: string | null;
  fromEpoch: number | null;
  /** The first master of a higher epoch after the start, and its epoch (none: no failover). */
  to?: string;
  toEpoch?: number;
  /** Seconds from the fault's start until the master key was seen absent or changed. */
  keyGoneSec?: number;
  /** Seconds from the fault's start until a master of a higher epoch was seen. */
  electedSec?: number;
  /** Seconds from that election until the first acknowledged send after it. */
  firstAckAfterElectedSec?: number;
}

export interface KindSummary {
  kind: string;
  faults: number;
  /** Faults after which another broker was master (a higher epoch on another host). */
  failovers: number;
  /** Faults after which the same broker was master again at a higher epoch (nobody else could be elected). */
  reelections: number;
  avgUnavailableSec: number;
  minUnavailableSec: number;
  maxUnavailableSec: number;
  /** Averages over the faults after which a master of a higher epoch was seen (undefined without one). */
  avgKeyGoneSec?: number;
  avgElectedSec?: number;
  avgFirstAckAfterElectedSec?: number;
}

const sec = (ms: number): number => Math.round(ms) / 1000;

/** Per fault, from the samples (in time order) and the sorted ack times. */
export function failoverFigures(
  faults: readonly Pick<FaultFigures, 'index' | 'kind' | 'startMs' | 'healMs'>[],
  samples: readonly MasterSample[],
  ackTimes: readonly number[],
  nextStartOf: (index: number) => number,
): FailoverFigures[] {
  const out: FailoverFigures[] = [];
  const groups = [...new Set(samples.map((s) => s.group))];
  for (const f of faults) {
    const end = nextStartOf(f.index);
    for (const group of groups) {
      const mine = samples.filter((s) => s.group === group);
      const before = [...mine].reverse().find((s) => s.atMs <= f.startMs);
      const fromEpoch = before?.host ? (before.epoch ?? null) : null;
      const r: FailoverFigures = { index: f.index, kind: f.kind, group, from: before?.host ?? null, fromEpoch };
      const after = mine.filter((s) => s.atMs > f.startMs && s.atMs < end);
      const gone = after.find((s) => s.host === null || s.epoch !== fromEpoch);
      if (gone) r.keyGoneSec = sec(gone.atMs - f.startMs);
      const elected = after.find((s) => s.host !== null && s.epoch !== undefined && (fromEpoch === null || s.epoch > fromEpoch));
      if (elected) {
        r.to = elected.host!;
        r.toEpoch = elected.epoch!;
        r.electedSec = sec(elected.atMs - f.startMs);
        const ack = ackTimes.find((t) => t >= elected.atMs);
        if (ack !== undefined && ack < end) r.firstAckAfterElectedSec = sec(ack - elected.atMs);
      }
      out.push(r);
    }
  }
  return out;
}

const avg = (xs: readonly number[]): number | undefined =>
  xs.length === 0 ? undefined : Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 1000) / 1000;

/** Per fault kind, in the order the kinds first ran. */
export function summarizeByKind(faults: readonly FaultFigures[], failovers: readonly FailoverFigures[]): KindSummary[] {
  const kinds = [...new Set(faults.map((f) => f.kind))];
  return kinds.map((kind) => {
    const fs = faults.filter((f) => f.kind === kind);
    const u = fs.map((f) => f.unavailableSec);
    const fo = failovers.filter((f) => f.kind === kind && f.toEpoch !== undefined);
    const s: KindSummary = {
      kind,
      faults: fs.length,
      failovers: fo.filter((f) => f.to !== f.from).length,
      reelections: fo.filter((f) => f.to === f.from).length,
      avgUnavailableSec: avg(u) ?? 0,
      minUnavailableSec: Math.min(...u),
      maxUnavailableSec: Math.max(...u),
    };
    const g = avg(fo.flatMap((f) => (f.keyGoneSec === undefined ? [] : [f.keyGoneSec])));
    const e = avg(fo.flatMap((f) => (f.electedSec === undefined ? [] : [f.electedSec])));
    const a = avg(fo.flatMap((f) => (f.firstAckAfterElectedSec === undefined ? [] : [f.firstAckAfterElectedSec])));
    if (g !== undefined) s.avgKeyGoneSec = g;
    if (e !== undefined) s.avgElectedSec = e;
    if (a !== undefined) s.avgFirstAckAfterElectedSec = a;
    return s;
  });
}
