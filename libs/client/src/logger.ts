/** Optional logging hook. The SDK logs nothing unless one is given. pino/console-style objects fit. */
export interface ClientLogger {
  debug?(msg: string, fields?: Record<string, unknown>): void;
  info?(msg: string, fields?: Record<string, unknown>): void;
  warn?(msg: string, fields?: Record<string, unknown>): void;
  error?(msg: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: ClientLogger = {};
