/**
 * Resident memory a broker adds per idle connection and per subscription (VmRSS of the broker
 * process, /proc/<pid>/status), Apogee against plain aedes and mosquitto; the load generator is
 * memory-child.ts.
 */
import { fileURLToPath } from 'node:url';
import { runChild } from '../../child.js';
import { median } from '../../stats.js';
import type { BenchContext, Scenario } from '../../suite.js';
import { clientNodeFlags } from '../remoting/common.js';
import { withMeasuredBrokers } from './memory-rows.js';
import { addPeerRows, pick, runsFor } from './common.js';
import type { MemoryInput, MemoryOutput, MemoryRun } from './memory-child.js';

const CHILD = fileURLToPath(new URL('./memory-child.ts', import.meta.url));

export const memory: Scenario = {
  name: 'memory',
  description: 'broker RSS per idle connection and per subscription (VmRSS delta / count)',
  async run(ctx: BenchContext): Promise<void> {
    const input0: Omit<MemoryInput, 'brokers'> = {
      runs: runsFor(ctx),
      connections: 1000,
      subscriptions: pick(ctx, 5000, 10_000),
      subscribeBatch: 100,
      settleMs: pick(ctx, 150, 1000),
      parallel: 100,
    };
    const { out, mosquittoMissing } = await withMeasuredBrokers(ctx, 'memory', async (brokers) => {
      const out = await runChild<MemoryOutput>({
        module: CHILD,
        input: { ...input0, brokers: brokers.all },
        nodeFlags: clientNodeFlags(),
        timeoutMs: pick(ctx, 60_000, 240_000),
      });
      return { out, mosquittoMissing: brokers.mosquittoMissing };
    });
    const samples = (f: (r: MemoryRun) => number): Partial<Record<'apogee' | 'aedes' | 'mosquitto', number[]>> => {
      const o: Partial<Record<'apogee' | 'aedes' | 'mosquitto', number[]>> = {};
      for (const [name, runs] of Object.entries(out.runs)) if (runs) o[name as 'apogee'] = runs.map(f);
      return o;
    };
    addPeerRows(
      ctx,
      { mosquittoMissing },
      {
        scenario: 'memory',
        metric: `RSS per idle connection (${input0.connections.toLocaleString('en-US')} per run, cumulative)`,
        unit: 'KiB',
        better: 'lower',
        samples: samples((r) => r.perConnection / 1024),
      },
    );
    addPeerRows(
      ctx,
      { mosquittoMissing },
      {
        scenario: 'memory',
        metric: `RSS per subscription (1 connection × ${input0.subscriptions.toLocaleString('en-US')} topics per run, cumulative)`,
        unit: 'B',
        better: 'lower',
        samples: samples((r) => r.perSubscription),
      },
    );
    const parts: string[] = [];
    for (const [name, runs] of Object.entries(out.runs)) {
      if (!runs) continue;
      parts.push(
        `${name} RSS ${(runs[0]!.rssBefore / 1048576).toFixed(0)} → ${(runs[runs.length - 1]!.rssAfter / 1048576).toFixed(0)} MiB, subscribe ${median(runs.map((r) => r.subscribeMs)).toFixed(0)} ms per ${input0.subscriptions.toLocaleString('en-US')}`,
      );
    }
    ctx.report.note(
      `memory: ${parts.join('; ')}. RSS of a garbage-collected broker (Apogee, aedes) includes garbage not yet collected; no GC is forced in the broker`,
    );
  },
};
