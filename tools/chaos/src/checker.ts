/**
 * The checker: from every send's outcome and every message consumed, the run's figures as
 * OpenMessaging-Chaos reports them — enqueued (attempted), acked, failed, lost (acked, never
 * consumed), duplicated (consumed at more than one queue position), unexpected (consumed, never
 * attempted by this run) — and per fault the unavailable seconds: the longest time without a
 * successful send from the fault's start to the first success after its heal.
 */
import type { Receipt, SendRecord } from './workload.js';

export interface FaultWindow {
  index: number;
  kind: string;
  /** Workload time the fault was injected. */
  startMs: number;
  /** When the heal began (restart, SIGCONT, rules removed); undefined when the fault never ran. */
  healMs?: number;
}

export interface CheckInput {
  rid: string;
  sends: readonly SendRecord[];
  /** What the live consumer received. */
  live: readonly Receipt[];
  /** What the verification read after the drain found. */
  verified: readonly Receipt[];
  faults: readonly FaultWindow[];
  /** When the producer stopped (the end of the measured time). */
  endMs: number;
}

export interface FaultFigures {
  index: number;
  kind: string;
  startMs: number;
  healMs: number;
  /** Longest gap without an acked send from the start to the first ack after the heal (or the end). */
  unavailableSec: number;
  /** An ack came after the heal before the producer stopped. */
  recovered: boolean;
  /** Acks that arrived between the fault's start and its heal. */
  ackedDuring: number;
  failedDuring: number;
  /** Acks during the fault by broker group. */
  ackedByGroupDuring: Record<string, number>;
}

export interface CheckResult {
  enqueued: number;
  acked: number;
  /** Sends that failed with an error (including timeouts). */
  failed: number;
  /** Of `failed`: those that timed out. */
  timedOut: number;
  /** Sends still without an outcome when the check ran (0 unless the run was cut short). */
  pending: number;
  /** Distinct messages of this run consumed (live or in the verification read). */
  consumed: number;
  lost: number;
  /** The first lost sequence numbers. */
  lostSeqs: number[];
  duplicated: number;
  /** Live deliveries of a queue position already delivered (a consumer re-read, not a second copy). */
  redelivered: number;
  unexpected: number;
  /** Sends the client saw fail whose message was stored anyway (consumed). */
  failedButConsumed: number;
  /** Acked messages the live consumer never received but the verification read found. */
  missedByLiveConsumer: number;
  faults: FaultFigures[];
  maxUnavailableSec: number;
}

const sec = (ms: number): number => Math.round(ms) / 1000;

/** Unavailability of one fault, from the sorted ack times. */
export function unavailability(ackTimes: readonly number[], startMs: number, healMs: number, endMs: number): { unavailableSec: number; recovered: boolean } {
  let lo = 0;
  let hi = ackTimes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ackTimes[mid]! <= startMs) lo = mid + 1;
    else hi = mid;
  }
  let prev = startMs;
  let gap = 0;
  for (let i = lo; i < ackTimes.length; i++) {
    const t = ackTimes[i]!;
    if (t > endMs) break;
    gap = Math.max(gap, t - prev);
    prev = t;
    if (t >= healMs) return { unavailableSec: sec(gap), recovered: true };
  }
  gap = Math.max(gap, endMs - prev);
  return { unavailableSec: sec(gap), recovered: false };
}

export function check(input: CheckInput): CheckResult {
  const { sends, rid } = input;
  let acked = 0;
  let failed = 0;
  let timedOut = 0;
  let pending = 0;
  const ackTimes: number[] = [];
  for (const s of sends) {
    if (s.outcome === 'acked') {
      acked++;
      ackTimes.push(s.endMs);
    } else if (s.outcome === 'pending') pending++;
    else {
      failed++;
      if (s.outcome === 'timeout') timedOut++;
    }
  }
  ackTimes.sort((a, b) => a - b);

  const positions = new Map<number, Set<string>>();
  const unexpected = new Set<string>();
  const liveSeen = new Set<number>();
  const livePositions = new Set<string>();
  let redelivered = 0;
  const take = (r: Receipt, live: boolean): void => {
    if (r.rid !== rid || r.seq < 0 || r.seq >= sends.length) {
      unexpected.add(`${r.rid}-${r.seq}@${r.broker}/${r.queueId}/${r.queueOffset}`);
      return;
    }
    const pos = `${r.broker}/${r.queueId}/${r.queueOffset}`;
    let set = positions.get(r.seq);
    if (!set) positions.set(r.seq, (set = new Set()));
    set.add(pos);
    if (live) {
      liveSeen.add(r.seq);
      if (livePositions.has(pos)) redelivered++;
      livePositions.add(pos);
    }
  };
  for (const r of input.live) take(r, true);
  for (const r of input.verified) take(r, false);

  const lostSeqs: number[] = [];
  let lost = 0;
  let missedByLiveConsumer = 0;
  let failedButConsumed = 0;
  for (const s of sends) {
    const seen = positions.has(s.seq);
    if (s.outcome === 'acked') {
      if (!seen) {
        lost++;
        if (lostSeqs.length < 20) lostSeqs.push(s.seq);
      } else if (!liveSeen.has(s.seq)) missedByLiveConsumer++;
    } else if ((s.outcome === 'failed' || s.outcome === 'timeout') && seen) failedButConsumed++;
  }
  let duplicated = 0;
  for (const set of positions.values()) if (set.size > 1) duplicated++;

  const faults: FaultFigures[] = [];
  for (const f of input.faults) {
    if (f.healMs === undefined) continue;
    const u = unavailability(ackTimes, f.startMs, f.healMs, input.endMs);
    let ackedDuring = 0;
    let failedDuring = 0;
    const ackedByGroupDuring: Record<string, number> = {};
    for (const s of sends) {
      if (s.endMs < f.startMs || s.endMs > f.healMs) continue;
      if (s.outcome === 'acked') {
        ackedDuring++;
        const g = s.broker ?? '?';
        ackedByGroupDuring[g] = (ackedByGroupDuring[g] ?? 0) + 1;
      } else if (s.outcome !== 'pending') failedDuring++;
    }
    faults.push({ index: f.index, kind: f.kind, startMs: f.startMs, healMs: f.healMs, ...u, ackedDuring, failedDuring, ackedByGroupDuring });
  }

  return {
    enqueued: sends.length,
    acked,
    failed,
    timedOut,
    pending,
    consumed: positions.size,
    lost,
    lostSeqs,
    duplicated,
    redelivered,
    unexpected: unexpected.size,
    failedButConsumed,
    missedByLiveConsumer,
    faults,
    maxUnavailableSec: faults.reduce((m, f) => Math.max(m, f.unavailableSec), 0),
  };
}
