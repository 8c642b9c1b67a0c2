import { describe, expect, it } from 'vitest';
import { FrozenProperties } from './frozen-properties.js';

describe('FrozenProperties', () => {
  it('holds its entries and refuses every change', () => {
    const p = new FrozenProperties([
      ['TAGS', 'a'],
      ['KEYS', 'k'],
    ]);
    expect([...p]).toEqual([
      ['TAGS', 'a'],
      ['KEYS', 'k'],
    ]);
    expect(() => p.set('TAGS', 'b')).toThrow(/frozen/);
    expect(() => p.set('NEW', 'x')).toThrow(/frozen/);
    expect(() => p.delete('KEYS')).toThrow(/frozen/);
    expect(() => p.clear()).toThrow(/frozen/);
    expect(p.get('TAGS')).toBe('a');
    expect(p.size).toBe(2);
  });

  it('takes a set of the value a key already has, and a delete of a missing key, as no change', () => {
    const p = new FrozenProperties([['CLUSTER', 'c1']]);
    expect(p.set('CLUSTER', 'c1')).toBe(p);
    expect(p.delete('MISSING')).toBe(false);
    expect([...p]).toEqual([['CLUSTER', 'c1']]);
  });

  it('is a Map to code that only reads', () => {
    const p = new FrozenProperties([['A', '1']]);
    expect(p instanceof Map).toBe(true);
    expect(new Map(p).set('B', '2').size).toBe(2);
  });
});
