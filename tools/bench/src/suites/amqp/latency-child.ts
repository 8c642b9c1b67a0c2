/**
 * Load generator of the amqp latency scenario, in its own process: per broker one at-least-once
 * sender and one receiver (credit window 1,000, accepting) in this one process, so the send
 * timestamp (carried in the payload) and the delivery time come from one clock. Sends are paced
 * at a fixed rate by a 1 ms timer that does not drift (each tick sends every message due since the
 * start), bounded in count and time. Brokers run round-robin after one discarded warm-up round.
 */
import { appendFileSync } from 'node:fs';
import type * as RheaTypes from 'rhea';
import { childMain } from '../../child.js';
import { alternate, runLabel, WARMUP } from '../../runner.js';
import { percentile } from '../../stats.js';
import type { BrokerName, BrokerRef } from './brokers.js';
import { HEADER, closeAll, connect, encoded, errText, installLightDecode, log, opened, payloadOf } from './wire.js';

export interface LatencyInput {
  brokers: BrokerRef[];
  rate: number;
  runs: number;
  durationMs: number;
  warmupMs: number;
  drainMs: number;
}

export interface LatencyRun {
  sent: number;
  received: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  sendRate: number;
  maxTimerLagMs: number;
}

export interface LatencyOutput {
  runs: Partial<Record<BrokerName, LatencyRun[]>>;
  firstError: string | null;
}

async function measure(b: BrokerRef, queue: string, id: number, rate: number, durationMs: number, drainMs: number): Promise<LatencyRun> {
  const address = b.queuePrefix + queue;
  const conns: RheaTypes.Connection[] = [];
  try {
    const total = Math.floor((rate * durationMs) / 1000);
    const lat = new Float64Array(total);
    const seen = new Uint8Array(total);
    let received = 0;
    const rc = await connect(b);
    conns.push(rc);
    const r = rc.open_receiver({ source: { address }, credit_window: 1000, autoaccept: true });
    r.on('message', (ctx: RheaTypes.EventContext) => {
      const now = performance.now();
      const p = payloadOf(ctx.message!);
      if (!p || p.length < HEADER || p.readInt32LE(0) !== id) return;
      const seq = p.readInt32LE(4);
      if (seq < 0 || seq >= total || seen[seq]) return;
      seen[seq] = 1;
      lat[seq] = now - p.readDoubleLE(8);
      received++;
    });
    await opened(r, 'receiver');
    const sc = await connect(b);
    conns.push(sc);
    const s = sc.open_sender({ target: { address } });
    await opened(s, 'sender');
    // Bounded in count and time: stops at the count, or at 2× the planned time whatever happened.
    const paced = await new Promise<{ sent: number; elapsedMs: number; maxLag: number }>((resolve) => {
      let sent = 0;
      let maxLag = 0;
      const start = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        const due = Math.min(total, Math.floor(((now - start) * rate) / 1000));
        if (due > sent) maxLag = Math.max(maxLag, now - (start + (sent * 1000) / rate));
        while (sent < due && s.sendable()) s.send(encoded(id, sent++), undefined, 0);
        if (sent >= total || now - start > 2 * durationMs) {
          clearInterval(timer);
          resolve({ sent, elapsedMs: now - start, maxLag });
        }
      }, 1);
    });
    const deadline = performance.now() + drainMs;
    while (received < paced.sent && performance.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    const trace = process.env['APOGEE_BENCH_AMQP_TRACE'];
    if (trace) {
      // Diagnostics: per message its send offset and latency (ms), for lining tails up with GC or timers.
      const lines: string[] = [];
      for (let i = 0; i < paced.sent; i++) lines.push(`${b.name} ${id} ${i} ${seen[i] ? lat[i]!.toFixed(3) : 'lost'}`);
      appendFileSync(trace, lines.join('\n') + '\n');
    }
    const got: number[] = [];
    for (let i = 0; i < paced.sent; i++) if (seen[i]) got.push(lat[i]!);
    const q = (p: number): number => (got.length > 0 ? percentile(got, p) : Number.NaN);
    return {
      sent: paced.sent,
      received,
      p50: q(0.5),
      p99: q(0.99),
      p999: q(0.999),
      max: got.length > 0 ? Math.max(...got) : Number.NaN,
      sendRate: paced.sent / (paced.elapsedMs / 1000),
      maxTimerLagMs: paced.maxLag,
    };
  } finally {
    closeAll(conns);
  }
}

installLightDecode();

childMain<LatencyInput, LatencyOutput>(async (input) => {
  const out: LatencyOutput = { runs: {}, firstError: null };
  let id = 1;
  const variants = input.brokers.map((b) => async (run: number) => {
    try {
      const r = await measure(
        b,
        `bench-lat-${process.pid}-${run === WARMUP ? 'w' : run}`,
        id++,
        input.rate,
        run === WARMUP ? input.warmupMs : input.durationMs,
        input.drainMs,
      );
      log(`   ${b.name} ${runLabel(run)}: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.received}/${r.sent} received`);
      return r;
    } catch (err) {
      out.firstError ??= `${b.name}: ${errText(err)}`;
      return null;
    }
  });
  const results = await alternate(input.runs, variants, { warmup: true });
  input.brokers.forEach((b, i) => {
    out.runs[b.name] = results[i]!.filter((r): r is LatencyRun => r !== null);
  });
  return out;
});
