/**
 * Load generator of the mqtt latency scenario, in its own process: against every broker, one
 * QoS 1 publisher and one QoS 1 subscriber in this one process, so the publish timestamp
 * (performance.now(), carried in the payload) and the delivery time come from the same clock.
 * Publishes are paced at a fixed rate by a timer that does not drift (each 1 ms tick publishes
 * every message due since the start of the run), bounded in count and time; PUBACKs are not
 * awaited before the next publish. Brokers run round-robin after one discarded warm-up round.
 */
import type { MqttClient } from 'mqtt';
import { childMain } from '../../child.js';
import { alternate, runLabel, WARMUP } from '../../runner.js';
import { percentile } from '../../stats.js';
import type { BrokerName, BrokerRef } from './brokers.js';
import { closeAll, connect, errText, HEADER, log, payload } from './wire.js';

export interface LatencyInput {
  brokers: BrokerRef[];
  rate: number;
  runs: number;
  durationMs: number;
  warmupMs: number;
  /** After the last publish, wait at most this long for the stragglers. */
  drainMs: number;
}

export interface LatencyRun {
  sent: number;
  acked: number;
  received: number;
  duplicates: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  /** Achieved publish rate, msgs/s. */
  sendRate: number;
  /** Largest lag of the pacing timer behind the schedule, ms. */
  maxTimerLagMs: number;
  errors: number;
}

export interface LatencyOutput {
  runs: Partial<Record<BrokerName, LatencyRun[]>>;
  firstError: string | null;
}

const TOPIC = 'bench/lat';

class Rig {
  private pub!: MqttClient;
  private sub!: MqttClient;
  private st: { id: number; lat: Float64Array; seen: Uint8Array; received: number; duplicates: number } | null = null;
  private probes = 0;

  constructor(readonly broker: BrokerRef) {}

  async open(): Promise<void> {
    this.pub = await connect(this.broker, 'lpub');
    this.sub = await connect(this.broker, 'lsub');
    this.sub.on('message', (_t, p) => this.onMessage(p));
    await this.sub.subscribeAsync(TOPIC, { qos: 1 });
    const deadline = performance.now() + 20_000;
    while (this.probes === 0) {
      if (performance.now() > deadline) throw new Error(`${this.broker.name}: probe not delivered in 20 s`);
      await this.pub.publishAsync(TOPIC, payload(-7, 0), { qos: 1 });
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private onMessage(p: Buffer): void {
    const now = performance.now();
    if (p.length < HEADER) return;
    const id = p.readInt32LE(0);
    if (id === -7) {
      this.probes++;
      return;
    }
    const st = this.st;
    if (!st || id !== st.id) return;
    const seq = p.readInt32LE(4);
    if (seq < 0 || seq >= st.seen.length) return;
    if (st.seen[seq]) {
      st.duplicates++;
      return;
    }
    st.seen[seq] = 1;
    st.lat[seq] = now - p.readDoubleLE(8);
    st.received++;
  }

  async measure(id: number, rate: number, durationMs: number, drainMs: number, onError: (e: unknown) => void): Promise<LatencyRun> {
    const total = Math.floor((rate * durationMs) / 1000);
    const st = { id, lat: new Float64Array(total), seen: new Uint8Array(total), received: 0, duplicates: 0 };
    this.st = st;
    let acked = 0;
    let errors = 0;
    const onAck = (err?: Error): void => {
      if (err) {
        errors++;
        onError(err);
      } else acked++;
    };
    // Bounded in count and time: stops at the count, or at 2× the planned time whatever happened.
    const paced = await new Promise<{ sent: number; elapsedMs: number; maxLag: number }>((resolve) => {
      let sent = 0;
      let maxLag = 0;
      const start = performance.now();
      const tick = (): void => {
        const now = performance.now();
        const due = Math.min(total, Math.floor(((now - start) * rate) / 1000));
        if (due > sent) maxLag = Math.max(maxLag, now - (start + (sent * 1000) / rate));
        while (sent < due) this.pub.publish(TOPIC, payload(id, sent++), { qos: 1 }, onAck);
        if (sent >= total || now - start > 2 * durationMs) {
          clearInterval(timer);
          resolve({ sent, elapsedMs: now - start, maxLag });
        }
      };
      const timer = setInterval(tick, 1);
    });
    const deadline = performance.now() + drainMs;
    while ((st.received < paced.sent || acked + errors < paced.sent) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    this.st = null;
    const lat: number[] = [];
    for (let i = 0; i < paced.sent; i++) if (st.seen[i]) lat.push(st.lat[i]!);
    const q = (p: number): number => (lat.length > 0 ? percentile(lat, p) : Number.NaN);
    let max = Number.NaN;
    for (const x of lat) if (!(x <= max)) max = x;
    return {
      sent: paced.sent,
      acked,
      received: st.received,
      duplicates: st.duplicates,
      p50: q(0.5),
      p99: q(0.99),
      p999: q(0.999),
      max,
      sendRate: paced.sent / (paced.elapsedMs / 1000),
      maxTimerLagMs: paced.maxLag,
      errors,
    };
  }

  async close(): Promise<void> {
    await closeAll([this.pub, this.sub].filter((c) => c));
  }
}

async function run(input: LatencyInput): Promise<LatencyOutput> {
  let firstError: string | null = null;
  const noteError = (e: unknown): void => {
    firstError ??= errText(e);
  };
  const rigs: Rig[] = [];
  try {
    for (const b of input.brokers) {
      const rig = new Rig(b);
      rigs.push(rig);
      await rig.open();
    }
    let nextId = 1;
    const runs: Partial<Record<BrokerName, LatencyRun[]>> = {};
    const fns = rigs.map((rig) => async (r: number): Promise<LatencyRun> => {
      const res = await rig.measure(nextId++, input.rate, r === WARMUP ? input.warmupMs : input.durationMs, input.drainMs, noteError);
      log(
        `   ${runLabel(r).padEnd(7)} ${rig.broker.name.padEnd(9)} sent ${res.sent} at ${res.sendRate.toFixed(0)}/s, received ${res.received}${res.duplicates ? ` (+${res.duplicates} dup)` : ''}: ` +
          `p50 ${res.p50.toFixed(3)} p99 ${res.p99.toFixed(3)} p99.9 ${res.p999.toFixed(3)} max ${res.max.toFixed(1)} ms; timer lag ≤ ${res.maxTimerLagMs.toFixed(1)} ms${res.errors ? `; ${res.errors} errors` : ''}`,
      );
      if (r !== WARMUP) (runs[rig.broker.name] ??= []).push(res);
      await new Promise((res2) => setTimeout(res2, 100));
      return res;
    });
    await alternate(input.runs, fns, { warmup: true });
    return { runs, firstError };
  } finally {
    await Promise.allSettled(rigs.map((r) => r.close()));
  }
}

await childMain(run);
