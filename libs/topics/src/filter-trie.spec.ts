import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidTopicError } from './errors.js';
import { FilterTrie } from './filter-trie.js';
import { matches } from './match.js';
import { anyFilter, anyTopic, smallFilter, smallTopic } from './test-arbitraries.js';

const sorted = (a: Iterable<string>): string[] => [...a].sort();

describe('FilterTrie', () => {
  it('returns every distinct matching filter, the exact topic included', () => {
    const trie = new FilterTrie();
    for (const f of ['a/b/c', 'a/+/c', 'a/#', '#', '+/+/+', 'a/b', 'a/b/c/#', 'b/#', '+', '$SYS/#', '$SYS/+', 'a//c', '/#']) trie.add(f);
    expect(sorted(trie.match('a/b/c'))).toEqual(sorted(['a/b/c', 'a/+/c', 'a/#', '#', '+/+/+', 'a/b/c/#']));
    expect(sorted(trie.match('a'))).toEqual(sorted(['a/#', '#', '+']));
    expect(sorted(trie.match('a//c'))).toEqual(sorted(['a//c', 'a/+/c', 'a/#', '#', '+/+/+']));
    expect(sorted(trie.match('/x'))).toEqual(sorted(['/#', '#']));
    expect(sorted(trie.match('$SYS/load'))).toEqual(sorted(['$SYS/#', '$SYS/+']));
    expect(sorted(trie.match('$SYS'))).toEqual(['$SYS/#']);
    expect(trie.match('zzz/y')).toEqual(['#']);
  });

  it('counts references: a filter stays until its last subscription goes', () => {
    const trie = new FilterTrie();
    expect(trie.add('a/+')).toBe(true);
    expect(trie.add('a/+')).toBe(false);
    expect(trie.add('a/#')).toBe(true);
    expect(trie.size).toBe(2);
    expect(trie.refCount('a/+')).toBe(2);
    expect(trie.remove('a/+')).toBe(false);
    expect(trie.has('a/+')).toBe(true);
    expect(trie.match('a/b').sort()).toEqual(['a/#', 'a/+']);
    expect(trie.remove('a/+')).toBe(true);
    expect(trie.has('a/+')).toBe(false);
    expect(trie.remove('a/+')).toBe(false);
    expect(trie.size).toBe(1);
    expect(trie.match('a/b')).toEqual(['a/#']);
    expect(trie.remove('never/added')).toBe(false);
    expect(trie.remove('a/#/b')).toBe(false);
    expect(trie.remove(42 as unknown as string)).toBe(false);
    expect(trie.refCount('a')).toBe(0);
  });

  it('keeps a prefix filter when a longer one is removed, and the longer one when the prefix goes', () => {
    const trie = new FilterTrie();
    trie.add('a');
    trie.add('a/b/c');
    trie.add('a/b/#');
    trie.remove('a/b/c');
    expect(sorted(trie)).toEqual(['a', 'a/b/#']);
    trie.remove('a');
    expect(trie.match('a/b/c')).toEqual(['a/b/#']);
    expect(trie.match('a')).toEqual([]);
    trie.remove('a/b/#');
    expect(trie.size).toBe(0);
    expect([...trie]).toEqual([]);
  });

  it('iterates filters and counts, and clears', () => {
    const trie = new FilterTrie();
    for (const f of ['#', '+', 'a', 'a', '/', '+/#', 'a/+/#']) trie.add(f);
    expect(sorted(trie)).toEqual(sorted(['#', '+', 'a', '/', '+/#', 'a/+/#']));
    expect(new Map(trie.entries()).get('a')).toBe(2);
    expect(trie.size).toBe(6);
    trie.clear();
    expect(trie.size).toBe(0);
    expect(trie.match('a')).toEqual([]);
    trie.add('a');
    expect(trie.match('a')).toEqual(['a']);
  });

  it('validates filters on add with its limits', () => {
    const trie = new FilterTrie({ maxTopicLevels: 2 });
    expect(() => trie.add('a/#/b')).toThrow(InvalidTopicError);
    expect(() => trie.add('a/b/c')).toThrow(InvalidTopicError);
    expect(() => trie.add('')).toThrow(InvalidTopicError);
    expect(trie.size).toBe(0);
    expect(trie.add('a/b')).toBe(true);
  });

  it('handles topics of 65,534 levels without overflowing the stack', () => {
    const trie = new FilterTrie();
    const deep = '/'.repeat(65_533);
    trie.add('#');
    trie.add(`${deep}/#`);
    trie.add('+/#');
    expect(sorted(trie.match(deep))).toEqual(sorted(['#', `${deep}/#`, '+/#']));
  });

  it('agrees with matches() over random filters, removals and topics', () => {
    const run = (filterArb: fc.Arbitrary<string>, topicArb: fc.Arbitrary<string>, seed: number, numRuns: number): void => {
      fc.assert(
        fc.property(
          fc.array(filterArb, { maxLength: 40 }),
          fc.array(fc.nat(), { maxLength: 20 }),
          fc.array(topicArb, { minLength: 1, maxLength: 20 }),
          (filters, removals, topics) => {
            const trie = new FilterTrie();
            const counts = new Map<string, number>();
            for (const f of filters) {
              expect(trie.add(f)).toBe(!counts.has(f));
              counts.set(f, (counts.get(f) ?? 0) + 1);
            }
            for (const r of removals) {
              if (filters.length === 0) break;
              const f = filters[r % filters.length]!;
              const n = counts.get(f) ?? 0;
              expect(trie.remove(f)).toBe(n === 1);
              if (n === 1) counts.delete(f);
              else if (n > 1) counts.set(f, n - 1);
            }
            expect(trie.size).toBe(counts.size);
            expect(new Map(trie.entries())).toEqual(counts);
            for (const t of [...topics, ...filters.filter((f) => !/[+#]/.test(f))]) {
              const got = trie.match(t);
              expect(new Set(got).size).toBe(got.length);
              expect(got.sort()).toEqual([...counts.keys()].filter((f) => matches(f, t)).sort());
            }
          },
        ),
        { numRuns, seed },
      );
    };
    run(smallFilter, smallTopic, 21, 500);
    run(anyFilter(), anyTopic(), 22, 200);
  });
});
