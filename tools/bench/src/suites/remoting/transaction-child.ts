/**
 * Load generator of `produce-transaction`: a plain Producer and a TransactionProducer whose local
 * transaction commits at once, on one Apogee server, pipelined sends alternated run by run;
 * returns the msgs/s of every run of each, and how many transactions were still open at the end
 * (every one should have been committed).
 */
import { Admin, Producer, TransactionProducer } from '@apogee/client';
import { childMain } from '../../child.js';
import { alternate, pump, runLabel, WARMUP } from '../../runner.js';

export interface TransactionInput {
  nameServer: string;
  topic: string;
  bodySize: number;
  window: number;
  runs: number;
  maxMessages: number;
  durationMs: number;
  warmupMs: number;
}

export interface TransactionOutput {
  plain: number[];
  transactional: number[];
  /** Transactions the broker still listed as open 2 s after the last run. */
  open: number;
}

function log(message: string): void {
  process.stderr.write(message + '\n');
}

async function run(input: TransactionInput): Promise<TransactionOutput> {
  const body = Buffer.alloc(input.bodySize, 0x61);
  const base = { nameServer: input.nameServer, sendTimeoutMs: 10_000, requestTimeoutMs: 10_000, retryTimes: 0 };
  const plain = new Producer({ ...base, group: 'bench_plain' });
  const tx = new TransactionProducer({
    ...base,
    group: 'bench_tx',
    listener: { executeLocalTransaction: () => 'COMMIT', checkLocalTransaction: () => 'COMMIT' },
  });
  for (const p of [plain, tx]) {
    p.on('error', () => {});
    await p.start();
  }
  const admin = new Admin({ nameServer: input.nameServer });
  try {
    const measure = (name: string, op: () => Promise<void>) => async (r: number) => {
      const res = await pump({ window: input.window, maxOps: input.maxMessages, durationMs: r === WARMUP ? input.warmupMs : input.durationMs, op });
      const rate = res.ops / (res.elapsedMs / 1000);
      log(
        `   ${runLabel(r)} ${name.padEnd(13)} ${String(res.ops).padStart(8)} msgs in ${res.elapsedMs.toFixed(0).padStart(5)} ms = ${rate.toFixed(0).padStart(7)} msg/s`,
      );
      return rate;
    };
    const [p, t] = await alternate(
      input.runs,
      [
        measure('plain', async () => {
          const s = await plain.send({ topic: input.topic, body });
          if (s.status !== 'SEND_OK') throw new Error(`send: ${s.status}`);
        }),
        measure('transactional', async () => {
          const s = await tx.sendMessageInTransaction({ topic: input.topic, body }, undefined);
          if (s.status !== 'SEND_OK' || s.localTransactionState !== 'COMMIT') throw new Error(`transactional send: ${s.status} ${s.localTransactionState}`);
        }),
      ],
      { warmup: true },
    );
    await new Promise((r) => setTimeout(r, 2000));
    const open = (await admin.openTransactions({ max: 10_000 })).length;
    return { plain: p!, transactional: t!, open };
  } finally {
    await admin.shutdown();
    await plain.shutdown();
    await tx.shutdown();
  }
}

await childMain(run);
