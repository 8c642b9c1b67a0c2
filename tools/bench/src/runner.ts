/** How measurements are driven: alternating runs, and a window of operations in flight. */

/** Run index passed to a variant for its warm-up run, whose result is discarded. */
export const WARMUP = -1;

/** "warm-up" or "run 3", for progress lines. */
export function runLabel(run: number): string {
  return run === WARMUP ? 'warm-up' : `run ${run + 1}`;
}

/**
 * Runs the variants round-robin `runs` times (A B A B … for two) so that drift of a noisy machine
 * spreads over every side alike; returns the samples of each variant, in variant order. With
 * `warmup`, one discarded round (run index WARMUP) goes first, so JIT and page-cache warm-up is
 * not charged to the first run.
 */
export async function alternate<T>(runs: number, variants: ReadonlyArray<(run: number) => Promise<T>>, opts: { warmup?: boolean } = {}): Promise<T[][]> {
  if (opts.warmup) for (const v of variants) await v(WARMUP);
  const out: T[][] = variants.map(() => []);
  for (let run = 0; run < runs; run++) {
    for (let v = 0; v < variants.length; v++) out[v]!.push(await variants[v]!(run));
  }
  return out;
}

export interface PumpOptions {
  /** Operations kept in flight, as a broker with many producers would. */
  window: number;
  /** Stop issuing after this many operations... */
  maxOps: number;
  /** ...or once this much time has passed, whichever comes first. */
  durationMs: number;
  /** Starts operation i; the returned promise settles when it is done. */
  op: (i: number) => Promise<unknown>;
}

export interface PumpResult {
  /** Operations completed. */
  ops: number;
  /** From the first issue to the last completion. */
  elapsedMs: number;
}

/**
 * Keeps `window` operations outstanding, issuing a new one as each completes, until maxOps are
 * issued or durationMs passed; resolves when every issued operation is done. Rejects on the first
 * failure (operations still in flight are left to settle; their failures are swallowed).
 */
export function pump({ window, maxOps, durationMs, op }: PumpOptions): Promise<PumpResult> {
  return new Promise<PumpResult>((resolve, reject) => {
    const start = performance.now();
    const deadline = start + durationMs;
    let issued = 0;
    let done = 0;
    let stopped = false;
    let failed = false;

    const onDone = (): void => {
      done++;
      if (failed) return;
      // Reading the clock every 64 completions keeps its cost out of the figure.
      if (!stopped && (done & 63) === 0 && performance.now() >= deadline) stopped = true;
      if (!stopped && issued < maxOps) issue();
      else if (done === issued) resolve({ ops: done, elapsedMs: performance.now() - start });
    };
    const onError = (err: unknown): void => {
      done++;
      if (failed) return;
      failed = true;
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    const issue = (): void => {
      const i = issued++;
      let p: Promise<unknown>;
      try {
        p = op(i);
      } catch (err) {
        onError(err);
        return;
      }
      p.then(onDone, onError);
    };

    const first = Math.min(window, maxOps);
    if (first <= 0) {
      resolve({ ops: 0, elapsedMs: 0 });
      return;
    }
    for (let i = 0; i < first && !failed; i++) issue();
  });
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
