/**
 * `npm run bench -- <suite> [--quick] [--only scenario,…]`
 *
 * Runs one suite, prints its table on stdout (progress goes to stderr) and writes
 * bench-results/<suite>.json at the repo root, as docs BENCHMARKS.md specifies.
 */
import { rmSync } from 'node:fs';
import { parseCli, UsageError } from './cli.js';
import { Reporter } from './report.js';
import { runSuite } from './run-suite.js';
import { suiteNames, suites } from './suites/index.js';
import { TempRoot } from './tmp.js';

function usage(): string {
  const list = suiteNames()
    .map((n) => `  ${n.padEnd(10)} ${suites[n]!.description}`)
    .join('\n');
  return [
    'usage: npm run bench -- <suite> [--quick] [--only scenario,…]',
    '',
    'suites:',
    list,
    '',
    '  --quick   short version (the whole suite in under a minute)',
    '  --only    run only the named scenarios of the suite',
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  let cli;
  try {
    cli = parseCli(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`bench: ${err.message}\n\n${usage()}\n`);
      return 2;
    }
    throw err;
  }
  if (cli.help) {
    process.stdout.write(usage() + '\n');
    return 0;
  }
  const entry = suites[cli.suite];
  if (!entry) {
    process.stderr.write(`bench: unknown suite "${cli.suite}"; suites: ${suiteNames().join(', ')}\n\n${usage()}\n`);
    return 2;
  }

  const suite = await entry.load();
  const tmp = await TempRoot.create();
  const onSignal = (signal: NodeJS.Signals): void => {
    rmSync(tmp.root, { recursive: true, force: true });
    process.stderr.write(`bench: ${signal}, removed ${tmp.root}\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const report = new Reporter(suite.name, cli.quick);
  const t0 = performance.now();
  try {
    await runSuite(suite, { quick: cli.quick, report, tmp, log: (m) => process.stderr.write(m + '\n') }, cli.only);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`bench: ${err.message}\n`);
      return 2;
    }
    throw err;
  } finally {
    await tmp.dispose();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const file = await report.writeJson();
  process.stdout.write(report.formatTable() + '\n');
  process.stderr.write(`\nwrote ${file} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  return report.failed.length > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
