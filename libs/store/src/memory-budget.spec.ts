import { describe, expect, it } from 'vitest';
import { DEFAULTS } from './config.js';
import { DEFAULT_MEMORY_BUDGET_BYTES, MIN_MEMORY_BUDGET_BYTES, splitMemoryBudget } from './memory-budget.js';

const MiB = 1024 * 1024;

describe('memory budget', () => {
  it('gives half to the hot tail and a quarter each to the index cache and the record cache', () => {
    expect(splitMemoryBudget(64 * MiB)).toEqual({ hotTailBytes: 32 * MiB, indexCacheBytes: 16 * MiB, recordCacheBytes: 16 * MiB });
  });

  it('hands out exactly the total, whatever its remainder', () => {
    for (const total of [MIN_MEMORY_BUDGET_BYTES, 100 * MiB + 3, 1000 * MiB + 1]) {
      const s = splitMemoryBudget(total);
      expect(s.hotTailBytes + s.indexCacheBytes + s.recordCacheBytes).toBe(total);
    }
  });

  it('is what the store defaults are made of', () => {
    const s = splitMemoryBudget(DEFAULT_MEMORY_BUDGET_BYTES);
    expect(DEFAULTS.hotTailBytes).toBe(s.hotTailBytes);
    expect(DEFAULTS.indexCacheBytes).toBe(s.indexCacheBytes);
  });

  it('refuses a total too small to share or not an integer', () => {
    expect(() => splitMemoryBudget(MIN_MEMORY_BUDGET_BYTES - 1)).toThrow(RangeError);
    expect(() => splitMemoryBudget(10 * MiB + 0.5)).toThrow(/integer/);
  });
});
