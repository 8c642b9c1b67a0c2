/** Command line of `npm run bench -- <suite> [--quick] [--only a,b]`. No I/O. */

export interface CliOptions {
  suite: string;
  quick: boolean;
  /** Scenario names to run (all when null). */
  only: ReadonlySet<string> | null;
  help: boolean;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseCli(argv: readonly string[]): CliOptions {
  let suite: string | undefined;
  let quick = false;
  let help = false;
  let only: Set<string> | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (!value) throw new UsageError('--only needs a comma-separated list of scenario names');
      only = new Set(
        value
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0),
      );
    } else if (arg.startsWith('-')) throw new UsageError(`unknown option ${arg}`);
    else if (suite === undefined) suite = arg;
    else throw new UsageError(`unexpected argument ${arg} (one suite per run)`);
  }
  if (suite === undefined && !help) throw new UsageError('no suite given');
  return { suite: suite ?? '', quick, only, help };
}
