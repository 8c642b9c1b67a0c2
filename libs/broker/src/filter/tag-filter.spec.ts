import { javaStringHashCode } from '@apogee/message';
import { describe, expect, it } from 'vitest';
import { brokerError } from '../test-support.js';
import { parseSubscription, tagFilterOf } from './tag-filter.js';

describe('parseSubscription (FilterAPI)', () => {
  it.each(['*', '', '   ', undefined, ' * '])('treats %j as "every message"', (expr) => {
    const s = parseSubscription('T', expr);
    expect(s.tagsSet).toEqual([]);
    expect(s.codeSet).toEqual([]);
    expect(s.subString).toBe('*');
    expect(s.expressionType).toBe('TAG');
    expect(tagFilterOf(s)).toBeUndefined();
  });

  it('splits on ||, trims, drops empties and dedupes in first-seen order', () => {
    const s = parseSubscription('T', ' a || b ||a||  || c ', 'TAG', 7);
    expect(s.tagsSet).toEqual(['a', 'b', 'c']);
    expect(s.subString).toBe('a || b ||a||  || c');
    expect(s.subVersion).toBe(7);
    expect(s.topic).toBe('T');
  });

  it('computes tag codes as Java String.hashCode', () => {
    const s = parseSubscription('T', 'a || ab || TagA || 标签');
    // "a".hashCode() = 97, "ab".hashCode() = 97*31+98 = 3105
    expect(s.codeSet.slice(0, 2)).toEqual([97, 3105]);
    expect(s.codeSet).toEqual(s.tagsSet.map(javaStringHashCode));
    // Java overflows to a signed 32-bit int
    const long = parseSubscription('T', 'a-rather-long-tag-that-overflows');
    expect(Number.isInteger(long.codeSet[0])).toBe(true);
    expect(long.codeSet[0]! | 0).toBe(long.codeSet[0]);
  });

  it('accepts a lower-case or missing expression type as TAG', () => {
    expect(parseSubscription('T', 'a', 'tag').tagsSet).toEqual(['a']);
    expect(parseSubscription('T', 'a', '').tagsSet).toEqual(['a']);
  });

  it('compiles SQL92 (any case of the type) and refuses a bad one or an unknown type with SUBSCRIPTION_PARSE_FAILED', async () => {
    for (const type of ['SQL92', 'sql92']) {
      const s = parseSubscription('T', 'a > 1', type, 5);
      expect(s).toMatchObject({ expressionType: 'SQL92', subString: 'a > 1', tagsSet: [], codeSet: [], subVersion: 5 });
      expect(s.sql?.matches((n) => (n === 'a' ? '2' : undefined))).toBe(true);
    }
    await brokerError(() => parseSubscription('T', 'a >', 'SQL92'), 'SUBSCRIPTION_PARSE_FAILED');
    await brokerError(() => parseSubscription('T', '', 'SQL92'), 'SUBSCRIPTION_PARSE_FAILED');
    await brokerError(() => parseSubscription('T', 'a', 'REGEX'), 'SUBSCRIPTION_PARSE_FAILED');
  });

  it('rejects an expression that names no tag', async () => {
    await brokerError(() => parseSubscription('T', '||'), 'SUBSCRIPTION_PARSE_FAILED');
    await brokerError(() => parseSubscription('T', ' || || '), 'SUBSCRIPTION_PARSE_FAILED');
  });
});

describe('tagFilterOf', () => {
  it('matches exactly the codes of the subscribed tags', () => {
    const f = tagFilterOf(parseSubscription('T', 'a || b'))!;
    expect(f.matchByTagsCode(javaStringHashCode('a'))).toBe(true);
    expect(f.matchByTagsCode(javaStringHashCode('b'))).toBe(true);
    expect(f.matchByTagsCode(javaStringHashCode('c'))).toBe(false);
    expect(f.matchByTagsCode(0)).toBe(false);
  });
});
