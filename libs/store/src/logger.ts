import { formatError } from '@apogee/message';

/** The logging surface the store needs; pino loggers satisfy it. */
export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Logs warnings and errors as JSON lines on stderr; used when no logger is given. */
export const stderrLogger: Logger = {
  info: () => {},
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg, ...serialise(obj) })}\n`),
  error: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'error', msg, ...serialise(obj) })}\n`),
};

function serialise(obj: object): object {
  const o = obj as Record<string, unknown>;
  if (o['err'] instanceof Error) return { ...o, err: { message: formatError(o['err']), code: (o['err'] as NodeJS.ErrnoException).code } };
  return o;
}
