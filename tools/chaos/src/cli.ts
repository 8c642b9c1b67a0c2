/** The command line of `npm run chaos` (docs/chaos.md). */
import { type ChaosOptions, DEFAULTS } from './run.js';
import { type TargetMode, buildSchedule, parseDuration, parseKinds, parseRange } from './schedule.js';
import { TOPOLOGIES } from './topologies/index.js';

export interface Cli {
  opts: ChaosOptions;
  report: string | undefined;
  /** `--sweep`: only remove what crashed runs left, then exit. */
  sweepOnly: boolean;
}

function int(flag: string, v: string | undefined, min = 0): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag} takes an integer ≥ ${min}, got ${v ?? 'nothing'}`);
  return n;
}

export function parseCli(argv: string[], log: (l: string) => void): Cli {
  const opts: ChaosOptions = { ...DEFAULTS, topology: 'single', faults: ['kill', 'suspend', 'partition', 'loss'], log };
  let report: string | undefined;
  let sweepOnly = false;
  let durationGiven = false;
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
        durationGiven = true;
        break;
      case '--count':
        opts.count = int(flag, value(), 1);
        break;
      case '--route-refresh':
        opts.routeRefreshMs = parseDuration(value());
        if (opts.routeRefreshMs < 100) throw new Error('--route-refresh takes at least 100ms');
        break;
      case '--brokers':
        opts.brokers = int(flag, value(), 2);
        if (opts.brokers > 3) throw new Error('--brokers takes 2 or 3');
        break;
      case '--replication': {
        const r = value();
        if (r !== 'sync' && r !== 'async') throw new Error(`--replication takes sync|async, got ${r}`);
        opts.replication = r;
        break;
      }
      case '--min-in-sync-replicas':
        opts.minInSyncReplicas = int(flag, value(), 1);
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
      case '--partition-mode': {
        const m = value();
        if (m !== 'drop' && m !== 'down') throw new Error(`--partition-mode takes drop|down, got ${m}`);
        opts.partitionMode = m;
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
      case '--sweep':
        sweepOnly = true;
        break;
      case '--mqtt':
        opts.mqttRate = int(flag, value(), 1);
        break;
      case '--keep-data':
        opts.keepData = true;
        break;
      default:
        throw new Error(`unknown flag ${flag} (docs/chaos.md)`);
    }
  }
  // --count without --duration: until the N-th fault's recovery ends (the schedule follows from the seed).
  if (opts.count > 0 && !durationGiven) opts.durationMs = countDurationMs(opts);
  return { opts, report, sweepOnly };
}

/** The duration `--count N` implies: the end of the N-th fault's recovery in the seed's schedule. */
export function countDurationMs(o: Pick<ChaosOptions, 'count' | 'warmupMs' | 'hold' | 'recover' | 'faults' | 'seed' | 'lossPercent' | 'target'>): number {
  const longest = o.warmupMs + o.count * (o.hold.maxMs + o.recover.maxMs);
  const s = buildSchedule({ ...o, kinds: o.faults, durationMs: longest });
  const last = s.at(-1);
  return last === undefined ? longest : last.atMs + last.holdMs + last.recoverMs;
}

/** The run's outer time bound: setup, the duration, drain and verification, teardown. */
export function timeBoundMs(o: ChaosOptions): number {
  return o.durationMs + 2 * o.drainMs + o.hold.maxMs + 180_000;
}
