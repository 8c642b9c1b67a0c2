import type { OptionSpec, ParsedArgs } from '../args.js';
import type { Context } from '../context.js';

/** One CLI command: its words, positional arguments, options and what it does. */
export interface Command {
  /** ["cluster"] or ["topic", "create"]. */
  path: readonly string[];
  /** Names of the required positional arguments, in order (shown in usage). */
  args: readonly string[];
  summary: string;
  options: readonly OptionSpec[];
  /** Extra usage lines (defaults, notes). */
  notes?: readonly string[];
  run(ctx: Context, args: ParsedArgs): Promise<void>;
}
