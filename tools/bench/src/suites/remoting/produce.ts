/**
 * Producer throughput over the remoting protocol, ASYNC_FLUSH, against the echo ceiling at the
 * same body size and window: sync sends (1 in flight), pipelined sends (1,000 in flight) and
 * batches of 32 (32 batches in flight). Three processes: the Apogee server, the echo server and
 * the load generator (produce-child.ts).
 */
import { fileURLToPath } from 'node:url';
import { runChild } from '../../child.js';
import { median } from '../../stats.js';
import type { BenchContext, Scenario } from '../../suite.js';
import { clientNodeFlags, KiB, pick, runsFor } from './common.js';
import { withMeasuredServers } from './memory-rows.js';
import type { ProduceInput, ProduceOutput, ProduceVariant } from './produce-child.js';
import type { ClientKind } from './senders.js';

const CHILD = fileURLToPath(new URL('./produce-child.ts', import.meta.url));
const PIPELINE = 1000;
const BATCH = 32;
/** Batches in flight: about as many messages in flight as the pipelined sends. */
const BATCH_WINDOW = 32;
export const TARGET_RATIO = 0.5;

/** `APOGEE_BENCH_CLIENT=raw` forces the raw RemotingClient sender (default: the SDK Producer). */
export function clientPreference(): ClientKind {
  return process.env['APOGEE_BENCH_CLIENT'] === 'raw' ? 'raw' : 'sdk';
}

function variants(): ProduceVariant[] {
  const v: ProduceVariant[] = [];
  for (const [kind, window, batch] of [
    ['async', PIPELINE, 1],
    ['sync', 1, 1],
    ['batch', BATCH_WINDOW, BATCH],
  ] as const) {
    v.push({ name: `echo-${kind}`, target: 'echo', window, batch });
    v.push({ name: `apogee-${kind}`, target: 'apogee', window, batch });
  }
  return v;
}

function produceScenario(bodySize: number, label: string): Scenario {
  const scenario = `produce-${label}`;
  return {
    name: scenario,
    description: `SDK Producer, ${bodySize} B bodies, ASYNC_FLUSH: sync, ${PIPELINE} in flight, batches of ${BATCH}; vs a RemotingServer echo at the same window`,
    async run(ctx: BenchContext): Promise<void> {
      const topic = `BenchRemoting${label}`;
      const out = await withMeasuredServers(ctx, scenario, 'async', { echo: true }, async (apogee, echo) => {
        await apogee.createTopic(topic);
        const input: ProduceInput = {
          topic,
          bodySize,
          apogeeNameServer: apogee.namesrvAddr,
          echoNameServer: echo!.addr,
          runs: runsFor(ctx),
          variants: variants(),
          maxMessages: pick(ctx, 300_000, 2_000_000),
          durationMs: pick(ctx, 500, 2000),
          warmupMs: pick(ctx, 300, 1000),
          client: clientPreference(),
        };
        return runChild<ProduceOutput>({ module: CHILD, input, nodeFlags: clientNodeFlags(), timeoutMs: pick(ctx, 60_000, 300_000) });
      });

      const s = out.samples;
      const how = out.client.apogee === 'sdk' ? 'Producer' : 'raw SEND_MESSAGE_V2';
      const ceiling = (kind: string, window: number, batch: number) => ({
        name: `echo${batch > 1 ? ` of ${batch}×${bodySize} B` : ''}, ${window} in flight`,
        samples: s[`echo-${kind}`]!,
      });
      ctx.report.add({
        scenario,
        metric: `ceiling: ${how} against the RemotingServer echo, ${PIPELINE} in flight`,
        unit: 'msg/s',
        better: 'higher',
        samples: s['echo-async']!,
        baseline: null,
      });
      ctx.report.add({
        scenario,
        metric: `sync ${how === 'Producer' ? 'send' : how}, 1 in flight`,
        unit: 'msg/s',
        better: 'higher',
        samples: s['apogee-sync']!,
        baseline: ceiling('sync', 1, 1),
      });
      ctx.report.add({
        scenario,
        metric: `pipelined ${how === 'Producer' ? 'send' : how}, ${PIPELINE} in flight`,
        unit: 'msg/s',
        better: 'higher',
        samples: s['apogee-async']!,
        baseline: ceiling('async', PIPELINE, 1),
        target: { on: 'ratio', op: '>=', value: TARGET_RATIO },
      });
      ctx.report.add({
        scenario,
        metric: `${how === 'Producer' ? 'sendBatch' : 'SEND_BATCH_MESSAGE'} of ${BATCH}, ${BATCH_WINDOW} batches in flight`,
        unit: 'msg/s',
        better: 'higher',
        samples: s['apogee-batch']!,
        baseline: ceiling('batch', BATCH_WINDOW, BATCH),
      });
      const mb = (name: string): string => ((median(s[name]!) * bodySize) / 1e6).toFixed(1);
      ctx.report.note(
        `${scenario}: body MB/s (median) — pipelined ${mb('apogee-async')} (echo ${mb('echo-async')}), batch ${mb('apogee-batch')} (echo ${mb('echo-batch')}), sync ${mb('apogee-sync')} (echo ${mb('echo-sync')})`,
      );
      if (out.client.apogee === 'raw') {
        ctx.report.note(
          `${scenario}: the SDK Producer did not work, raw RemotingClient.invoke used on both sides: ${out.fallbackReasons.join('; ') || 'forced by APOGEE_BENCH_CLIENT=raw'}`,
        );
      }
    },
  };
}

export const produce128 = produceScenario(128, '128b');
export const produce1k = produceScenario(KiB, '1k');
