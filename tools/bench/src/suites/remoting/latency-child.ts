/**
 * Load generator of the latency scenarios, in its own process: a Producer and a PushConsumer of
 * @apogee/client in this one process, so the send timestamp (performance.now(), carried in the
 * body) and the receive time come from the same clock. Sends are paced at a fixed rate by a timer
 * that does not drift (each tick sends every message due since the start of the run), bounded in
 * count and time; acks are not awaited before the next send.
 */
import { Producer, PushConsumer, type ReceivedMessage } from '@apogee/client';
import { childMain } from '../../child.js';
import { percentile } from '../../stats.js';
import { sleep } from '../../runner.js';
import { QUEUES } from './common.js';

export interface LatencyInput {
  topic: string;
  nameServer: string;
  /** Messages per second. */
  rate: number;
  bodySize: number;
  runs: number;
  durationMs: number;
  warmupMs: number;
  /** After the last send of a run, wait at most this long for the stragglers (the load goes on meanwhile). */
  drainMs: number;
  /** Quiet-tail bursts after the runs (see quietTail). */
  quietBursts: number;
  /**
   * 'ack': producer only, send → ack measured (against the echo ceiling, which has no consumer
   * side); 'e2e' (default): producer and PushConsumer, send → listener and send → ack.
   */
  mode?: 'e2e' | 'ack';
}

export interface LatencyRun {
  sent: number;
  acked: number;
  sendErrors: number;
  received: number;
  duplicates: number;
  /** send → listener, ms. */
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** send → ack, ms. */
  ackP50: number;
  ackP99: number;
  ackP999: number;
  /** Achieved send rate, msgs/s. */
  sendRate: number;
  /** Largest lag of the pacing timer behind the schedule, ms. */
  maxTimerLagMs: number;
}

export interface LatencyOutput {
  runs: LatencyRun[];
  warmup: LatencyRun;
  firstError: string | null;
  /** After the runs: bursts, each followed by no traffic; messages of a burst still undelivered 1 s later. */
  quietTails: Array<{ sent: number; late: number; lateQueues: number[] }>;
}

interface PaceResult {
  sent: number;
  elapsedMs: number;
  maxLag: number;
}

const WARMUP_RUN = -1;
const PROBE = -2;
const QUIET_ID = -3;
/** Filler phases count down from here. */
const FILLER_BASE = -100;
/** Messages of a quiet-tail burst (1 s at 10,000/s). */
const QUIET_TAIL = 10_000;

function log(message: string): void {
  process.stderr.write(message + '\n');
}

/** Per-run bookkeeping. */
class RunState {
  readonly latency: Float64Array;
  readonly ack: Float64Array;
  readonly seen: Uint8Array;
  /** Queue id the ack named, +1 (0 = not acked yet). */
  readonly ackQueue: Uint8Array;
  received = 0;
  acked = 0;
  duplicates = 0;
  sendErrors = 0;

  constructor(readonly capacity: number) {
    this.latency = new Float64Array(capacity);
    this.ack = new Float64Array(capacity);
    this.seen = new Uint8Array(capacity);
    this.ackQueue = new Uint8Array(capacity);
  }
}

