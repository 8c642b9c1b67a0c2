/**
 * The `timer` suite: a million pending timer messages (100,000 with --quick) in an in-process
 * engine — resident memory they add, how fast they are scheduled next to plain sends, and how
 * late they fire at a steady 10,000/s against the configured precision.
 */
import { fileURLToPath } from 'node:url';
import { runChild } from '../../child.js';
import { MiB } from '../../proc-memory.js';
import { percentile } from '../../stats.js';
import type { BenchContext, Scenario, Suite } from '../../suite.js';
import type { PendingInput, PendingOutput } from './pending-child.js';

const CHILD = fileURLToPath(new URL('./pending-child.ts', import.meta.url));
const FIRE_RATE = 10_000;
const PRECISION_MS = 1000;

/** Runs per figure: the median of 3, each in a fresh process on a fresh store (BENCHMARKS.md). */
const RUNS = 3;

const pending: Scenario = {
  name: 'timer-pending',
  description: `pending timers: RSS added, schedule rate vs plain sends, lateness at ${FIRE_RATE.toLocaleString('en-US')}/s firing`,
  async run(ctx: BenchContext): Promise<void> {
    const timers = ctx.quick ? 100_000 : 1_000_000;
    const outs: PendingOutput[] = [];
    for (let r = 0; r < RUNS; r++) {
      ctx.log(`   run ${r + 1}/${RUNS}: ${timers.toLocaleString('en-US')} timers`);
      outs.push(
        await ctx.tmp.with(`timer-pending-${r}`, (dataDir) =>
          runChild<PendingOutput>({
            module: CHILD,
            input: { dataDir, timers, plainSends: ctx.quick ? 50_000 : 200_000, fireRate: FIRE_RATE, precisionMs: PRECISION_MS } satisfies PendingInput,
            nodeFlags: ['--expose-gc'],
            timeoutMs: ctx.quick ? 180_000 : 900_000,
          }),
        ),
      );
    }
    const label = `${timers.toLocaleString('en-US')} timers`;
    const add = (metric: string, unit: string, value: (o: PendingOutput) => number, better: 'higher' | 'lower'): void => {
      ctx.report.add({ scenario: 'timer-pending', metric, unit, better, samples: outs.map(value), baseline: null });
    };
    add(`RSS added by ${label} pending (after gc)`, 'MiB', (o) => (o.rssAfter - o.rssBefore) / MiB, 'lower');
    add('of which RssAnon (heap, buffers, malloc)', 'MiB', (o) => (o.anonAfter - o.anonBefore) / MiB, 'lower');
    add("of which RssFile (LMDB's map, commit log)", 'MiB', (o) => (o.fileAfter - o.fileBefore) / MiB, 'lower');
    add('plain send rate (in-process engine)', 'msgs/s', (o) => o.plainRate, 'higher');
    add(`schedule rate (${label})`, 'msgs/s', (o) => o.scheduleRate, 'higher');
    add('schedule rate / plain send rate', 'ratio', (o) => o.scheduleRate / o.plainRate, 'higher');
    add('indexing left after the last send', 'ms', (o) => o.indexMs, 'lower');
    add(`lateness p50 at ${FIRE_RATE.toLocaleString('en-US')}/s`, 'ms', (o) => percentile(o.lateness, 0.5), 'lower');
    add(`lateness p99 at ${FIRE_RATE.toLocaleString('en-US')}/s`, 'ms', (o) => percentile(o.lateness, 0.99), 'lower');
    add(`lateness p99 / precision (${PRECISION_MS} ms)`, 'ratio', (o) => percentile(o.lateness, 0.99) / PRECISION_MS, 'lower');
    add('achieved firing rate', 'msgs/s', (o) => o.fired / o.fireSeconds, 'higher');
    for (const [i, o] of outs.entries()) {
      // reduce, not Math.min(...): a million arguments overflow the stack.
      const min = o.lateness.reduce((a, b) => Math.min(a, b), Infinity);
      const max = o.lateness.reduce((a, b) => Math.max(a, b), -Infinity);
      ctx.report.note(
        `timer-pending run ${i + 1}: ${o.fired} fired, min lateness ${min} ms (never early if ≥ 0), max ${max} ms; ` +
          `peak RSS ${(o.peakRss / MiB).toFixed(0)} MiB; load average at the end ${o.loadAvg.map((l) => l.toFixed(2)).join(' ')}`,
      );
    }
  },
};

const suite: Suite = {
  name: 'timer',
  description: 'a million pending timer messages: RSS added, schedule rate vs plain sends, lateness at 10,000/s firing vs the precision',
  scenarios: [pending],
};

export default suite;
