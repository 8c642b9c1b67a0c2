/**
 * Load generator of `produce-signed`: two SDK Producers on one Apogee server, one unsigned
 * (anonymous) and one signing every request with RocketMQ ACL 1.0, pipelined sends alternated
 * run by run; returns the msgs/s of every run of each.
 */
import { Producer } from '@apogee/client';
import { childMain } from '../../child.js';
import { alternate, pump, runLabel, WARMUP } from '../../runner.js';

export interface SignedInput {
  nameServer: string;
  topic: string;
  bodySize: number;
  accessKey: string;
  secretKey: string;
  window: number;
  runs: number;
  maxMessages: number;
  durationMs: number;
  warmupMs: number;
}

export interface SignedOutput {
  unsigned: number[];
  signed: number[];
}

function log(message: string): void {
  process.stderr.write(message + '\n');
}

async function run(input: SignedInput): Promise<SignedOutput> {
  const body = Buffer.alloc(input.bodySize, 0x61);
  const base = { nameServer: input.nameServer, sendTimeoutMs: 10_000, requestTimeoutMs: 10_000, retryTimes: 0 };
  const unsigned = new Producer({ ...base, group: 'bench_unsigned' });
  const signed = new Producer({ ...base, group: 'bench_signed', accessKey: input.accessKey, secretKey: input.secretKey });
  for (const p of [unsigned, signed]) {
    p.on('error', () => {});
    await p.start();
  }
  try {
    const variant = (p: Producer, name: string) => async (r: number) => {
      const res = await pump({
        window: input.window,
        maxOps: input.maxMessages,
        durationMs: r === WARMUP ? input.warmupMs : input.durationMs,
        op: async () => {
          const s = await p.send({ topic: input.topic, body });
          if (s.status !== 'SEND_OK') throw new Error(`send: ${s.status}`);
        },
      });
      const rate = res.ops / (res.elapsedMs / 1000);
      log(
        `   ${runLabel(r)} ${name.padEnd(8)} ${String(res.ops).padStart(8)} msgs in ${res.elapsedMs.toFixed(0).padStart(5)} ms = ${rate.toFixed(0).padStart(7)} msg/s`,
      );
      return rate;
    };
    const [u, s] = await alternate(input.runs, [variant(unsigned, 'unsigned'), variant(signed, 'signed')], { warmup: true });
    return { unsigned: u!, signed: s! };
  } finally {
    await unsigned.shutdown();
    await signed.shutdown();
  }
}

await childMain(run);