async function run(input: LatencyInput): Promise<LatencyOutput> {
  const ackOnly = input.mode === 'ack';
  const group = `bench_latency_${process.pid}`;
  let firstError: string | null = null;
  const noteError = (err: unknown): void => {
    firstError ??= err instanceof Error ? err.message : String(err);
  };

  const states = new Map<number, RunState>();
  const probeQueues = new Set<number>();
  const onMessages = (msgs: ReceivedMessage[]): void => {
    const now = performance.now();
    for (const m of msgs) {
      const b = m.body;
      if (b.length < 16) continue;
      const runId = b.readInt32LE(0);
      if (runId === PROBE) {
        probeQueues.add(m.queueId);
        continue;
      }
      const st = states.get(runId);
      const seq = b.readInt32LE(4);
      if (!st || seq < 0 || seq >= st.capacity) continue;
      if (st.seen[seq]) {
        st.duplicates++;
        continue;
      }
      st.seen[seq] = 1;
      st.latency[seq] = now - b.readDoubleLE(8);
      st.received++;
    }
  };

  const producer = new Producer({ nameServer: input.nameServer, group: `${group}_p`, retryTimes: 0, sendTimeoutMs: 10_000 });
  producer.on('error', noteError);
  const consumer = new PushConsumer({
    nameServer: input.nameServer,
    group,
    consumeFromWhere: 'LAST',
    // Background work that would otherwise fall inside a run: far apart.
    rebalanceMs: 600_000,
    persistOffsetMs: 600_000,
  });
  consumer.on('error', noteError);
  consumer.subscribe(input.topic, '*');

  const body = (runId: number, seq: number): Buffer => {
    const b = Buffer.alloc(input.bodySize, 0x61);
    b.writeInt32LE(runId, 0);
    b.writeInt32LE(seq, 4);
    b.writeDoubleLE(performance.now(), 8);
    return b;
  };

  try {
    await producer.start();
    if (!ackOnly) await consumer.start((msgs) => onMessages(msgs));
    // Ready = every queue assigned and a probe seen on each (its pull loop is live).
    const deadline = performance.now() + 20_000;
    while (!ackOnly && consumer.assignedQueues().filter((q) => q.topic === input.topic).length < QUEUES) {
      if (performance.now() > deadline) throw new Error(`consumer got ${consumer.assignedQueues().length} queues of ${input.topic} in 20 s`);
      await sleep(20);
    }
    while (!ackOnly && probeQueues.size < QUEUES) {
      if (performance.now() > deadline) throw new Error(`probes reached ${probeQueues.size} of ${QUEUES} queues in 20 s; first error: ${firstError ?? 'none'}`);
      await Promise.all(Array.from({ length: QUEUES }, () => producer.send({ topic: input.topic, body: body(PROBE, 0) })));
      await sleep(50);
    }

    /**
     * Sends run `runId` messages 0, 1, … at input.rate on a schedule anchored at the start (each
     * 1 ms tick sends every message due by now, so timer lateness never lowers the rate), until
     * `count` are sent, `stop()` holds, or `maxMs` passed — whichever comes first.
     */
    const pace = (runId: number, st: RunState, count: number, maxMs: number, stop: () => boolean): Promise<PaceResult> =>
      new Promise<PaceResult>((resolve) => {
        let sent = 0;
        let maxLag = 0;
        const start = performance.now();
        const tick = (): void => {
          const now = performance.now();
          const due = Math.min(count, Math.floor(((now - start) * input.rate) / 1000));
          if (due > sent) maxLag = Math.max(maxLag, now - (start + (sent * 1000) / input.rate));
          while (sent < due) {
            const seq = sent++;
            const b = body(runId, seq);
            const t0 = b.readDoubleLE(8);
            producer.send({ topic: input.topic, body: b }).then(
              (res) => {
                st.ack[st.acked++] = performance.now() - t0;
                st.ackQueue[seq] = res.messageQueue.queueId + 1;
              },
              (err: unknown) => {
                st.sendErrors++;
                noteError(err);
              },
            );
          }
          if (sent >= count || now - start > maxMs || stop()) {
            clearInterval(timer);
            resolve({ sent, elapsedMs: now - start, maxLag });
          }
        };
        const timer = setInterval(tick, 1);
      });

    let fillerId = FILLER_BASE;
    const measure = async (runId: number, durationMs: number): Promise<LatencyRun> => {
      const total = Math.floor((input.rate * durationMs) / 1000);
      const st = new RunState(total);
      states.set(runId, st);
      // Bounded in count and time: stops at the count, or at 2× the planned time whatever happened.
      const r = await pace(runId, st, total, 2 * durationMs, () => false);
      // The load goes on (unmeasured filler at the same rate) until every measured message is in
      // or drainMs passed: a run measures a steady 10,000 msgs/s, not a queue going idle.
      const filler = new RunState(Math.ceil((input.rate * input.drainMs) / 1000) + 1);
      const fid = fillerId--;
      states.set(fid, filler);
      await pace(fid, filler, filler.capacity, input.drainMs, () => (ackOnly || st.received >= r.sent) && st.acked + st.sendErrors >= r.sent);
      states.delete(fid);
      states.delete(runId);
      if (!ackOnly && st.received < r.sent) {
        const missing: string[] = [];
        for (let i = 0; i < r.sent && missing.length < 10; i++) if (!st.seen[i]) missing.push(`#${i} q${st.ackQueue[i]! - 1}`);
        log(
          `   ${runId === WARMUP_RUN ? 'warm-up' : `run ${runId + 1}`}: ${r.sent - st.received} not received within ${input.drainMs} ms of the last send: ${missing.join(', ')}`,
        );
      }
      const lat = Array.from(st.latency.subarray(0, total)).filter((_, i) => st.seen[i] === 1);
      const ack = Array.from(st.ack.subarray(0, st.acked));
      const q = (xs: number[], p: number): number => (xs.length > 0 ? percentile(xs, p) : Number.NaN);
      return {
        sent: r.sent,
        acked: st.acked,
        sendErrors: st.sendErrors,
        received: st.received,
        duplicates: st.duplicates,
        p50: q(lat, 0.5),
        p99: q(lat, 0.99),
        p999: q(lat, 0.999),
        max: lat.length > 0 ? Math.max(...lat) : Number.NaN,
        ackP50: q(ack, 0.5),
        ackP99: q(ack, 0.99),
        ackP999: q(ack, 0.999),
        sendRate: r.sent / (r.elapsedMs / 1000),
        maxTimerLagMs: r.maxLag,
      };
    };

    /**
     * The load stops: a burst at the rate, then nothing. Counts the burst's messages (all acked) that
     * have not reached the listener 1 s later — a held pull that missed its wake-up waits for its
     * suspend timeout (15 s) instead.
     */
    const quietTail = async (): Promise<{ sent: number; late: number; lateQueues: number[] }> => {
      await sleep(1000);
      const st = new RunState(QUIET_TAIL);
      states.set(QUIET_ID, st);
      const r = await pace(QUIET_ID, st, QUIET_TAIL, 2000, () => false);
      const deadline = performance.now() + 1000;
      while ((st.acked + st.sendErrors < r.sent || st.received < r.sent) && performance.now() < deadline) await sleep(5);
      // Wait out the rest of the second, so "late" means late by ≥ 1 s from the ack.
      while (st.acked + st.sendErrors < r.sent && performance.now() < deadline + 5000) await sleep(5);
      await sleep(Math.max(0, deadline - performance.now()));
      states.delete(QUIET_ID);
      const lateQueues = new Set<number>();
      for (let i = 0; i < r.sent; i++) if (!st.seen[i] && st.ackQueue[i]! > 0) lateQueues.add(st.ackQueue[i]! - 1);
      let late = 0;
      for (let i = 0; i < r.sent; i++) if (!st.seen[i] && st.ackQueue[i]! > 0) late++;
      return { sent: r.sent, late, lateQueues: [...lateQueues].sort((a, b) => a - b) };
    };

    const show = (label: string, r: LatencyRun): void =>
      ackOnly
        ? log(
            `   ${label}: sent ${r.sent} at ${r.sendRate.toFixed(0)}/s, send→ack p50 ${r.ackP50.toFixed(3)} p99 ${r.ackP99.toFixed(3)} p99.9 ${r.ackP999.toFixed(3)} ms; timer lag ≤ ${r.maxTimerLagMs.toFixed(1)} ms${r.sendErrors ? `; ${r.sendErrors} send errors` : ''}`,
          )
        : log(
            `   ${label}: sent ${r.sent} at ${r.sendRate.toFixed(0)}/s, received ${r.received}${r.duplicates ? ` (+${r.duplicates} dup)` : ''}, ` +
              `e2e p50 ${r.p50.toFixed(3)} p99 ${r.p99.toFixed(3)} p99.9 ${r.p999.toFixed(3)} max ${r.max.toFixed(1)} ms; ` +
              `ack p50 ${r.ackP50.toFixed(3)} p99 ${r.ackP99.toFixed(3)} ms; timer lag ≤ ${r.maxTimerLagMs.toFixed(1)} ms${r.sendErrors ? `; ${r.sendErrors} send errors` : ''}`,
          );
    const warmup = await measure(WARMUP_RUN, input.warmupMs);
    show('warm-up', warmup);
    const runs: LatencyRun[] = [];
    for (let i = 0; i < input.runs; i++) {
      const r = await measure(i, input.durationMs);
      show(`run ${i + 1}`, r);
      runs.push(r);
    }
    const tails: Array<{ sent: number; late: number; lateQueues: number[] }> = [];
    for (let i = 0; i < (ackOnly ? 0 : input.quietBursts); i++) {
      const t = await quietTail();
      log(
        `   quiet tail ${i + 1}: ${t.sent} msgs at ${input.rate}/s, then silence; ${t.late} acked but not delivered 1 s later${t.late ? ` (queues ${t.lateQueues.join(',')})` : ''}`,
      );
      tails.push(t);
    }
    return { runs, warmup, firstError, quietTails: tails };
  } finally {
    await Promise.allSettled([ackOnly ? Promise.resolve() : consumer.shutdown(), producer.shutdown()]);
  }
}

await childMain(run);
