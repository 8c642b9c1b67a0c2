/**
 * Command-line parsing with no I/O: resolving the command words and parsing options against a
 * spec. Accepted forms: `--name value`, `--name=value`, bare `--flag`, `-h` for `--help`, and `--`
 * to end options (so a body may start with "-"). Anything else is a UsageError (exit 2).
 */

/** `list` options may repeat; every other option may be given once. */
export type OptionKind = 'string' | 'int' | 'flag' | 'list';

export interface OptionSpec {
  name: string;
  kind: OptionKind;
  /** Placeholder in help, e.g. "N". */
  value?: string;
  help: string;
  /** Smallest accepted value of an `int` option. */
  min?: number;
}

export type OptionValue = string | number | boolean | string[];

/** Wrong command line: main prints the message and the usage, then exits 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** Command path whose usage fits best ([] = the global usage). */
    readonly path: readonly string[] = [],
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Positionals and options of one command line. */
export class ParsedArgs {
  constructor(
    readonly positionals: readonly string[],
    private readonly options: ReadonlyMap<string, OptionValue>,
  ) {}

  has(name: string): boolean {
    return this.options.has(name);
  }

  str(name: string): string | undefined {
    const v = this.options.get(name);
    return typeof v === 'string' ? v : undefined;
  }

  int(name: string): number | undefined {
    const v = this.options.get(name);
    return typeof v === 'number' ? v : undefined;
  }

  flag(name: string): boolean {
    return this.options.get(name) === true;
  }

  list(name: string): string[] {
    const v = this.options.get(name);
    return Array.isArray(v) ? [...v] : [];
  }
}

/** Parses `tokens` against `specs`; positionals are collected in order. */
export function parseOptions(tokens: readonly string[], specs: readonly OptionSpec[], path: readonly string[] = []): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const positionals: string[] = [];
  const options = new Map<string, OptionValue>();
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok === '--') {
      positionals.push(...tokens.slice(i + 1));
      break;
    }
    if (!tok.startsWith('-') || tok === '-') {
      positionals.push(tok);
      continue;
    }
    const eq = tok.indexOf('=');
    const name = tok === '-h' ? 'help' : tok.startsWith('--') ? tok.slice(2, eq < 0 ? undefined : eq) : '';
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`unknown option ${eq < 0 ? tok : tok.slice(0, eq)}`, path);
    let raw: string | undefined = eq < 0 ? undefined : tok.slice(eq + 1);
    if (spec.kind === 'flag') {
      if (raw !== undefined) throw new UsageError(`option --${name} takes no value`, path);
    } else if (raw === undefined) {
      raw = tokens[++i];
      if (raw === undefined) throw new UsageError(`option --${name} needs a value`, path);
    }
    if (spec.kind !== 'list' && options.has(name)) throw new UsageError(`option --${name} given twice`, path);
    options.set(name, optionValue(spec, raw, options.get(name), path));
  }
  return new ParsedArgs(positionals, options);
}

function optionValue(spec: OptionSpec, raw: string | undefined, prev: OptionValue | undefined, path: readonly string[]): OptionValue {
  switch (spec.kind) {
    case 'flag':
      return true;
    case 'string':
      return raw!;
    case 'list':
      return [...(Array.isArray(prev) ? prev : []), raw!];
    case 'int': {
      const n = /^-?\d+$/.test(raw!) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n)) throw new UsageError(`option --${spec.name} needs an integer, got ${JSON.stringify(raw)}`, path);
      if (spec.min !== undefined && n < spec.min) throw new UsageError(`option --${spec.name} must be at least ${spec.min}, got ${n}`, path);
      return n;
    }
  }
}

export interface CommandLine<C> {
  /** Undefined when no command was named (`--help` alone, or nothing at all). */
  command: C | undefined;
  /** The command words that were recognised (a group such as ["topic"] when its subcommand is missing). */
  path: string[];
  /** Options before the command words, then everything after them. */
  rest: string[];
}

/**
 * Finds the command: leading options (of `globalSpecs`) are skipped, then one or two words name a
 * command of `commands` (two words first: `cluster ha` before `cluster`). Throws UsageError for an unknown word; a group without its subcommand is
 * an error unless help was asked for.
 */
export function resolveCommand<C extends { path: readonly string[] }>(
  argv: readonly string[],
  commands: readonly C[],
  globalSpecs: readonly OptionSpec[],
): CommandLine<C> {
  const takesValue = new Set(globalSpecs.filter((s) => s.kind !== 'flag').map((s) => s.name));
  const before: string[] = [];
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '--') {
    const tok = argv[i++]!;
    before.push(tok);
    if (!tok.includes('=') && takesValue.has(tok.slice(2)) && i < argv.length) before.push(argv[i++]!);
  }
  const first = argv[i];
  if (first === undefined || first === '--') return { command: undefined, path: [], rest: [...before, ...argv.slice(i + 1)] };
  const family = commands.filter((c) => c.path[0] === first);
  if (family.length === 0) throw new UsageError(`unknown command ${JSON.stringify(first)}`);
  // A word can be a command and a group at once (`cluster`, `cluster ha`): the two-word command wins.
  const second = argv[i + 1];
  const sub = second === undefined ? undefined : family.find((c) => c.path.length === 2 && c.path[1] === second);
  if (sub) return { command: sub, path: [first, second!], rest: [...before, ...argv.slice(i + 2)] };
  const single = family.find((c) => c.path.length === 1);
  if (single) return { command: single, path: [first], rest: [...before, ...argv.slice(i + 1)] };
  const rest = [...before, ...argv.slice(i + 1)];
  if (second === undefined || second.startsWith('-')) {
    if (rest.includes('--help') || rest.includes('-h')) return { command: undefined, path: [first], rest };
    throw new UsageError(`${first} needs a subcommand: ${family.map((c) => c.path[1]).join(', ')}`, [first]);
  }
  throw new UsageError(`unknown command ${JSON.stringify(`${first} ${second}`)}`, [first]);
}

/** `k=v` pairs (repeatable --prop) as a record; the key must be non-empty, the value may hold "=". */
export function parseKeyValues(pairs: readonly string[], option: string, path: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`option --${option} needs KEY=VALUE, got ${JSON.stringify(p)}`, path);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

/** A comma-separated list without empty items ("a,,b" → ["a", "b"]). */
export function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
