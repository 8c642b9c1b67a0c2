/**
 * `pull-sql92`: how fast a pull consumer walks a filled queue when an SQL92 filter (`k = 0`)
 * matches 10 % of its messages, as a ratio of the same walk without a filter (TAG `*`), on the
 * same server in the same run, alternated. The figure is queue entries walked per second (the
 * advance of the pull offset): the filtered walk reads and checks every record on the broker and
 * sends a tenth of them; the unfiltered one sends them all.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from '../../child.js';
import type { BenchContext, Scenario } from '../../suite.js';
import { ApogeeServer, clientNodeFlags, pick } from './common.js';
import type { Sql92PullInput, Sql92PullOutput } from './sql92-pull-child.js';

const CHILD = fileURLToPath(new URL('./sql92-pull-child.ts', import.meta.url));
const BODY = 256;

export const pullSql92: Scenario = {
  name: 'pull-sql92',
  description: `PullConsumer walking one filled queue (${BODY} B bodies, 32 per pull): SQL92 filter matching 10 % vs no filter`,
  async run(ctx: BenchContext): Promise<void> {
    const out = await ctx.tmp.with('server-sql92', async (dir) => {
      const apogee = await ApogeeServer.start(path.join(dir, 'data'), 'async');
      try {
        const topic = 'BenchSql92';
        await apogee.createTopic(topic);
        const input: Sql92PullInput = {
          nameServer: apogee.namesrvAddr,
          topic,
          bodySize: BODY,
          messages: pick(ctx, 50_000, 200_000),
          runs: pick(ctx, 3, 5),
        };
        return await runChild<Sql92PullOutput>({ module: CHILD, input, nodeFlags: clientNodeFlags(), timeoutMs: pick(ctx, 120_000, 600_000) });
      } finally {
        await apogee.stop();
      }
    });
    ctx.report.add({
      scenario: 'pull-sql92',
      metric: 'queue entries walked by pulls with the SQL92 filter `k = 0` (10 % match)',
      unit: 'entries/s',
      better: 'higher',
      samples: out.filtered,
      baseline: { name: 'the same walk without a filter', samples: out.unfiltered },
    });
    ctx.report.add({
      scenario: 'pull-sql92',
      metric: 'matching messages delivered per second with the SQL92 filter (10 % of the walk)',
      unit: 'msg/s',
      better: 'higher',
      samples: out.filteredDelivered,
    });
  },
};
