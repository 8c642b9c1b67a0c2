import { describe, expect, it } from 'vitest';
import { max, median, min, percentile, summarize } from '../src/stats.js';

describe('stats', () => {
  it('takes the middle value of an odd sample and the mean of the middle two of an even one', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it('interpolates percentiles between closest ranks', () => {
    expect(percentile([10, 20, 30, 40, 50], 0)).toBe(10);
    expect(percentile([10, 20, 30, 40, 50], 1)).toBe(50);
    expect(percentile([10, 20, 30, 40, 50], 0.9)).toBeCloseTo(46);
  });

  it('does not reorder its input', () => {
    const s = [3, 1, 2];
    median(s);
    expect(s).toEqual([3, 1, 2]);
  });

  it('summarizes', () => {
    expect(summarize([2, 9, 4])).toEqual({ median: 4, min: 2, max: 9, runs: 3 });
    expect(min([2, -1])).toBe(-1);
    expect(max([2, -1])).toBe(2);
  });

  it('refuses empty samples and bad quantiles', () => {
    expect(() => median([])).toThrow(RangeError);
    expect(() => percentile([1], 1.5)).toThrow(RangeError);
  });
});
