import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWildcardFilter, matches } from './match.js';
import { anyFilter, anyTopic, smallFilter, smallTopic } from './test-arbitraries.js';

/** The textbook definition, level arrays and recursion, to check the allocation-free `matches`. */
function reference(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('#') || filter.startsWith('+'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  const go = (i: number, j: number): boolean => {
    if (i === f.length) return j === t.length;
    if (f[i] === '#') return true;
    if (j === t.length) return false;
    return (f[i] === '+' || f[i] === t[j]) && go(i + 1, j + 1);
  };
  return go(0, 0);
}

describe('matches', () => {
  it('follows the examples of MQTT §4.7.1', () => {
    // '#': sport/tennis/player1/# [MQTT-4.7.1-2]
    for (const t of ['sport/tennis/player1', 'sport/tennis/player1/ranking', 'sport/tennis/player1/score/wimbledon'])
      expect(matches('sport/tennis/player1/#', t)).toBe(true);
    expect(matches('sport/#', 'sport')).toBe(true);
    expect(matches('sport/tennis/#', 'sport/tennis')).toBe(true);
    expect(matches('sport/tennis/#', 'sport/tenni')).toBe(false);
    // '+': one level only
    expect(matches('sport/tennis/+', 'sport/tennis/player1')).toBe(true);
    expect(matches('sport/tennis/+', 'sport/tennis/player1/ranking')).toBe(false);
    expect(matches('sport/+', 'sport')).toBe(false);
    expect(matches('sport/+', 'sport/')).toBe(true);
    expect(matches('+/+', '/finance')).toBe(true);
    expect(matches('/+', '/finance')).toBe(true);
    expect(matches('+', '/finance')).toBe(false);
    expect(matches('#', 'a/b/c')).toBe(true);
    expect(matches('+/tennis/#', 'sport/tennis/player1')).toBe(true);
  });

  it('does not match $ topics with a leading wildcard [MQTT-4.7.2-1]', () => {
    expect(matches('#', '$SYS/monitor/Clients')).toBe(false);
    expect(matches('+/monitor/Clients', '$SYS/monitor/Clients')).toBe(false);
    expect(matches('+', '$SYS')).toBe(false);
    expect(matches('$SYS/#', '$SYS/monitor/Clients')).toBe(true);
    expect(matches('$SYS/#', '$SYS')).toBe(true);
    expect(matches('$SYS/monitor/+', '$SYS/monitor/Clients')).toBe(true);
    // Only the first character counts: a later $ level is an ordinary level.
    expect(matches('a/+', 'a/$b')).toBe(true);
    expect(matches('#', 'a/$b')).toBe(true);
  });

  it('compares empty levels and exact names', () => {
    expect(matches('a//b', 'a//b')).toBe(true);
    expect(matches('a/+/b', 'a//b')).toBe(true);
    expect(matches('a/b', 'a//b')).toBe(false);
    expect(matches('/', '/')).toBe(true);
    expect(matches('+/+', '/')).toBe(true);
    expect(matches('#', '/')).toBe(true);
    expect(matches('/#', '/')).toBe(true);
    expect(matches('/#', 'a')).toBe(false);
    expect(matches('a', 'a/')).toBe(false);
    expect(matches('a/', 'a')).toBe(false);
    expect(matches('a/#', 'a/')).toBe(true);
    expect(matches('ab', 'a')).toBe(false);
    expect(matches('a', 'ab')).toBe(false);
    expect(matches('Ä/😀', 'Ä/😀')).toBe(true);
  });

  it('agrees with the textbook definition', () => {
    fc.assert(
      fc.property(smallFilter, smallTopic, (f, t) => {
        expect(matches(f, t)).toBe(reference(f, t));
      }),
      { numRuns: 3000, seed: 11 },
    );
    fc.assert(
      fc.property(anyFilter(), anyTopic(), (f, t) => {
        expect(matches(f, t)).toBe(reference(f, t));
      }),
      { numRuns: 500, seed: 12 },
    );
  });

  it('matches every topic name against itself', () => {
    fc.assert(
      fc.property(anyTopic(), (t) => {
        expect(matches(t, t)).toBe(true);
      }),
      { numRuns: 300, seed: 13 },
    );
  });
});

describe('isWildcardFilter', () => {
  it('spots + and # levels', () => {
    expect(isWildcardFilter('a/b')).toBe(false);
    expect(isWildcardFilter('/')).toBe(false);
    for (const f of ['#', '+', 'a/+', 'a/#', '+/a', 'a/+/b']) expect(isWildcardFilter(f)).toBe(true);
  });
});
