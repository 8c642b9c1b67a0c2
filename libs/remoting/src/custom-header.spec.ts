import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '../test/arbitraries.js';
import {
  EncodeError,
  HeaderFieldError,
  optionalBool,
  optionalClampedLong,
  optionalInt,
  optionalLong,
  optionalString,
  requireBool,
  requireClampedLong,
  requireInt,
  requireLong,
  requireString,
  toExtFields,
} from './index.js';

function fieldError(fn: () => unknown): HeaderFieldError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HeaderFieldError);
    return e as HeaderFieldError;
  }
  throw new Error('expected a HeaderFieldError');
}

describe('custom header fields', () => {
  it('requireString / optionalString', () => {
    const ext = { topic: 'T', empty: '' };
    expect(requireString(ext, 'topic')).toBe('T');
    expect(requireString(ext, 'empty')).toBe('');
    expect(optionalString(ext, 'nope')).toBeUndefined();
    const e = fieldError(() => requireString(ext, 'consumerGroup'));
    expect(e.code).toBe('APG_REMOTING_BAD_FIELD');
    expect(e.field).toBe('consumerGroup');
    expect(e.problem).toBe('missing');
    expect(e.message).toContain('consumerGroup');
    // Inherited properties are not fields.
    fieldError(() => requireString(ext, 'toString'));
    fieldError(() => requireString(ext, '__proto__'));
  });

  it('requireInt parses Java ints and rejects the rest', () => {
    for (const [text, n] of [
      ['0', 0],
      ['-1', -1],
      ['+5', 5],
      ['007', 7],
      ['2147483647', 2147483647],
      ['-2147483648', -2147483648],
    ] as const) {
      expect(requireInt({ q: text }, 'q')).toBe(n);
    }
    for (const bad of ['', ' 1', '1 ', '1.5', '1e3', '0x10', 'abc', '2147483648', '-2147483649', '99999999999999999999', '+', '-', 'NaN', 'null']) {
      const e = fieldError(() => requireInt({ q: bad }, 'q'));
      expect(e.problem).toBe('invalid');
      expect(e.field).toBe('q');
    }
    expect(optionalInt({}, 'q')).toBeUndefined();
    expect(optionalInt({ q: '3' }, 'q')).toBe(3);
    fieldError(() => requireInt({}, 'queueId'));
  });

  it('requireLong reads every Java long and refuses, with a precise remark, one it cannot carry exactly', () => {
    expect(requireLong({ o: '1700000000123' }, 'o')).toBe(1700000000123);
    expect(requireLong({ o: '-1' }, 'o')).toBe(-1);
    expect(requireLong({ o: '+7' }, 'o')).toBe(7);
    expect(requireLong({ o: String(Number.MAX_SAFE_INTEGER) }, 'o')).toBe(Number.MAX_SAFE_INTEGER);
    expect(requireLong({ o: String(Number.MIN_SAFE_INTEGER) }, 'o')).toBe(Number.MIN_SAFE_INTEGER);
    for (const long of ['9007199254740992', '9223372036854775807', '-9223372036854775808']) {
      const e = fieldError(() => requireLong({ commitOffset: long }, 'commitOffset'));
      expect(e.problem).toBe('invalid');
      expect(e.message).toContain(
        `header field "commitOffset" is "${long}": a long, but beyond 2^53-1 in magnitude (9007199254740991), which this field cannot carry exactly`,
      );
    }
    for (const bad of ['9223372036854775808', '-9223372036854775809', '99999999999999999999', '1.0', '1e3', '', ' 1', '0x10', 'abc']) {
      expect(fieldError(() => requireLong({ o: bad }, 'o')).message, bad).toContain('is not a valid long');
    }
    expect(optionalLong({}, 'o')).toBeUndefined();
    expect(optionalLong({ o: '5' }, 'o')).toBe(5);
  });

  it('requireClampedLong reads every Java long, clamping past ±(2^53−1), and refuses anything else', () => {
    expect(requireClampedLong({ endTimestamp: '9223372036854775807' }, 'endTimestamp')).toBe(Number.MAX_SAFE_INTEGER);
    expect(requireClampedLong({ t: '-9223372036854775808' }, 't')).toBe(Number.MIN_SAFE_INTEGER);
    expect(requireClampedLong({ t: '9007199254740992' }, 't')).toBe(Number.MAX_SAFE_INTEGER);
    expect(requireClampedLong({ t: '1700000000123' }, 't')).toBe(1700000000123);
    expect(requireClampedLong({ t: '0' }, 't')).toBe(0);
    for (const bad of ['9223372036854775808', '-9223372036854775809', 'forever', '1.5']) {
      expect(fieldError(() => requireClampedLong({ t: bad }, 't')).message, bad).toContain('header field "t" is not a valid long');
    }
    expect(fieldError(() => requireClampedLong({}, 't')).problem).toBe('missing');
    expect(optionalClampedLong({}, 't')).toBeUndefined();
    expect(optionalClampedLong({ t: '9223372036854775807' }, 't')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('every long toExtFields writes from a bigint parses back: exactly, or clamped', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (big) => {
        const ext = toExtFields({ v: big });
        const safe = big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER);
        const clamped =
          big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : big < BigInt(Number.MIN_SAFE_INTEGER) ? Number.MIN_SAFE_INTEGER : Number(big);
        expect(requireClampedLong(ext, 'v')).toBe(clamped);
        if (safe) expect(requireLong(ext, 'v')).toBe(Number(big));
        else expect(() => requireLong(ext, 'v')).toThrow(HeaderFieldError);
      }),
      { numRuns: 300 },
    );
  });

  it('booleans are "true"/"false"', () => {
    expect(optionalBool({ b: 'true' }, 'b')).toBe(true);
    expect(optionalBool({ b: 'FALSE' }, 'b')).toBe(false);
    expect(optionalBool({}, 'b')).toBeUndefined();
    expect(requireBool({ b: 'True' }, 'b')).toBe(true);
    expect(fieldError(() => optionalBool({ b: 'yes' }, 'b')).problem).toBe('invalid');
    expect(fieldError(() => requireBool({}, 'b')).problem).toBe('missing');
  });

  it('toExtFields stringifies like Java and omits null/undefined', () => {
    expect(toExtFields({ a: 'x', d: 4, e: -1, g: 1700000000123, k: false, m: true, big: 2n ** 63n - 1n, n: null, u: undefined })).toEqual({
      a: 'x',
      d: '4',
      e: '-1',
      g: '1700000000123',
      k: 'false',
      m: 'true',
      big: '9223372036854775807',
    });
    expect(() => toExtFields({ x: Number.NaN })).toThrow(EncodeError);
    expect(() => toExtFields({ x: Infinity })).toThrow(EncodeError);
    expect(() => toExtFields({ x: 1e21 })).toThrow(EncodeError);
    // A computed '__proto__' key is an own field and stays one (no prototype change).
    const proto = toExtFields({ ['__proto__']: 1 });
    expect(Object.keys(proto)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
  });

  it('toExtFields → require* round-trips ints, longs and booleans', () => {
    fc.assert(
      fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.maxSafeInteger(), fc.boolean(), (i, l, b) => {
        const ext = toExtFields({ i, l, b });
        expect(requireInt(ext, 'i')).toBe(i);
        expect(requireLong(ext, 'l')).toBe(l);
        expect(requireBool(ext, 'b')).toBe(b);
      }),
      { numRuns: 300 },
    );
  });
});
