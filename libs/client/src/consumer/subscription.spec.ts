import { javaStringHashCode } from '@apogee/message';
import { describe, expect, it } from 'vitest';
import { MessageSelector, buildSubscription, matchesTags, subscriptionData } from './subscription.js';

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

  it('an SQL92 selector is sent as written and left to the broker (no client-side tag check)', () => {
    const s = buildSubscription('T', MessageSelector.bySql("a > 5 AND TAGS = 'x'"), 3);
    expect(s).toMatchObject({ expressionType: 'SQL92', expression: "a > 5 AND TAGS = 'x'", all: false, tagsSet: [], codeSet: [] });
    expect(matchesTags(s, undefined)).toBe(true);
    expect(matchesTags(s, 'y')).toBe(true);
    expect(subscriptionData(s)).toMatchObject({ expressionType: 'SQL92', subString: "a > 5 AND TAGS = 'x'", subVersion: 3 });
  });

  it('a TAG selector object behaves like the string', () => {
    const s = buildSubscription('T', MessageSelector.byTag('a || b'), 1);
    expect(s).toMatchObject({ expressionType: 'TAG', tagsSet: ['a', 'b'] });
    expect(subscriptionData(s).expressionType).toBe('TAG');
  });
});
