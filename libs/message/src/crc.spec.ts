import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32Masked } from './crc.js';

const TABLE = (() => {
  const t: number[] = [];
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t.push(c >>> 0);
  }
  return t;
})();

/** Bitwise-table CRC-32 (IEEE 802.3, reflected, init and final xor 0xFFFFFFFF), unmasked. */
function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) c = TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

describe('crc32Masked', () => {
  it('check value of CRC-32: crc32("123456789") = 0xCBF43926, masked to 31 bits', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32Masked(Buffer.from('123456789'))).toBe(0x4bf43926);
  });

  it('known values', () => {
    expect(crc32Masked(Buffer.alloc(0))).toBe(0);
    // crc32("hello") = 0x3610A686 (top bit clear, mask is a no-op)
    expect(crc32Masked(Buffer.from('hello'))).toBe(0x3610a686);
    // crc32("The quick brown fox jumps over the lazy dog") = 0x414FA339
    expect(crc32Masked(Buffer.from('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
    // crc32 of one zero byte = 0xD202EF8D -> masked 0x5202EF8D
    expect(crc32Masked(Buffer.from([0]))).toBe(0x5202ef8d);
  });

  it('start / end select a range', () => {
    const b = Buffer.from('xx123456789yy');
    expect(crc32Masked(b, 2, 11)).toBe(0x4bf43926);
    expect(crc32Masked(b, 2)).toBe(crc32Masked(Buffer.from('123456789yy')));
    expect(crc32Masked(b, 5, 5)).toBe(0);
  });

  it('agrees with a table implementation and is never negative', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(), fc.nat(), (a, x, y) => {
        const b = Buffer.from(a);
        const s = Math.min(x, y) % (b.length + 1);
        const e = s + ((Math.max(x, y) - Math.min(x, y)) % (b.length - s + 1));
        const v = crc32Masked(b, s, e);
        expect(v).toBe(crc32(b.subarray(s, e)) & 0x7fffffff);
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(0x7fffffff);
      }),
      { numRuns: 300, seed: 1 },
    );
  });
});
