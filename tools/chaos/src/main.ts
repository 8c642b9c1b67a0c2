/**
 * `npm run chaos -- --topology single|cluster --faults kill,suspend,partition,loss[,bridge]
 * --duration 60s --rate 200 --seed N [--report FILE] [--hold 5s..10s] [--recover 5s..10s]
 * [--warmup 5s] [--loss 10..30] [--target master|minority|mixed] [--flush sync|async]
 * [--send-timeout 3s] [--retries 2] [--size 128] [--queues 4] [--drain 30s] [--keep-data]`
 * (docs/chaos.md). Needs root, `ip` and `tc`. Exit code 1 when an acknowledged message was lost,
 * one was unexpected, or the cleanup left something; 2 on a usage error; 3 when the run itself
 * failed or overran its time bound.
 */
import fs from 'node:fs';
import type { ChaosNet } from './net.js';
import { formatReport } from './report.js';
import { type ChaosOptions, DEFAULTS, runChaos } from './run.js';
import { type TargetMode, parseDuration, parseKinds, parseRange } from './schedule.js';
import { TOPOLOGIES } from './topologies/index.js';

interface Cli {
  opts: ChaosOptions;
  report: string | undefined;
}

function int(flag: string, v: string | undefined, min = 0): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag} takes an integer ≥ ${min}, got ${v ?? 'nothing'}`);
  return n;
}

export function parseCli(argv: string[], log: (l: string) => void): Cli {
  const opts: ChaosOptions = { ...DEFAULTS, topology: 'single', faults: ['kill', 'suspend', 'partition', 'loss'], log };
  let report: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--topology':
        opts.topology = value();
        if (!TOPOLOGIES[opts.topology]) throw new Error(`--topology takes ${Object.keys(TOPOLOGIES).join('|')}, got ${opts.topology}`);
        break;
      case '--faults':
        opts.faults = parseKinds(value());
        break;
      case '--duration':
        opts.durationMs = parseDuration(value());
        break;
      case '--rate':
        opts.rate = int(flag, value(), 1);
        break;
      case '--seed':
        opts.seed = int(flag, value());
        break;
      case '--report':
        report = value();
        break;
      case '--hold':
        opts.hold = parseRange(value());
        break;
      case '--recover':
        opts.recover = parseRange(value());
        break;
      case '--warmup':
        opts.warmupMs = parseDuration(value());
        break;
      case '--loss': {
        const [a, b] = value().split('..');
        const min = int(flag, a, 1);
        const max = b === undefined ? min : int(flag, b, min);
        if (max > 100) throw new Error('--loss is a percentage');
        opts.lossPercent = { min, max };
        break;
      }
      case '--target': {
        const t = value();
        if (t !== 'master' && t !== 'minority' && t !== 'mixed') throw new Error(`--target takes master|minority|mixed, got ${t}`);
        opts.target = t as TargetMode | 'mixed';
        break;
      }
      case '--flush': {
        const f = value();
        if (f !== 'sync' && f !== 'async') throw new Error(`--flush takes sync|async, got ${f}`);
        opts.flush = f;
        break;
      }
      case '--send-timeout':
        opts.sendTimeoutMs = parseDuration(value());
        break;
      case '--retries':
        opts.retryTimes = int(flag, value());
        break;
      case '--size':
        opts.messageSize = int(flag, value(), 32);
        break;
      case '--queues':
        opts.queuesPerGroup = int(flag, value(), 1);
        break;
      case '--drain':
        opts.drainMs = parseDuration(value());
        break;
      case '--keep-data':
        opts.keepData = true;
        break;
      default:
        throw new Error(`unknown flag ${flag} (docs/chaos.md)`);
    }
  }
  return { opts, report };
}

/** The run's outer time bound: setup, the duration, drain and verification, teardown. */
export function timeBoundMs(o: ChaosOptions): number {
  return o.durationMs + 2 * o.drainMs + o.hold.maxMs + 180_000;
}

async function main(): Promise<number> {
  const log = (l: string): void => console.error(`chaos: ${l}`);
  let cli: Cli;
  try {
    cli = parseCli(process.argv.slice(2), log);
  } catch (err) {
    console.error(`chaos: ${(err as Error).message}`);
    return 2;
  }
  const abort = new AbortController();
  let net: ChaosNet | undefined;
  cli.opts.signal = abort.signal;
  cli.opts.onNet = (n) => (net = n);
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    signals++;
    log(`${sig}: stopping the run${signals > 1 ? ' now' : ' (again to stop at once)'}`);
    abort.abort();
    if (signals > 1) {
      net?.destroySync();
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const bound = timeBoundMs(cli.opts);
  const overrun = setTimeout(() => {
    log(`the run overran its bound of ${bound / 1000} s: stopping`);
    abort.abort();
    setTimeout(() => {
      log('cleanup did not finish in 30 s: removing the namespaces and exiting');
      net?.destroySync();
      process.exit(3);
    }, 30_000).unref();
  }, bound);
  overrun.unref();
  try {
    const r = await runChaos(cli.opts);
    console.log(formatReport(r));
    if (cli.report) fs.writeFileSync(cli.report, `${JSON.stringify(r, null, 2)}\n`);
    if (r.aborted) return 3;
    return r.lost > 0 || r.unexpected > 0 || r.leftovers.length > 0 ? 1 : 0;
  } catch (err) {
    log(`the run failed: ${(err as Error).stack ?? String(err)}`);
    return 3;
  } finally {
    clearTimeout(overrun);
  }
}

process.exitCode = await main();
