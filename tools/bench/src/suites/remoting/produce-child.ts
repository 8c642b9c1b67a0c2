/**
 * Load generator of the producer scenarios, in its own process (the server under test and the
 * echo ceiling are two other processes; this one is the client side). It opens one Sender on the
 * echo server and one on Apogee, then runs every variant round-robin (echo A, Apogee A, echo B,
 * Apogee B, …) after one discarded warm-up round, and returns the msgs/s of every run.
 */
import { childMain } from '../../child.js';
import { alternate, pump, runLabel, WARMUP } from '../../runner.js';
import { openSender, type ClientKind, type Sender } from './senders.js';

export interface ProduceVariant {
  /** Key of its samples in the output. */
  name: string;
  target: 'echo' | 'apogee';
  /** Requests in flight. */
  window: number;
  /** Messages per request: 1 = send, > 1 = sendBatch. */
  batch: number;
}

export interface ProduceInput {
  topic: string;
  bodySize: number;
  apogeeNameServer: string;
  echoNameServer: string;
  runs: number;
  variants: ProduceVariant[];
  /** Per run: stop after this many messages... */
  maxMessages: number;
  /** ...or this much time. */
  durationMs: number;
  warmupMs: number;
  client: ClientKind;
}

export interface ProduceOutput {
  /** msgs/s per run, by variant name. */
  samples: Record<string, number[]>;
  client: Record<'echo' | 'apogee', ClientKind>;
  fallbackReasons: string[];
  totalMessages: Record<string, number>;
}

function log(message: string): void {
  process.stderr.write(message + '\n');
}

async function run(input: ProduceInput): Promise<ProduceOutput> {
  const body = Buffer.alloc(input.bodySize, 0x61);
  const fallbackReasons: string[] = [];
  const open = (ns: string, what: string): Promise<Sender> =>
    openSender(ns, input.topic, input.client, (reason) => {
      fallbackReasons.push(`${what}: ${reason}`);
      log(`   SDK Producer failed against ${what} (${reason}); falling back to raw RemotingClient.invoke`);
    });
  let echo = await open(input.echoNameServer, 'echo');
  let apogee = await open(input.apogeeNameServer, 'apogee');
  // One client path for both sides: if either fell back, both use raw sends.
  if (echo.kind !== apogee.kind) {
    if (echo.kind === 'sdk') {
      await echo.close();
      echo = await openSender(input.echoNameServer, input.topic, 'raw', () => {});
    } else {
      await apogee.close();
      apogee = await openSender(input.apogeeNameServer, input.topic, 'raw', () => {});
    }
  }
  const totals: Record<string, number> = {};
  try {
    const fns = input.variants.map((v) => async (r: number): Promise<number> => {
      const sender = v.target === 'echo' ? echo : apogee;
      const bodies = Array.from({ length: v.batch }, () => body);
      const res = await pump({
        window: v.window,
        maxOps: Math.ceil(input.maxMessages / v.batch),
        durationMs: r === WARMUP ? input.warmupMs : input.durationMs,
        op: v.batch === 1 ? () => sender.send(body) : () => sender.sendBatch(bodies),
      });
      const msgs = res.ops * v.batch;
      const rate = msgs / (res.elapsedMs / 1000);
      if (r !== WARMUP) totals[v.name] = (totals[v.name] ?? 0) + msgs;
      log(
        `   ${runLabel(r)} ${v.name.padEnd(14)} ${String(msgs).padStart(8)} msgs in ${res.elapsedMs.toFixed(0).padStart(5)} ms = ${rate.toFixed(0).padStart(7)} msg/s`,
      );
      return rate;
    });
    const results = await alternate(input.runs, fns, { warmup: true });
    const samples: Record<string, number[]> = {};
    input.variants.forEach((v, i) => (samples[v.name] = results[i]!));
    return { samples, client: { echo: echo.kind, apogee: apogee.kind }, fallbackReasons, totalMessages: totals };
  } finally {
    await Promise.allSettled([echo.close(), apogee.close()]);
  }
}

await childMain(run);
