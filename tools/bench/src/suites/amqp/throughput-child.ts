/**
 * Load generator of the amqp throughput scenarios, in its own process: one sender connection and
 * `receivers` receiver connections on one queue (competing), per broker, runs alternating between
 * the brokers after one discarded warm-up round. At least once: the sender keeps `window`
 * unsettled deliveries and the receivers accept each message. At most once: pre-settled both
 * ways, the sender sending whenever it has credit. Bounded in count and time.
 */
import type * as RheaTypes from 'rhea';
import { childMain } from '../../child.js';
import { alternate, runLabel, WARMUP } from '../../runner.js';
import type { BrokerName, BrokerRef } from './brokers.js';
import { closeAll, connect, encoded, errText, installLightDecode, log, opened } from './wire.js';

export interface ThroughputInput {
  brokers: BrokerRef[];
  tag: string;
  settled: boolean;
  receivers: number;
  window: number;
  runs: number;
  maxMessages: number;
  durationMs: number;
  warmupMs: number;
  drainMs: number;
}

export interface ThroughputRun {
  sent: number;
  delivered: number;
  elapsedMs: number;
  /** Delivered per receiver (competing receivers share the load). */
  perReceiver: number[];
}

export interface ThroughputOutput {
  samples: Partial<Record<BrokerName, number[]>>;
  runs: Partial<Record<BrokerName, ThroughputRun[]>>;
  errors: string[];
}

async function measure(b: BrokerRef, input: ThroughputInput, queue: string, durationMs: number): Promise<ThroughputRun> {
  const address = b.queuePrefix + queue;
  const conns: RheaTypes.Connection[] = [];
  try {
    const perReceiver: number[] = [];
    let delivered = 0;
    let lastDelivery = 0;
    for (let i = 0; i < input.receivers; i++) {
      const c = await connect(b);
      conns.push(c);
      const r = c.open_receiver({ source: { address }, credit_window: 1000, autoaccept: true, ...(input.settled ? { snd_settle_mode: 1 } : {}) });
      perReceiver.push(0);
      r.on('message', () => {
        perReceiver[i]!++;
        delivered++;
        lastDelivery = performance.now();
      });
      await opened(r, 'receiver');
    }
    const sc = await connect(b);
    conns.push(sc);
    const s = sc.open_sender({ target: { address }, ...(input.settled ? { snd_settle_mode: 1 } : {}) });
    await opened(s, 'sender');
    let sent = 0;
    let settled = 0;
    const start = performance.now();
    const deadline = start + durationMs;
    await new Promise<void>((resolve) => {
      const push = (): void => {
        const now = performance.now();
        if (sent >= input.maxMessages || now > deadline) return resolve();
        while (s.sendable() && sent < input.maxMessages && (input.settled || sent - settled < input.window)) s.send(encoded(0, sent++), undefined, 0);
        if (input.settled) setImmediate(push);
      };
      s.on('sendable', push);
      s.on('accepted', () => {
        settled++;
        push();
      });
      s.on('rejected', (ctx: RheaTypes.EventContext) => {
        settled++;
        log(`   ${b.name}: rejected ${JSON.stringify(ctx.delivery?.remote_state)}`);
        push();
      });
      // A stalled run still ends at its deadline.
      const guard = setInterval(() => {
        if (performance.now() > deadline) {
          clearInterval(guard);
          resolve();
        }
      }, 50);
      push();
    });
    const drainDeadline = performance.now() + input.drainMs;
    while (delivered < sent && performance.now() < drainDeadline) await new Promise((r) => setTimeout(r, 2));
    // From the first send to the last delivery.
    return { sent, delivered, elapsedMs: Math.max(1, lastDelivery - start), perReceiver };
  } finally {
    closeAll(conns);
  }
}

installLightDecode();

childMain<ThroughputInput, ThroughputOutput>(async (input) => {
  const out: ThroughputOutput = { samples: {}, runs: {}, errors: [] };
  const variants = input.brokers.map((b) => async (run: number) => {
    const queue = `bench-${input.tag}-${process.pid}-${run === WARMUP ? 'w' : run}`;
    try {
      const r = await measure(b, input, queue, run === WARMUP ? input.warmupMs : input.durationMs);
      log(
        `   ${b.name} ${runLabel(run)}: ${r.delivered.toLocaleString('en-US')}/${r.sent.toLocaleString('en-US')} delivered in ${(r.elapsedMs / 1000).toFixed(2)} s`,
      );
      return r;
    } catch (err) {
      out.errors.push(`${b.name}: ${errText(err)}`);
      return null;
    }
  });
  const results = await alternate(input.runs, variants, { warmup: true });
  input.brokers.forEach((b, i) => {
    const runs = results[i]!.filter((r): r is ThroughputRun => r !== null);
    out.runs[b.name] = runs;
    out.samples[b.name] = runs.map((r) => r.delivered / (r.elapsedMs / 1000));
  });
  return out;
});
