/** The levels `--log-level` takes (pino's), least to most severe; `silent` writes nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What every app runs with unless told otherwise. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/**
 * A log level from a flag, an environment variable or a config file (any case); anything else
 * throws an Error naming `source` and the accepted levels, for the app to print at start.
 */
export function parseLogLevel(raw: string, source: string): LogLevel {
  const v = raw.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new Error(`${source}: log level must be one of ${LOG_LEVELS.join(', ')}; got ${JSON.stringify(raw)}`);
}
