/**
 * Scenario e: a million LMQs (100,000 with --quick). Each run is a fresh child process with
 * --expose-gc, so resident memory before/after is measured after gc and belongs to that store alone.
 */
import { fileURLToPath } from 'node:url';
import { runChild } from '../../child.js';
import { median } from '../../stats.js';
import type { BenchContext, Scenario } from '../../suite.js';
import { MiB, pick } from './common.js';
import type { MillionInput, MillionOutput } from './lmq-million-child.js';

const CHILD = fileURLToPath(new URL('./lmq-million-child.ts', import.meta.url));
const PER_MESSAGE = 100;
const SAMPLE = 10_000;

export const lmqMillion: Scenario = {
  name: 'lmq-million',
  description: `messages × ${PER_MESSAGE} distinct LMQs each: resident memory added, time to create, ${SAMPLE.toLocaleString('en-US')} random reads`,
  async run(ctx: BenchContext): Promise<void> {
    const messages = pick(ctx, 1_000, 10_000);
    const lmqs = messages * PER_MESSAGE;
    const outs: MillionOutput[] = [];
    // Three runs even in full: each is a fresh child process building up to a million LMQs.
    for (let run = 0; run < 3; run++) {
      const out = await ctx.tmp.with('lmq-million', (dataDir) =>
        runChild<MillionOutput>({
          module: CHILD,
          input: { dataDir, messages, perMessage: PER_MESSAGE, sample: SAMPLE, seed: 1000 + run } satisfies MillionInput,
          nodeFlags: ['--expose-gc'],
          timeoutMs: pick(ctx, 60_000, 300_000),
        }),
      );
      const missed = Object.values(out.misses).reduce((a, b) => a + b, 0);
      ctx.log(
        `   run ${run + 1}: ${out.lmqs} LMQs created in ${(out.createMs / 1000).toFixed(2)} s; RSS ${(out.rssBefore / MiB).toFixed(0)} → ${(out.rssAfter / MiB).toFixed(0)} MiB ` +
          `(peak ${(out.peakRss / MiB).toFixed(0)} MiB, heap +${(out.heapAddedBytes / MiB).toFixed(0)} MiB); sample ${out.sampleMs.toFixed(0)} ms; ` +
          `close ${out.closeMs.toFixed(0)} ms; reopen ${out.reopenMs.toFixed(0)} ms; sample after reopen ${out.sampleAfterReopenMs.toFixed(0)} ms` +
          (missed > 0 ? `; ${missed} sampled reads not FOUND: ${JSON.stringify(out.misses)}` : ''),
      );
      if (missed > 0) throw new Error(`${missed} of ${2 * SAMPLE} sampled LMQ reads did not return their one message: ${JSON.stringify(out.misses)}`);
      outs.push(out);
    }

    const label = `${(lmqs / 1e6).toLocaleString('en-US')}M LMQs`;
    const rssAdded = outs.map((o) => (o.rssAfter - o.rssBefore) / MiB);
    const add = (metric: string, unit: string, samples: number[]): void => {
      ctx.report.add({ scenario: 'lmq-million', metric, unit, better: 'lower', samples, baseline: null });
    };
    add(`RSS added by ${label}${outs[0]!.gc ? ' (after gc)' : ''}`, 'MiB', rssAdded);
    add(
      `of which RssAnon (heap, buffers, malloc)`,
      'MiB',
      outs.map((o) => (o.anonAfter - o.anonBefore) / MiB),
    );
    add(
      `of which RssFile (LMDB's map, code)`,
      'MiB',
      outs.map((o) => (o.fileAfter - o.fileBefore) / MiB),
    );
    add(
      `create ${label} (${messages.toLocaleString('en-US')} msgs × ${PER_MESSAGE})`,
      's',
      outs.map((o) => o.createMs / 1000),
    );
    add(
      `get() 1 msg from ${SAMPLE.toLocaleString('en-US')} random LMQs`,
      'ms',
      outs.map((o) => o.sampleMs),
    );
    add(
      `close with ${label}`,
      'ms',
      outs.map((o) => o.closeMs),
    );
    add(
      `reopen with ${label}`,
      'ms',
      outs.map((o) => o.reopenMs),
    );
    add(
      `get() ${SAMPLE.toLocaleString('en-US')} random LMQs after reopen`,
      'ms',
      outs.map((o) => o.sampleAfterReopenMs),
    );
    ctx.report.note(
      `lmq-million: ${Math.round((median(rssAdded) * MiB) / lmqs)} B of RSS per LMQ (median); peak RSS ${(median(outs.map((o) => o.peakRss)) / MiB).toFixed(0)} MiB`,
    );
  },
};
