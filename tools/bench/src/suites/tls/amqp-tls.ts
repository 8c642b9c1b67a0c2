/**
 * AMQP 1.0 at least once, one sender (1,000 unsettled) → one receiver, 128 B, over TLS (the
 * AMQP-over-TLS port) as a ratio of the plain AMQP port of the same server process, in one run
 * with one load generator, the two taking turns run by run.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from '../../child.js';
import { median } from '../../stats.js';
import type { BenchContext, Scenario } from '../../suite.js';
import type { BrokerRef } from '../amqp/brokers.js';
import { pick, runsFor } from '../amqp/common.js';
import type { ThroughputInput, ThroughputOutput } from '../amqp/throughput-child.js';
import { PAYLOAD } from '../amqp/wire.js';
import { ApogeeServer, clientNodeFlags, freePort } from '../remoting/common.js';
import { apogeeTlsArgs, makeBenchCerts } from './certs.js';
import { TLS_TARGET } from './target.js';

const CHILD = fileURLToPath(new URL('../amqp/throughput-child.ts', import.meta.url));

export const amqpAtLeastOnceTls: Scenario = {
  name: 'amqp-alo-tls',
  description: `AMQP at least once, 1 sender (1,000 unsettled) → 1 receiver, ${PAYLOAD} B, over TLS vs plain: msgs/s delivered`,
  async run(ctx: BenchContext): Promise<void> {
    await ctx.tmp.with('tls-amqp', async (dir) => {
      const certs = makeBenchCerts(dir);
      const dataDir = path.join(dir, 'apogee');
      await mkdir(dataDir, { recursive: true });
      const amqpsPort = await freePort();
      const server = await ApogeeServer.start(dataDir, 'async', undefined, [...apogeeTlsArgs(certs), '--mqtts-port', 'off', '--amqps-port', String(amqpsPort)]);
      try {
        const plain: BrokerRef = { name: 'apogee', port: server.amqpPort, queuePrefix: '', pid: server.pid! };
        const tls: BrokerRef = { ...plain, name: 'apogee-tls', port: amqpsPort, tls: { ca: certs.caPem } };
        const input: ThroughputInput = {
          brokers: [plain, tls],
          tag: 'alot',
          settled: false,
          receivers: 1,
          window: 1000,
          runs: runsFor(ctx),
          maxMessages: pick(ctx, 200_000, 1_000_000),
          durationMs: pick(ctx, 1000, 3000),
          warmupMs: pick(ctx, 1500, 2000),
          drainMs: 5000,
        };
        const out = await runChild<ThroughputOutput>({ module: CHILD, input, nodeFlags: clientNodeFlags(), timeoutMs: pick(ctx, 120_000, 400_000) });
        ctx.report.add({
          scenario: 'amqp-alo-tls',
          metric: 'AMQP at least once 1-to-1 (1,000 unsettled) over TLS, msgs delivered — vs Apogee plain AMQP (same process, same run)',
          unit: 'msg/s',
          better: 'higher',
          samples: out.samples['apogee-tls'] ?? [],
          baseline: { name: 'Apogee plain AMQP', samples: out.samples.apogee ?? [] },
          target: TLS_TARGET,
        });
        for (const [name, runs] of Object.entries(out.runs)) {
          if (!runs || runs.length === 0) continue;
          const lost = runs.reduce((a, r) => a + (r.sent - r.delivered), 0);
          ctx.report.note(
            `amqp-alo-tls: ${name} ${median(runs.map((r) => r.sent)).toLocaleString('en-US')} msgs/run${lost > 0 ? `, ${lost} NOT DELIVERED` : ''}`,
          );
        }
        if (out.errors.length > 0) ctx.report.note(`amqp-alo-tls: client errors: ${out.errors.slice(0, 3).join(' | ')}`);
      } finally {
        await server.stop();
      }
    });
  },
};
