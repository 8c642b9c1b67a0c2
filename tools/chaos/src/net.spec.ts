import { describe, expect, it } from 'vitest';
import { newRunId, randomMatchBytecode } from './net.js';

describe('network helpers', () => {
  it('makes 4-character run ids of [0-9a-z] (link names stay under 16 characters)', () => {
    for (let i = 0; i < 200; i++) expect(newRunId()).toMatch(/^[0-9a-z]{4}$/);
    expect(`apc${newRunId()}c`.length).toBeLessThanOrEqual(15);
  });

  it('writes the random-loss filter as classic BPF with the threshold for the percentage', () => {
    const threshold = (p: number): number => Number(randomMatchBytecode(p).split(',')[2]!.split(' ')[3]);
    expect(randomMatchBytecode(25)).toBe('4,32 0 0 4294963256,53 0 1 1073741824,6 0 0 0,6 0 0 4294967295');
    expect(threshold(0)).toBe(0);
    expect(threshold(100)).toBe(4_294_967_295);
    expect(threshold(150)).toBe(4_294_967_295);
  });
});
