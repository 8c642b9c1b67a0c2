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

const pending: Scenario = {
  name: 'timer-pending',
  description: `pending timers: RSS added, schedule rate vs plain sends, lateness at ${FIRE_RATE.toLocaleString('en-US')}/s firing`,
  async run(ctx: BenchContext): Promise<void> {
    const timers = ctx.quick ? 100_000 : 1_000_000;
    const out = await ctx.tmp.with('timer-pending', (dataDir) =>
      runChild<PendingOutput>({
        module: CHILD,
        input: { dataDir, timers, plainSends: ctx.quick ? 50_000 : 200_000, fireRate: FIRE_RATE, precisionMs: PRECISION_MS } satisfies PendingInput,
        nodeFlags: ['--expose-gc'],
        timeoutMs: ctx.quick ? 180_000 : 900_000,
      }),
    );
    const label = `${timers.toLocaleString('en-US')} timers`;
    const p50 = percentile(out.lateness, 0.5);
    const p99 = percentile(out.lateness, 0.99);
    const add = (metric: string, unit: string, value: number, better: 'higher' | 'lower'): void => {
      ctx.report.add({ scenario: 'timer-pending', metric, unit, better, samples: [value], baseline: null });
    };
    add(`RSS added by ${label} pending (after gc)`, 'MiB', (out.rssAfter - out.rssBefore) / MiB, 'lower');
    add('of which RssAnon (heap, buffers, malloc)', 'MiB', (out.anonAfter - out.anonBefore) / MiB, 'lower');
    add("of which RssFile (LMDB's map, commit log)", 'MiB', (out.fileAfter - out.fileBefore) / MiB, 'lower');
    add('plain send rate (in-process engine)', 'msgs/s', out.plainRate, 'higher');
    add(`schedule rate (${label})`, 'msgs/s', out.scheduleRate, 'higher');
    add('schedule rate / plain send rate', 'ratio', out.scheduleRate / out.plainRate, 'higher');
    add('indexing left after the last send', 'ms', out.indexMs, 'lower');
    add(`lateness p50 at ${FIRE_RATE.toLocaleString('en-US')}/s`, 'ms', p50, 'lower');
    add(`lateness p99 at ${FIRE_RATE.toLocaleString('en-US')}/s`, 'ms', p99, 'lower');
    add(`lateness p99 / precision (${PRECISION_MS} ms)`, 'ratio', p99 / PRECISION_MS, 'lower');
    add('achieved firing rate', 'msgs/s', out.fired / out.fireSeconds, 'higher');
    ctx.report.note(
      `timer-pending: ${out.fired} fired, min lateness ${Math.min(...out.lateness)} ms (never early if ≥ 0), max ${Math.max(...out.lateness)} ms; ` +
        `peak RSS ${(out.peakRss / MiB).toFixed(0)} MiB; load average at the end ${out.loadAvg.map((l) => l.toFixed(2)).join(' ')}`,
    );
  },
};

const suite: Suite = {
  name: 'timer',
  description: 'a million pending timer messages: RSS added, schedule rate vs plain sends, lateness at 10,000/s firing vs the precision',
  scenarios: [pending],
};

export default suite;
