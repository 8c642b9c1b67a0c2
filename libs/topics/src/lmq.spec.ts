import { IllegalNameError, MAX_LMQ_NAME_BYTES, parseMultiDispatch, validateLmqName } from '@apogee/message';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidTopicError } from './errors.js';
import { nameHash } from './escape.js';
import { filterOfLmq, isShortenedLmq, lmqOf } from './lmq.js';
import { anyFilter, anyLevel, anyText } from './test-arbitraries.js';

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

describe('lmqOf', () => {
  it('names LMQs like rocketmq-mqtt', () => {
    expect(lmqOf('a/b/c')).toBe('%LMQ%a%b%c%');
    expect(lmqOf('a/+/c')).toBe('%LMQ%a%+%c%');
    expect(lmqOf('a/#')).toBe('%LMQ%a%#%');
    expect(lmqOf('a')).toBe('%LMQ%a%');
    expect(lmqOf('#')).toBe('%LMQ%#%');
    expect(lmqOf('$SYS/x')).toBe('%LMQ%$SYS%x%');
    expect(lmqOf('home/kitchen light/😀')).toBe('%LMQ%home%kitchen light%😀%');
  });

  it('keeps empty levels apart', () => {
    expect(lmqOf('/a')).toBe('%LMQ%%a%');
    expect(lmqOf('a/')).toBe('%LMQ%a%%');
    expect(lmqOf('a//b')).toBe('%LMQ%a%%b%');
    expect(lmqOf('/')).toBe('%LMQ%%%');
    expect(lmqOf('//')).toBe('%LMQ%%%%');
  });

  it("escapes '%', '~', ',' and controls inside a level as ~XX", () => {
    expect(lmqOf('a%b/c')).toBe('%LMQ%a~25b%c%');
    expect(lmqOf('a/25b/c')).toBe('%LMQ%a%25b%c%');
    expect(lmqOf('~/x,y')).toBe('%LMQ%~7E%x~2Cy%');
    expect(lmqOf('a\u0001/\u007f')).toBe('%LMQ%a~01%~7F%');
    expect(lmqOf('%/%')).toBe('%LMQ%~25%~25%');
  });

  it('always yields a valid LMQ name that INNER_MULTI_DISPATCH can carry', () => {
    fc.assert(
      fc.property(fc.array(anyFilter(), { minLength: 1, maxLength: 5 }), (filters) => {
        const names = [...new Set(filters)].map(lmqOf);
        for (const n of names) expect(validateLmqName(n)).toBe(n);
        expect(parseMultiDispatch(names.join(','))).toEqual(names);
      }),
      { numRuns: 500, seed: 51 },
    );
  });

  it('is injective and inverted by filterOfLmq', () => {
    fc.assert(
      fc.property(anyFilter(), (f) => {
        expect(filterOfLmq(lmqOf(f))).toBe(f);
      }),
      { numRuns: 1000, seed: 52 },
    );
    fc.assert(
      fc.property(anyFilter(), anyFilter(), (a, b) => {
        fc.pre(a !== b);
        expect(lmqOf(a)).not.toBe(lmqOf(b));
      }),
      { numRuns: 1000, seed: 53 },
    );
  });

  it(`is exact up to ${MAX_LMQ_NAME_BYTES} bytes and hash-shortened past them`, () => {
    // '%LMQ%' + level + '%' = 1024 bytes.
    for (const level of ['a'.repeat(1018), 'é'.repeat(509), `a${'%'.repeat(339)}`, `ab${'😀'.repeat(254)}`]) {
      const name = lmqOf(level);
      expect(bytes(name)).toBe(MAX_LMQ_NAME_BYTES);
      expect(isShortenedLmq(name)).toBe(false);
      expect(validateLmqName(name)).toBe(name);
      expect(filterOfLmq(name)).toBe(level);
    }
    for (const level of ['a'.repeat(1019), 'é'.repeat(510), `ab${'%'.repeat(339)}`, `abc${'😀'.repeat(254)}`, 'x/'.repeat(32_000)]) {
      const name = lmqOf(level);
      expect(isShortenedLmq(name)).toBe(true);
      expect(bytes(name)).toBeLessThanOrEqual(MAX_LMQ_NAME_BYTES);
      expect(bytes(name)).toBeGreaterThan(MAX_LMQ_NAME_BYTES - 4);
      expect(validateLmqName(name)).toBe(name);
      expect(name.endsWith(`~H${nameHash(level)}%`)).toBe(true);
      expect(filterOfLmq(name)).toBeUndefined();
      expect(lmqOf(level)).toBe(name);
    }
    expect(lmqOf('a'.repeat(1019))).toBe(`%LMQ%${'a'.repeat(984)}~H${nameHash('a'.repeat(1019))}%`);
    // The cut does not split a ~XX escape.
    expect(lmqOf(`${'a'.repeat(983)}%${'b'.repeat(100)}`)).toBe(`%LMQ%${'a'.repeat(983)}~H${nameHash(`${'a'.repeat(983)}%${'b'.repeat(100)}`)}%`);
  });

  it('gives distinct shortened names to long filters that share a prefix', () => {
    const stem = 'levels/'.repeat(200);
    fc.assert(
      fc.property(anyLevel(), anyLevel(), (a, b) => {
        fc.pre(a !== b);
        const x = lmqOf(stem + a);
        expect(isShortenedLmq(x)).toBe(true);
        expect(x).not.toBe(lmqOf(stem + b));
      }),
      { numRuns: 300, seed: 54 },
    );
  });

  it('refuses invalid filters with InvalidTopicError', () => {
    for (const f of ['', 'a/#/b', 'a+', 'a\u0000', '\ud800']) expect(() => lmqOf(f)).toThrow(InvalidTopicError);
  });
});

describe('filterOfLmq', () => {
  it('answers undefined for anything lmqOf does not produce', () => {
    for (const n of [
      '',
      '%LMQ%',
      '%LMQ%%',
      '%LMQ%a',
      'a%b%',
      '%RETRY%g',
      '%LMQ%a~7e%',
      '%LMQ%~61%',
      '%LMQ%a,b%',
      '%LMQ%a%#%b%',
      '%LMQ%a+%',
      `%LMQ%a~H${nameHash('a')}%`,
    ]) {
      expect(filterOfLmq(n)).toBeUndefined();
    }
    expect(filterOfLmq(42 as unknown as string)).toBeUndefined();
  });

  it('returns a filter only when lmqOf maps it back to the same name', () => {
    fc.assert(
      fc.property(anyText({ maxLength: 16 }), (s) => {
        const name = `%LMQ%${s}`;
        const f = filterOfLmq(name);
        if (f !== undefined) expect(lmqOf(f)).toBe(name);
      }),
      { numRuns: 1000, seed: 55 },
    );
  });

  it('is the rocketmq-mqtt reading of plain names', () => {
    expect(filterOfLmq('%LMQ%a%b%c%')).toBe('a/b/c');
    expect(filterOfLmq('%LMQ%a%+%c%')).toBe('a/+/c');
    expect(filterOfLmq('%LMQ%a%#%')).toBe('a/#');
    expect(filterOfLmq('%LMQ%%%')).toBe('/');
  });
});

describe('validateLmqName (libs/message) as used here', () => {
  it('still refuses what lmqOf escapes', () => {
    expect(() => validateLmqName('%LMQ%a,b%')).toThrow(IllegalNameError);
    expect(() => validateLmqName('%LMQ%a\u0001%')).toThrow(IllegalNameError);
  });
});
