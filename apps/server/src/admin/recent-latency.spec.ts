import { Histogram } from '@apogee/message';
import { describe, expect, it } from 'vitest';
import { recentLatencyMs } from './recent-latency.js';

describe('recentLatencyMs', () => {
  it('is null while nothing was observed and follows only the last window of reads', () => {
    const h = new Histogram([0.001, 0.01, 0.1, 1]);
    const read = recentLatencyMs(h, 2);
    expect(read()).toBeNull();
    for (let i = 0; i < 100; i++) h.observe(0.5);
    const slow = read()!;
    expect(slow.p50).toBeGreaterThan(100);
    expect(slow.p50).toBeLessThanOrEqual(1000);
    for (let i = 0; i < 100; i++) h.observe(0.0005);
    read();
    // The slow observations are out of the window now: only the fast ones remain.
    for (let i = 0; i < 10; i++) h.observe(0.0005);
    const fast = read()!;
    expect(fast.p99).toBeLessThanOrEqual(1);
    // Two reads with nothing new: the window holds no observation any more.
    expect(read()).not.toBeNull();
    expect(read()).toBeNull();
  });
});
