import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '../test/arbitraries.js';
import {
  EncodeError,
  HeaderFieldError,
  optionalBool,
  optionalInt,
  optionalLong,
  optionalString,
  requireBool,
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

  it('requireLong accepts safe integers only', () => {
    expect(requireLong({ o: '1700000000123' }, 'o')).toBe(1700000000123);
    expect(requireLong({ o: '-1' }, 'o')).toBe(-1);
    expect(requireLong({ o: String(Number.MAX_SAFE_INTEGER) }, 'o')).toBe(Number.MAX_SAFE_INTEGER);
    fieldError(() => requireLong({ o: '9007199254740992' }, 'o'));
    fieldError(() => requireLong({ o: '9223372036854775807' }, 'o'));
    fieldError(() => requireLong({ o: '1.0' }, 'o'));
    expect(optionalLong({}, 'o')).toBeUndefined();
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
