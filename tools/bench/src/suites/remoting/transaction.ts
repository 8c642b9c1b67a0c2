/**
 * `produce-transaction`: transactional sends of the SDK's TransactionProducer — a half message,
 * a local transaction that commits at once, a oneway END_TRANSACTION that puts the real message
 * and its op record — as a ratio of plain pipelined sends to the same server in the same run.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from '../../child.js';
import type { BenchContext, Scenario } from '../../suite.js';
import { ApogeeServer, clientNodeFlags, pick } from './common.js';
import type { TransactionInput, TransactionOutput } from './transaction-child.js';

const CHILD = fileURLToPath(new URL('./transaction-child.ts', import.meta.url));
const WINDOW = 1000;
const BODY = 128;
export const TRANSACTION_TARGET_RATIO = 0.5;

export const produceTransaction: Scenario = {
  name: 'produce-transaction',
  description: `TransactionProducer, ${BODY} B bodies, ${WINDOW} in flight: half message + commit vs plain sends on one server`,
  async run(ctx: BenchContext): Promise<void> {
    const out = await ctx.tmp.with('server-transaction', async (dir) => {
      const apogee = await ApogeeServer.start(path.join(dir, 'data'), 'async');
      try {
        const topic = 'BenchTransaction';
        await apogee.createTopic(topic);
        const input: TransactionInput = {
          nameServer: apogee.namesrvAddr,
          topic,
          bodySize: BODY,
          window: WINDOW,
          runs: pick(ctx, 5, 7),
          maxMessages: pick(ctx, 300_000, 2_000_000),
          durationMs: pick(ctx, 700, 2000),
          warmupMs: pick(ctx, 1500, 3000),
        };
        return await runChild<TransactionOutput>({ module: CHILD, input, nodeFlags: clientNodeFlags(), timeoutMs: pick(ctx, 60_000, 300_000) });
      } finally {
        await apogee.stop();
      }
    });
    ctx.report.add({
      scenario: 'produce-transaction',
      metric: `transactional send (half + local commit + END_TRANSACTION), ${WINDOW} in flight`,
      unit: 'msg/s',
      better: 'higher',
      samples: out.transactional,
      baseline: { name: `plain send to the same server, ${WINDOW} in flight`, samples: out.plain },
      target: { on: 'ratio', op: '>=', value: TRANSACTION_TARGET_RATIO },
    });
    if (out.open > 0) ctx.report.note(`produce-transaction: ${out.open} transactions were still open after the runs`);
  },
};
