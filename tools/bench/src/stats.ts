/** Order statistics over a sample of measurements. No I/O. */

/** The value at quantile q (0..1) by linear interpolation between closest ranks. */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) throw new RangeError('percentile of an empty sample');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile ${q} is outside [0, 1]`);
  const sorted = [...samples].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 0.5);
}

export function min(samples: readonly number[]): number {
  if (samples.length === 0) throw new RangeError('min of an empty sample');
  let m = samples[0]!;
  for (const s of samples) if (s < m) m = s;
  return m;
}

export function max(samples: readonly number[]): number {
  if (samples.length === 0) throw new RangeError('max of an empty sample');
  let m = samples[0]!;
  for (const s of samples) if (s > m) m = s;
  return m;
}

/** Median, extremes and count of one sample. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarize(samples: readonly number[]): Summary {
  return { median: median(samples), min: min(samples), max: max(samples), runs: samples.length };
}
