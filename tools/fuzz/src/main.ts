/**
 * `npm run fuzz -- [--protocol remoting|mqtt|amqp|all] [--frames N] [--concurrency C]
 * [--per-connection F] [--seed S] [--max-seconds T] [--json]`: starts the production build on a
 * temporary data directory and free loopback ports, fuzzes one protocol (or each in turn) with
 * N frames, and prints frames/s, connections the server closed, resident memory before, at most
 * and after, and any failure. Exit code 1 when the server died or an endpoint stopped answering.
 */
import { runCampaign, type CampaignReport } from './campaign.js';
import { amqpFrames } from './frames/amqp.js';
import { mqttFrames } from './frames/mqtt.js';
import type { ProtocolFrames } from './frames/protocol.js';
import { remotingFrames } from './frames/remoting.js';
import { FuzzedServer, buildServer } from './server.js';

const PROTOCOLS: Record<string, ProtocolFrames> = { remoting: remotingFrames, mqtt: mqttFrames, amqp: amqpFrames };

interface FuzzArgs {
  protocols: ProtocolFrames[];
  frames: number;
  concurrency: number;
  perConnection: number;
  seed: number;
  maxSeconds: number;
  json: boolean;
}

function positive(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} takes a positive integer, got ${v ?? 'nothing'}`);
  return n;
}

function parseArgs(argv: string[]): FuzzArgs {
  const a: FuzzArgs = { protocols: Object.values(PROTOCOLS), frames: 100_000, concurrency: 50, perConnection: 100, seed: 1, maxSeconds: 600, json: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (flag === '--json') a.json = true;
    else if (flag === '--protocol') {
      i++;
      if (value === 'all') a.protocols = Object.values(PROTOCOLS);
      else if (value && PROTOCOLS[value]) a.protocols = [PROTOCOLS[value]];
      else throw new Error(`--protocol takes remoting, mqtt, amqp or all, got ${value ?? 'nothing'}`);
    } else if (flag === '--frames') a.frames = positive(flag, argv[++i]);
    else if (flag === '--concurrency') a.concurrency = positive(flag, argv[++i]);
    else if (flag === '--per-connection') a.perConnection = positive(flag, argv[++i]);
    else if (flag === '--seed') a.seed = positive(flag, argv[++i]);
    else if (flag === '--max-seconds') a.maxSeconds = positive(flag, argv[++i]);
    else throw new Error(`unknown flag ${flag}; see tools/fuzz/src/main.ts`);
  }
  return a;
}

function line(r: CampaignReport): string {
  return (
    `${r.protocol}: ${r.frames} frames (${r.mutated} mutated) over ${r.connections} connections in ${r.seconds.toFixed(1)} s = ${r.framesPerSecond} frames/s; ` +
    `${r.closedByServer} closed by the server; RssAnon ${r.rssBeforeMiB.toFixed(0)} → max ${r.rssMaxMiB.toFixed(0)} → ${r.rssAfterMiB.toFixed(0)} MiB; ` +
    `seed ${r.seed}${r.stoppedEarly ? '; STOPPED at --max-seconds' : ''}; ${r.failures.length === 0 ? 'no failure' : `FAILED: ${r.failures.join('; ')}`}`
  );
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  buildServer();
  const server = await FuzzedServer.start();
  const reports: CampaignReport[] = [];
  try {
    for (const frames of args.protocols) {
      let last = 0;
      const r = await runCampaign(server, {
        frames,
        totalFrames: args.frames,
        concurrency: args.concurrency,
        framesPerConnection: args.perConnection,
        seed: args.seed,
        maxSeconds: args.maxSeconds,
        onBatch: (p) => {
          if (!args.json && p.frames - last >= args.frames / 10) {
            last = p.frames;
            process.stderr.write(`  ${p.protocol}: ${p.frames} frames, ${p.framesPerSecond} frames/s, RssAnon ${p.rssMaxMiB.toFixed(0)} MiB max\n`);
          }
        },
      });
      reports.push(r);
      if (!args.json) console.log(line(r));
      if (!server.alive) break;
    }
  } finally {
    await server.stop();
  }
  if (args.json) console.log(JSON.stringify(reports, null, 2));
  return reports.every((r) => r.failures.length === 0) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`fuzz: ${(err as Error).message}`);
    process.exit(2);
  },
);
