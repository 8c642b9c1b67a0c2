/**
 * `npm run chaos -- --topology single|cluster|ha --faults kill,suspend,partition,loss[,bridge]
 * --duration 60s|--count N --rate 200 --seed N [--report FILE] [--hold 5s..10s] [--recover 5s..10s]
 * [--warmup 5s] [--loss 10..30] [--target master|minority|mixed] [--partition-mode drop|down] [--flush sync|async]
 * [--send-timeout 3s] [--retries 2] [--size 128] [--queues 4] [--drain 30s] [--mqtt RATE] [--keep-data]
 * [--route-refresh D] [--brokers 2|3] [--replication sync|async] [--min-in-sync-replicas K]`, or
 * `npm run chaos -- --sweep` to remove only what crashed runs left
 * (docs/chaos.md). Needs root, `ip` and `tc` (and etcd for `ha`). Exit code 1 when an acknowledged message was lost,
 * one was unexpected, or the cleanup left something; 2 on a usage error; 3 when the run itself
 * failed or overran its time bound.
 */
import fs from 'node:fs';
import { type ChaosNet, sweepStale } from './net.js';
import { formatReport } from './report.js';
import { type Cli, parseCli, timeBoundMs } from './cli.js';
import { runChaos } from './run.js';

async function main(): Promise<number> {
  const log = (l: string): void => console.error(`chaos: ${l}`);
  let cli: Cli;
  try {
    cli = parseCli(process.argv.slice(2), log);
  } catch (err) {
    console.error(`chaos: ${(err as Error).message}`);
    return 2;
  }
  if (cli.sweepOnly) {
    const removed = await sweepStale();
    log(removed.length > 0 ? `removed ${removed.join(', ')}` : 'nothing stale');
    return 0;
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
