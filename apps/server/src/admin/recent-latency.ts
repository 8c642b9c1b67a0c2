import { type Histogram, type HistogramSnapshot, quantileBetween } from '@apogee/message';

/**
 * p50/p99 in milliseconds of what a seconds-histogram observed over its last `window` reads (the
 * stats sampler reads once a second): the difference of the oldest kept snapshot and the current
 * one, so the console's chart shows recent latency, not the average since start. null when
 * nothing was observed in the window (an idle store makes no fsync).
 */
export function recentLatencyMs(histogram: Histogram, window = 10): () => { p50: number; p99: number } | null {
  const kept: HistogramSnapshot[] = [];
  return () => {
    const now = histogram.snapshot();
    const oldest = kept[0] ?? null;
    kept.push(now);
    if (kept.length > window) kept.shift();
    const p50 = quantileBetween(oldest, now, 0.5);
    const p99 = quantileBetween(oldest, now, 0.99);
    return Number.isNaN(p50) || Number.isNaN(p99) ? null : { p50: p50 * 1000, p99: p99 * 1000 };
  };
}
