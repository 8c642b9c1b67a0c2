/**
 * The restart scenario: a store with a commit log of `bulkMiB` and 100,000 LMQs, the server (the
 * production build, dist/server/main.mjs) SIGKILLed under MQTT QoS 1 load, then timed from the restart
 * command to all six ports accepting. Beside it, in the same run and on the same ports, the floor: a
 * bare Node process that opens the six ports and nothing else. A small store (the LMQs only) shows
 * whether restart time depends on how much the store holds beyond the checkpoint window; the
 * development start (tsx, what `npm start` ran before the production build) is measured once per run too.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { runChild } from '../../child.js';
import { describePoint, field, readPoint } from '../../memory-points.js';
import { sleep } from '../../runner.js';
import { median } from '../../stats.js';
import type { BenchContext, Scenario } from '../../suite.js';
import { freePort, type OwnedProcess, pick, REPO_ROOT, runsFor, SERVER_DIST, serverEntry, serverNodeFlags } from '../remoting/common.js';
import { MiB } from '../store/common.js';
import type { FillInput, FillOutput } from './fill-child.js';
import { type StartTiming, timeToPorts } from './timing.js';

const FILL_CHILD = fileURLToPath(new URL('./fill-child.ts', import.meta.url));
const SERVER_SRC = path.join(REPO_ROOT, 'apps/server/src/main.ts');
const LMQS = 100_000;
const LOAD_MS = 1000;
const START_TIMEOUT_MS = 60_000;

const PORT_FLAGS = ['--namesrv-port', '--broker-port', '--http-port', '--mqtt-port', '--mqtt-ws-port', '--amqp-port'] as const;

function floorCommand(ports: readonly number[]): string[] {
  const script = `const net = require('node:net'); for (const p of ${JSON.stringify(ports)}) net.createServer().listen(p, '127.0.0.1');`;
  return [process.execPath, '-e', script];
}

function serverCommand(dataDir: string, ports: readonly number[], dev: boolean): string[] {
  const main = dev ? ['--import', 'tsx', SERVER_SRC] : [SERVER_DIST];
  return [process.execPath, ...serverNodeFlags(), ...main, '--data-dir', dataDir, ...PORT_FLAGS.flatMap((f, i) => [f, String(ports[i])]), '--flush', 'async'];
}

/** QoS 1 publishes (64 in flight) until the server goes away under them; resolves with how many were acknowledged. */
async function loadUntilKilled(mqttPort: number, server: OwnedProcess): Promise<number> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'restart-load', reconnectPeriod: 0, clean: true });
  c.on('error', () => {});
  let acked = 0;
  let stopped = false;
  const payload = Buffer.alloc(128, 7);
  const worker = async (): Promise<void> => {
    while (!stopped) {
      try {
        await c.publishAsync(`restart/load/${acked % 16}`, payload, { qos: 1 });
        acked++;
      } catch {
        return;
      }
    }
  };
  const workers = Array.from({ length: 64 }, worker);
  await sleep(LOAD_MS);
  server.proc.kill('SIGKILL'); // mid-write: the crash the restart recovers from
  await server.exited;
  stopped = true;
  c.end(true);
  await Promise.allSettled(workers);
  return acked;
}

async function killed(p: OwnedProcess): Promise<void> {
  if (p.running) p.proc.kill('SIGKILL');
  await p.exited;
}

interface Case {
  label: string;
  bulkMiB: number;
}

