import { describe, expect, it } from 'vitest';
import { PartialFrameBudget } from './partial-frame-budget.js';

describe('PartialFrameBudget', () => {
  it('sums what each connection holds and names the one holding the most once over the limit', () => {
    const b = new PartialFrameBudget<string>(100);
    expect(b.update('a', 40)).toBeNull();
    expect(b.update('b', 50)).toBeNull();
    expect(b.totalBytes).toBe(90);
    expect(b.update('c', 30)).toBe('b'); // 120 > 100: b holds the most
    b.remove('b');
    expect(b.totalBytes).toBe(70);
    expect(b.update('a', 0)).toBeNull(); // a's frame completed
    expect(b.totalBytes).toBe(30);
    expect(b.update('c', 101)).toBe('c');
  });
});
