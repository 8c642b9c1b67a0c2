import { type DestinationStream, type Logger, pino } from 'pino';
import { DEFAULT_LOG_LEVEL, type LogLevel } from './levels.js';
import { formatLogLine } from './tty-format.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** Default info. */
  level?: LogLevel;
  /**
   * Human-readable lines (formatLogLine) instead of JSON. Default: whether stdout is a terminal —
   * a person reads a terminal, a program reads everything else.
   */
  tty?: boolean;
  /** Where lines go. Default stdout (pino's own destination when writing JSON). */
  out?: { write(line: string): unknown };
  /** Colour the level of human-readable lines. Default: when writing to a terminal and NO_COLOR is unset. */
  colour?: boolean;
}

/**
 * The logger of an Apogee process: pino with the level as a label and the pid on every line.
 * On a terminal each line is turned into the readable form as it is written (no worker thread,
 * no transport); otherwise the lines are pino's JSON, unchanged.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const options = { level: opts.level ?? DEFAULT_LOG_LEVEL, base: { pid: process.pid }, formatters: { level: (label: string) => ({ level: label }) } };
  const tty = opts.tty ?? process.stdout.isTTY === true;
  if (!tty) return opts.out ? pino(options, opts.out as DestinationStream) : pino(options);
  const out = opts.out ?? process.stdout;
  const colour = opts.colour ?? (opts.out === undefined && !process.env['NO_COLOR']);
  const dest: DestinationStream = { write: (line: string) => void out.write(formatLogLine(line, { colour })) };
  return pino(options, dest);
}
