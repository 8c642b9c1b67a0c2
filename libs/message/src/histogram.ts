/**
 * A Prometheus classic histogram: fixed upper bucket bounds, counts per bucket, sum and count.
 * `observe` allocates nothing and costs a scan of at most ~16 bounds, so it can sit on a send or
 * flush path; rendering and quantiles work on `snapshot()`s, taken at scrape time.
 *
 * Values are in the unit of the bounds (seconds for every latency: Prometheus naming,
 * `_seconds`). Counts are float64: exact up to 2^53 observations, never wrapping.
 */
export class Histogram {
  /** Upper bounds (inclusive, `le`), strictly ascending; +Inf is implied after the last. */
  readonly bounds: Float64Array;
  /** Observations per bucket (not cumulative); the last slot is the +Inf bucket. */
  private readonly counts: Float64Array;
  private total = 0;
  private observed = 0;

  constructor(bounds: readonly number[]) {
    for (let i = 0; i < bounds.length; i++) {
      const b = bounds[i]!;
      if (!Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]!))
        throw new RangeError(`histogram bounds must be finite and strictly ascending: ${bounds.join(', ')}`);
    }
    this.bounds = Float64Array.from(bounds);
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records one value (a NaN is ignored: it has no bucket). */
  observe(value: number): void {
    if (value !== value) return;
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.total += value;
    this.observed++;
  }

  /** Observations so far. */
  get count(): number {
    return this.observed;
  }

  /** Sum of the observed values. */
  get sum(): number {
    return this.total;
  }

  /** The cumulative counts now (a copy: it does not change with later observations). */
  snapshot(): HistogramSnapshot {
    const cumulative = new Float64Array(this.counts.length);
    let n = 0;
    for (let i = 0; i < this.counts.length; i++) cumulative[i] = n += this.counts[i]!;
    return { bounds: this.bounds, cumulative, sum: this.total, count: this.observed };
  }
}

/**
 * A histogram's state at one moment, as Prometheus exposes it. Plain arrays do too: a snapshot can
 * be rebuilt from a scrape's `_bucket` lines (bounds from `le`, cumulative from the values).
 */
export interface HistogramSnapshot {
  /** Upper bounds of the finite buckets (shared with the histogram: do not modify). */
  readonly bounds: ArrayLike<number>;
  /** Cumulative counts: `cumulative[i]` observations were ≤ bounds[i]; the last slot (+Inf) equals count. */
  readonly cumulative: ArrayLike<number>;
  readonly sum: number;
  readonly count: number;
}

/**
 * Approximate `q`-quantile (0 ≤ q ≤ 1) of the observations made between two snapshots of one
 * histogram (`older` null: since it was created) — what Prometheus' histogram_quantile computes
 * over a rate: the bucket holding the rank, linearly interpolated within it (from 0 for the first
 * bucket). A rank in the +Inf bucket answers the highest finite bound. NaN when nothing was
 * observed in between. The web console uses it for a recent p50/p99 from two scrapes.
 */
export function quantileBetween(older: HistogramSnapshot | null, newer: HistogramSnapshot, q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be within [0, 1]: ${q}`);
  const { bounds, cumulative } = newer;
  if (older !== null && older.cumulative.length !== cumulative.length) throw new RangeError('snapshots of different histograms');
  const base = (i: number) => (older === null ? 0 : older.cumulative[i]!);
  const n = cumulative[cumulative.length - 1]! - base(cumulative.length - 1);
  if (!(n > 0)) return NaN;
  const rank = q * n;
  let below = 0;
  for (let i = 0; i < bounds.length; i++) {
    const upTo = cumulative[i]! - base(i);
    if (upTo >= rank && upTo > below) {
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      return lower + ((bounds[i]! - lower) * (rank - below)) / (upTo - below);
    }
    below = upTo;
  }
  return bounds.length > 0 ? bounds[bounds.length - 1]! : NaN;
}

/**
 * Bucket bounds for request and disk latencies, in seconds: 50 µs (an in-memory append) to 10 s
 * (a stalled disk), about ×2.5 apart, so a p99 is known within its bucket's width.
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
