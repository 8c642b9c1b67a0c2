import { javaStringHashCode } from '@apogee/message';
import { describe, expect, it } from 'vitest';
import { buildSubscription, matchesTags } from './subscription.js';

describe('subscription expressions', () => {
  it('"*", "" and undefined select everything, untagged messages included', () => {
    for (const e of ['*', '', '  ', undefined]) {
      const s = buildSubscription('T', e, 1);
      expect(s).toMatchObject({ all: true, expression: '*', tagsSet: [], codeSet: [] });
      expect(matchesTags(s, undefined)).toBe(true);
    }
  });

  it('splits on ||, trims, drops empties, hashes like Java', () => {
    const s = buildSubscription('T', ' a || b ||  || a', 7);
    expect(s.tagsSet).toEqual(['a', 'b']);
    expect(s.codeSet).toEqual([javaStringHashCode('a'), javaStringHashCode('b')]);
    expect(s.subVersion).toBe(7);
    expect(matchesTags(s, 'a')).toBe(true);
    expect(matchesTags(s, 'c')).toBe(false);
    expect(matchesTags(s, undefined)).toBe(false);
  });
});
