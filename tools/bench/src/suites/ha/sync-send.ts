/**
 * Sends with 2 in-sync copies against a single broker, in one run (docs/ha-design.md, decision 5).
 * Three server processes: a single broker (all-in-one), and a group of a master (all-in-one with
 * `--ha-port`, `--replication sync --min-in-sync-replicas 2`) and its replica (`--role broker
 * --ha-master`), all with the same flush mode. The load generators of the remoting suite run
 * against both targets alternately: producer throughput (pipelined and 1 in flight) and send →
 * ack latency at a fixed rate. On this 2-core machine the replica takes CPU from the master and
 * the client: the ratio includes that.
 */
import { fileURLToPath } from 'node:url';
import { runChild } from '../../child.js';
import { sleep } from '../../runner.js';
import { median } from '../../stats.js';
import type { BenchContext, Scenario } from '../../suite.js';
import { ApogeeServer, clientNodeFlags, freePort, pick, runsFor } from '../remoting/common.js';
import type { LatencyInput, LatencyOutput } from '../remoting/latency-child.js';
import type { ProduceInput, ProduceOutput } from '../remoting/produce-child.js';

const PRODUCE_CHILD = fileURLToPath(new URL('../remoting/produce-child.ts', import.meta.url));
const LATENCY_CHILD = fileURLToPath(new URL('../remoting/latency-child.ts', import.meta.url));
const BODY = 1024;
const PIPELINE = 1000;
const LATENCY_RATE = 5000;
export const TARGET_RATIO = 0.7;

/** Polls the master's admin API until its replica is in the in-sync set. */
async function untilInSync(master: ApogeeServer, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${master.httpPort}/api/v1/cluster`);
      const b = ((await res.json()) as { brokers: Array<{ replicas?: Array<{ inSync?: boolean }> }> }).brokers[0];
      if (b?.replicas?.some((r) => r.inSync === true)) return;
    } catch {
      // not up yet
    }
    if (performance.now() > deadline) throw new Error(`the replica did not get in sync within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export const syncSend: Scenario = {
  name: 'sync-send',
  description: `SDK Producer, ${BODY} B bodies, ASYNC_FLUSH: 2 in-sync copies (master + replica, --replication sync) vs one broker — pipelined (${PIPELINE} in flight), 1 in flight, send → ack at ${LATENCY_RATE}/s`,
  async run(ctx: BenchContext): Promise<void> {
    const topic = 'BenchHa';
    await ctx.tmp.with('ha-single', (singleDir) =>
      ctx.tmp.with('ha-master', (masterDir) =>
        ctx.tmp.with('ha-replica', async (replicaDir) => {
          const haPort = await freePort();
          const single = await ApogeeServer.start(singleDir, 'async');
          const servers: ApogeeServer[] = [single];
          try {
            const master = await ApogeeServer.start(masterDir, 'async', undefined, [
              '--ha-port',
              String(haPort),
              '--replication',
              'sync',
              '--min-in-sync-replicas',
              '2',
            ]);
            servers.push(master);
            const replica = await ApogeeServer.start(replicaDir, 'async', undefined, [
              '--role',
              'broker',
              '--namesrv',
              master.namesrvAddr,
              '--ha-master',
              `127.0.0.1:${haPort}`,
              '--broker-id',
              '1',
            ]);
            servers.push(replica);
            await Promise.all([single.createTopic(topic), master.createTopic(topic)]);
            await untilInSync(master, 30_000);
            ctx.log(`   single pid ${single.pid}; master pid ${master.pid}, replica pid ${replica.pid} (in sync)`);

            // Throughput: the produce child's "echo" side is the single broker here.
            const produce: ProduceInput = {
              topic,
              bodySize: BODY,
              apogeeNameServer: master.namesrvAddr,
              echoNameServer: single.namesrvAddr,
              runs: runsFor(ctx),
              variants: [
                { name: 'single-async', target: 'echo', window: PIPELINE, batch: 1 },
                { name: 'sync2-async', target: 'apogee', window: PIPELINE, batch: 1 },
                { name: 'single-sync', target: 'echo', window: 1, batch: 1 },
                { name: 'sync2-sync', target: 'apogee', window: 1, batch: 1 },
              ],
              maxMessages: pick(ctx, 200_000, 1_000_000),
              durationMs: pick(ctx, 800, 3000),
              warmupMs: pick(ctx, 300, 1000),
              client: 'sdk',
            };
            const out = await runChild<ProduceOutput>({
              module: PRODUCE_CHILD,
              input: produce,
              nodeFlags: clientNodeFlags(),
              timeoutMs: pick(ctx, 120_000, 600_000),
            });
            const s = out.samples;
            ctx.report.add({
              scenario: this.name,
              metric: `pipelined send, ${PIPELINE} in flight, 2 in-sync copies`,
              unit: 'msg/s',
              better: 'higher',
              samples: s['sync2-async']!,
              baseline: { name: 'one broker, same load', samples: s['single-async']! },
              target: { on: 'ratio', op: '>=', value: TARGET_RATIO },
            });
            ctx.report.add({
              scenario: this.name,
              metric: 'send, 1 in flight, 2 in-sync copies',
              unit: 'msg/s',
              better: 'higher',
              samples: s['sync2-sync']!,
              baseline: { name: 'one broker, same load', samples: s['single-sync']! },
            });

            // Latency: send → ack at a fixed rate, each target in turn (one at a time on 2 cores).
            const latency = async (nameServer: string): Promise<LatencyOutput> => {
              const input: LatencyInput = {
                topic,
                nameServer,
                rate: LATENCY_RATE,
                bodySize: BODY,
                runs: 3,
                durationMs: pick(ctx, 1000, 3000),
                warmupMs: pick(ctx, 300, 1000),
                drainMs: 3000,
                quietBursts: 0,
                mode: 'ack',
              };
              return runChild<LatencyOutput>({ module: LATENCY_CHILD, input, nodeFlags: clientNodeFlags(), timeoutMs: pick(ctx, 60_000, 180_000) });
            };
            const one = await latency(single.namesrvAddr);
            const two = await latency(master.namesrvAddr);
            for (const [label, pickFn] of [
              ['p50', (r: LatencyOutput['runs'][number]) => r.ackP50],
              ['p99', (r: LatencyOutput['runs'][number]) => r.ackP99],
            ] as const) {
              ctx.report.add({
                scenario: this.name,
                metric: `send → ack at ${LATENCY_RATE}/s, ${label}, 2 in-sync copies`,
                unit: 'ms',
                better: 'lower',
                samples: two.runs.map(pickFn),
                baseline: { name: 'one broker', samples: one.runs.map(pickFn) },
              });
            }
            const added = (f: (r: LatencyOutput['runs'][number]) => number) => (median(two.runs.map(f)) - median(one.runs.map(f))).toFixed(3);
            ctx.report.note(
              `${this.name}: added send → ack latency with 2 in-sync copies: p50 +${added((r) => r.ackP50)} ms, p99 +${added((r) => r.ackP99)} ms (medians of 3 runs)`,
            );
            const errors = two.runs.reduce((a, r) => a + r.sendErrors, 0) + one.runs.reduce((a, r) => a + r.sendErrors, 0);
            if (errors > 0)
              ctx.report.note(`${this.name}: ${errors} send errors during the latency runs; first: ${two.firstError ?? one.firstError ?? 'none'}`);
          } finally {
            for (const srv of servers.reverse()) await srv.stop().catch((err: unknown) => ctx.log(`   while stopping: ${String(err)}`));
          }
        }),
      ),
    );
  },
};
