import { describe, expect, it } from 'vitest';
import { mutate } from './mutate.js';
import { Prng } from './prng.js';

describe('Prng', () => {
  it('is deterministic per seed and spreads over its range', () => {
    const a = new Prng(7);
    const b = new Prng(7);
    const xs = Array.from({ length: 1000 }, () => a.int(10));
    expect(Array.from({ length: 1000 }, () => b.int(10))).toEqual(xs);
    for (let v = 0; v < 10; v++) expect(xs.filter((x) => x === v).length).toBeGreaterThan(50);
    expect(new Prng(8).next()).not.toBe(new Prng(7).next());
  });
});

describe('mutate', () => {
  const sample = { bytes: Buffer.from('000000100000000c0102030405060708090a0b0c', 'hex'), lengthWords: [0, 4], lengthBytes: [9] };

  it('never changes its input and reproduces per seed', () => {
    const copy = Buffer.from(sample.bytes);
    const one = Array.from({ length: 200 }, (_, i) => mutate(sample, new Prng(i)));
    const two = Array.from({ length: 200 }, (_, i) => mutate(sample, new Prng(i)));
    expect(sample.bytes).toEqual(copy);
    expect(two).toEqual(one);
  });

  it('uses every kind of mutation and changes the frame', () => {
    const rng = new Prng(1);
    const kinds = new Set<string>();
    let changed = 0;
    for (let i = 0; i < 600; i++) {
      const m = mutate(sample, rng);
      kinds.add(m.mutation);
      if (!m.bytes.equals(sample.bytes)) changed++;
    }
    expect([...kinds].sort()).toEqual(['bit-flip', 'duplicate', 'garbage', 'insert', 'lying-length', 'truncate']);
    expect(changed).toBeGreaterThan(550);
  });

  it('a lying length lands on a declared length field', () => {
    const rng = new Prng(3);
    for (let i = 0; i < 300; i++) {
      const m = mutate(sample, rng);
      if (m.mutation !== 'lying-length') continue;
      const diff = [...m.bytes.keys()].filter((k) => m.bytes[k] !== sample.bytes[k]);
      expect(diff.every((k) => k < 8 || k === 9)).toBe(true);
    }
  });
});
