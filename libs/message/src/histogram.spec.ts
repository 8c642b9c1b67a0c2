import { describe, expect, it } from 'vitest';
import { Histogram, LATENCY_BUCKETS_SECONDS, quantileBetween } from './histogram.js';

describe('Histogram', () => {
  it('counts each value in the first bucket whose bound is ≥ it, +Inf past the last', () => {
    const h = new Histogram([1, 2, 5]);
    for (const v of [0, 1, 1.5, 2, 4, 7, 100]) h.observe(v);
    const s = h.snapshot();
    expect(Array.from(s.cumulative)).toEqual([2, 4, 5, 7]);
    expect(s.count).toBe(7);
    expect(s.sum).toBe(115.5);
  });

  it('keeps a snapshot unchanged by later observations', () => {
    const h = new Histogram([1]);
    h.observe(0.5);
    const s = h.snapshot();
    h.observe(0.5);
    expect(Array.from(s.cumulative)).toEqual([1, 1]);
    expect(h.count).toBe(2);
  });

  it('ignores NaN and refuses unordered or infinite bounds', () => {
    const h = new Histogram([1]);
    h.observe(NaN);
    expect(h.count).toBe(0);
    expect(() => new Histogram([2, 1])).toThrow(RangeError);
    expect(() => new Histogram([1, 1])).toThrow(RangeError);
    expect(() => new Histogram([1, Infinity])).toThrow(RangeError);
  });

  it('has strictly ascending default latency buckets', () => {
    expect(() => new Histogram(LATENCY_BUCKETS_SECONDS)).not.toThrow();
  });
});

describe('quantileBetween', () => {
  it('interpolates within the bucket holding the rank', () => {
    const h = new Histogram([1, 2, 4]);
    for (let i = 0; i < 50; i++) h.observe(0.5);
    for (let i = 0; i < 50; i++) h.observe(3);
    const s = h.snapshot();
    expect(quantileBetween(null, s, 0.5)).toBe(1);
    expect(quantileBetween(null, s, 0.25)).toBe(0.5);
    expect(quantileBetween(null, s, 0.75)).toBe(3);
    expect(quantileBetween(null, s, 1)).toBe(4);
  });

  it('looks only at what was observed between the two snapshots', () => {
    const h = new Histogram([1, 2, 4]);
    for (let i = 0; i < 1000; i++) h.observe(0.1);
    const before = h.snapshot();
    for (let i = 0; i < 10; i++) h.observe(3.5);
    const after = h.snapshot();
    expect(quantileBetween(before, after, 0.5)).toBe(3);
    expect(quantileBetween(null, after, 0.5)).toBeLessThanOrEqual(1);
  });

  it('answers the highest finite bound for a rank in +Inf, NaN with nothing observed', () => {
    const h = new Histogram([1, 2]);
    const empty = h.snapshot();
    expect(quantileBetween(null, empty, 0.99)).toBeNaN();
    h.observe(50);
    expect(quantileBetween(empty, h.snapshot(), 0.99)).toBe(2);
    expect(quantileBetween(h.snapshot(), h.snapshot(), 0.5)).toBeNaN();
  });

  it('takes a snapshot rebuilt from a scrape (plain arrays)', () => {
    const older = { bounds: [0.001, 0.01], cumulative: [10, 10, 10], sum: 0.005, count: 10 };
    const newer = { bounds: [0.001, 0.01], cumulative: [10, 20, 20], sum: 0.1, count: 20 };
    expect(quantileBetween(older, newer, 0.5)).toBeCloseTo(0.0055, 10);
  });

  it('refuses a quantile outside [0, 1] and snapshots of different shapes', () => {
    const a = new Histogram([1]).snapshot();
    const b = new Histogram([1, 2]).snapshot();
    expect(() => quantileBetween(null, a, 1.5)).toThrow(RangeError);
    expect(() => quantileBetween(a, b, 0.5)).toThrow(RangeError);
  });
});
