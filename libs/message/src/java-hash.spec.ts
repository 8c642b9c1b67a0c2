import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { javaStringHashCode } from './java-hash.js';

/** Reference: Σ s[i]·31^(n−1−i) over UTF-16 code units with BigInt, wrapped to a signed 32-bit int. */
function refHash(s: string): number {
  let h = 0n;
  for (let i = 0; i < s.length; i++) h = h * 31n + BigInt(s.charCodeAt(i));
  return Number(BigInt.asIntN(32, h));
}

describe('javaStringHashCode (Java String.hashCode)', () => {
  // Values computed independently (Python, UTF-16 code units, 32-bit wrap).
  it.each([
    ['', 0],
    ['TagA', 2598919],
    ['TagB', 2598920],
    ['hello', 99162322],
    ['hello world', 1794106052],
    ['Aa', 2112],
    ['BB', 2112],
    ['é', 233],
    ['日本', 835047],
    ['😀', 1772899], // surrogate pair: two code units
    ['MQTT_COMMON', -392179866], // overflows to negative
    ['abcdefghijklmnopqrstuvwxyz', 958031277], // overflows several times
    ['polygenelubricants', -2147483648], // Integer.MIN_VALUE
  ])('hashCode(%j) = %i', (s, h) => {
    expect(javaStringHashCode(s)).toBe(h);
  });

  it('matches the BigInt reference and stays a signed 32-bit int', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), fc.string({ unit: 'grapheme', maxLength: 64 }), (a, b) => {
        for (const s of [a, b, a + b]) {
          const h = javaStringHashCode(s);
          expect(h).toBe(refHash(s));
          expect(h | 0).toBe(h);
        }
      }),
      { numRuns: 300, seed: 2 },
    );
  });
});
