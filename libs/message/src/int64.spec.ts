import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readInt64BE, writeInt64BE } from './int64.js';

describe('int64 helpers', () => {
  it.each([
    [0, '0000000000000000'],
    [1, '0000000000000001'],
    [-1, 'ffffffffffffffff'],
    [2 ** 31, '0000000080000000'],
    [-(2 ** 31), 'ffffffff80000000'],
    [2 ** 32 - 1, '00000000ffffffff'],
    [2 ** 32, '0000000100000000'],
    [-(2 ** 32), 'ffffffff00000000'],
    [-(2 ** 32) - 1, 'fffffffeffffffff'],
    [0x0102030405, '0000000102030405'],
    [Number.MAX_SAFE_INTEGER, '001fffffffffffff'],
    [Number.MIN_SAFE_INTEGER, 'ffe0000000000001'],
  ])('%d <-> %s', (v, hex) => {
    const b = Buffer.alloc(10, 0xaa);
    writeInt64BE(b, v, 1);
    expect(b.subarray(1, 9).toString('hex')).toBe(hex);
    expect(b[0]).toBe(0xaa);
    expect(b[9]).toBe(0xaa);
    expect(readInt64BE(b, 1)).toBe(v);
  });

  it('round-trips every safe integer, byte-identical to BigInt64', () => {
    fc.assert(
      fc.property(fc.oneof(fc.maxSafeInteger(), fc.integer(), fc.integer({ min: -(2 ** 33), max: 2 ** 33 })), (v) => {
        const a = Buffer.alloc(8);
        const b = Buffer.alloc(8);
        writeInt64BE(a, v, 0);
        b.writeBigInt64BE(BigInt(v));
        expect(a.equals(b)).toBe(true);
        expect(readInt64BE(a, 0)).toBe(v);
        expect(Object.is(readInt64BE(a, 0), -0)).toBe(false);
      }),
      { numRuns: 1000, seed: 3 },
    );
  });

  it('reads any 8 bytes holding a safe integer like BigInt64 does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.boolean(), (a, negative) => {
        const b = Buffer.from(a);
        // keep most values within ±2^53 so the comparison below runs
        b[0] = negative ? 0xff : 0;
        b[1] = negative ? b[1]! | 0xe0 : b[1]! & 0x1f;
        const big = b.readBigInt64BE(0);
        if (big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= BigInt(Number.MIN_SAFE_INTEGER)) expect(readInt64BE(b, 0)).toBe(Number(big));
      }),
      { numRuns: 300, seed: 4 },
    );
  });
});
