/** Where rate-limited warnings go: a pino logger, or anything with its `warn(obj, msg)`. */
export interface WarnSink {
  warn(obj: object, msg: string): void;
}

export interface RateLimitOptions {
  /** Lines one key may write per window; the rest are counted. Default 10. */
  burst?: number;
  /** Length of a key's window in ms, from its first line. Default 60,000. */
  intervalMs?: number;
  /** Milliseconds clock (injected by tests). Default Date.now. */
  now?: () => number;
  /**
   * Runs `fn` once after `ms` and returns a function that cancels it (injected by tests). Default: an
   * unref'd setTimeout, so a pending summary never keeps the process alive.
   */
  schedule?: (fn: () => void, ms: number) => () => void;
}

/** Per-key state of the current window. */
interface Window {
  start: number;
  written: number;
  suppressed: number;
  /** Message of the last suppressed line (the summary names it). */
  lastMsg: string;
  cancel: (() => void) | null;
}

/** Beyond this many keys, windows that have ended are dropped before a new key is tracked. */
const MAX_KEYS = 1024;

const defaultSchedule = (fn: () => void, ms: number): (() => void) => {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
};

/**
 * Warnings about refused or failed requests, at most `burst` lines per key per window: a client
 * retrying a refused request in a loop cannot flood the log. A key is what makes warnings
 * "similar" — an endpoint's reason kind, e.g. `remoting:TOPIC_NOT_EXIST` — so one noisy kind does
 * not hide another. Lines past the burst are counted; when the key's window ends, one summary line
 * ("<last message>: suppressed K similar warnings in N s") says how many were dropped. A summary is
 * timer-driven (nothing waits for the next warning), and `flush()` writes pending ones at shutdown.
 */
export class RateLimitedWarnings {
  private readonly burst: number;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private readonly schedule: (fn: () => void, ms: number) => () => void;
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly sink: WarnSink,
    opts: RateLimitOptions = {},
  ) {
    this.burst = opts.burst ?? 10;
    this.intervalMs = opts.intervalMs ?? 60_000;
    if (!Number.isInteger(this.burst) || this.burst < 1) throw new RangeError(`burst must be a positive integer, got ${this.burst}`);
    if (!(this.intervalMs > 0)) throw new RangeError(`intervalMs must be positive, got ${this.intervalMs}`);
    this.now = opts.now ?? Date.now;
    this.schedule = opts.schedule ?? defaultSchedule;
  }

  /** Writes `msg` with `obj` unless `key` has used up its window; true when the line was written. */
  warn(key: string, obj: object, msg: string): boolean {
    const t = this.now();
    let w = this.windows.get(key);
    if (w === undefined || t - w.start >= this.intervalMs) {
      if (w !== undefined) {
        w.cancel?.();
        this.summarise(key, w);
      } else if (this.windows.size >= MAX_KEYS) this.dropEnded(t);
      w = { start: t, written: 0, suppressed: 0, lastMsg: '', cancel: null };
      this.windows.set(key, w);
    }
    if (w.written < this.burst) {
      w.written++;
      this.sink.warn(obj, msg);
      return true;
    }
    w.suppressed++;
    w.lastMsg = msg;
    if (w.cancel === null) {
      const window = w;
      w.cancel = this.schedule(
        () => {
          window.cancel = null;
          this.summarise(key, window);
        },
        w.start + this.intervalMs - t,
      );
    }
    return false;
  }

  /** Writes the summary of every window with suppressed lines now (at shutdown) and cancels their timers. */
  flush(): void {
    for (const [key, w] of this.windows) {
      w.cancel?.();
      w.cancel = null;
      this.summarise(key, w);
    }
  }

  private summarise(key: string, w: Window): void {
    if (w.suppressed === 0) return;
    const n = w.suppressed;
    w.suppressed = 0;
    this.sink.warn({ key, suppressed: n }, `${w.lastMsg}: suppressed ${n} similar warning${n === 1 ? '' : 's'} in ${this.intervalMs / 1000} s`);
  }

  private dropEnded(t: number): void {
    for (const [key, w] of this.windows) {
      if (w.cancel === null && w.suppressed === 0 && t - w.start >= this.intervalMs) this.windows.delete(key);
    }
  }
}