export const restartAfterKill: Scenario = {
  name: 'restart',
  description: `SIGKILL under MQTT QoS 1 load, then restart until all six ports accept, on a store with ${LMQS.toLocaleString('en-US')} LMQs; beside a bare Node process opening the same ports`,
  async run(ctx: BenchContext): Promise<void> {
    serverEntry(); // builds dist/ once
    const cases: Case[] = [
      { label: 'small store', bulkMiB: 0 },
      { label: 'large store', bulkMiB: pick(ctx, 1024, 8192) },
    ];
    for (const c of cases) {
      await ctx.tmp.with('restart', async (dataDir) => {
        const fill = await runChild<FillOutput>({
          module: FILL_CHILD,
          input: { dataDir, bulkMiB: c.bulkMiB, lmqs: LMQS } satisfies FillInput,
          timeoutMs: 30 * 60_000,
        });
        const logMiB = fill.commitLogBytes / MiB;
        ctx.log(
          `   ${c.label}: commit log ${logMiB.toFixed(0)} MiB, ${fill.lmqs.toLocaleString('en-US')} LMQs, filled in ${(fill.fillMs / 1000).toFixed(1)} s`,
        );
        const ports: number[] = [];
        while (ports.length < PORT_FLAGS.length) {
          const p = await freePort();
          if (!ports.includes(p)) ports.push(p);
        }
        const apogee: StartTiming[] = [];
        const floor: StartTiming[] = [];
        let dev: StartTiming | null = null;
        let server = (await timeToPorts('apogee', serverCommand(dataDir, ports, false), REPO_ROOT, ports, START_TIMEOUT_MS)).p;
        try {
          await server.waitFor('apogee: ready', START_TIMEOUT_MS);
          const runs = runsFor(ctx) + 1; // the last one restarts with tsx (development start)
          for (let run = 0; run < runs; run++) {
            const acked = await loadUntilKilled(ports[3]!, server);
            const f = await timeToPorts('floor', floorCommand(ports), REPO_ROOT, ports, START_TIMEOUT_MS);
            await killed(f.p);
            floor.push(f.timing);
            const isDev = run === runs - 1;
            const s = await timeToPorts(isDev ? 'apogee (tsx)' : 'apogee', serverCommand(dataDir, ports, isDev), REPO_ROOT, ports, START_TIMEOUT_MS);
            server = s.p;
            await server.waitFor('apogee: ready', START_TIMEOUT_MS);
            if (isDev) dev = s.timing;
            else apogee.push(s.timing);
            if (run === 0) {
              // The restarted server, idle: what recovery and start-up left resident.
              const mem = await readPoint([{ name: 'apogee', pid: server.proc.pid!, dataMapSuffix: '/data.mdb' }]);
              for (const key of ['anon', 'file'] as const)
                ctx.report.add({
                  scenario: 'restart',
                  metric: `memory idle after the restart: Rss${key === 'anon' ? 'Anon' : 'File'} (${c.label})`,
                  unit: 'MiB',
                  better: 'lower',
                  samples: field(mem, 'apogee', key),
                  baseline: null,
                });
              ctx.report.note(`restart ${c.label}: idle after the restart ${describePoint(mem, 'apogee')}`);
            }
            ctx.log(
              `   ${c.label} run ${run + 1}: ${acked} QoS 1 acks before SIGKILL; restart ${s.timing.wallMs.toFixed(0)} ms wall, ${s.timing.cpuMs.toFixed(0)} ms CPU${isDev ? ' (tsx)' : ''}; floor ${f.timing.wallMs.toFixed(0)} ms wall, ${f.timing.cpuMs.toFixed(0)} ms CPU`,
            );
          }
        } finally {
          const code = await server.stop(15_000);
          if (code !== 0) ctx.log(`   server exited with ${code} at the end:\n${server.output.slice(-2000)}`);
        }
        const what = `${c.label}: ${logMiB.toFixed(0)} MiB commit log, ${(LMQS / 1000).toFixed(0)}k LMQs`;
        const floorName = 'bare Node opening the same ports';
        ctx.report.add({
          scenario: 'restart',
          metric: `SIGKILL → all ports accepting (${what})`,
          unit: 'ms',
          better: 'lower',
          samples: apogee.map((t) => t.wallMs),
          baseline: { name: floorName, samples: floor.map((t) => t.wallMs) },
          target: { on: 'ratio', op: '>=', value: 0.5, label: 'under 2 × the floor' },
        });
        ctx.report.add({
          scenario: 'restart',
          metric: `SIGKILL → all ports accepting, absolute (${what})`,
          unit: 'ms',
          better: 'lower',
          samples: apogee.map((t) => t.wallMs),
          baseline: null,
          target: { on: 'value', op: '<=', value: 1000, label: 'under 1 s' },
        });
        ctx.report.add({
          scenario: 'restart',
          metric: `CPU time until all ports accept (${what})`,
          unit: 'ms',
          better: 'lower',
          samples: apogee.map((t) => t.cpuMs),
          baseline: { name: floorName, samples: floor.map((t) => t.cpuMs) },
        });
        if (dev) {
          ctx.report.note(
            `restart ${c.label}: the development start (node --import tsx apps/server/src/main.ts, what npm start ran before) took ${dev.wallMs.toFixed(0)} ms wall, ${dev.cpuMs.toFixed(0)} ms CPU; the production build's median ${median(apogee.map((t) => t.wallMs)).toFixed(0)} ms wall, ${median(apogee.map((t) => t.cpuMs)).toFixed(0)} ms CPU`,
          );
        }
      });
    }
  },
};
