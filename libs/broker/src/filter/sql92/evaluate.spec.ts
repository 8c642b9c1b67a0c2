import { encodeHost, encodeProperties, encodeStandaloneRecord, javaStringHashCode, type RecordInput } from '@apogee/message';
import { describe, expect, it } from 'vitest';
import { compileSql92, sql92MessageFilter } from './index.js';

const props = (p: Record<string, string>) => (name: string) => p[name];
const matches = (expr: string, p: Record<string, string> = {}) => compileSql92(expr).matches(props(p));

describe('SQL92 evaluation: missing properties (three-valued logic)', () => {
  it.each([
    ['a = 5', false],
    ['a <> 5', false],
    ['NOT (a = 5)', false],
    ['a IS NULL', true],
    ['a IS NOT NULL', false],
    ["a IN ('x')", false],
    ["a NOT IN ('x')", false],
    ['a BETWEEN 1 AND 3', false],
    ['a NOT BETWEEN 1 AND 3', false],
    ['a > 1 OR TRUE', true],
    ['a > 1 OR FALSE', false],
    ['NOT (a > 1 OR FALSE)', false],
    ['a > 1 AND FALSE', false],
    ['NOT (a > 1 AND FALSE)', true],
    ['NOT (a > 1 AND TRUE)', false],
    ['a', false],
    ['NOT a', false],
    ['NULL', false],
    ["a CONTAINS 'x'", false],
    ["a NOT CONTAINS 'x'", false],
    ["a STARTSWITH 'x'", false],
    ["a NOT ENDSWITH 'x'", false],
  ])('%s on a message without a → %s', (expr, expected) => {
    expect(matches(expr, { b: '1' })).toBe(expected);
  });
});

describe('SQL92 evaluation: coercion of string properties', () => {
  it.each([
    ['a = 10', '10', true],
    ['a = 10.0', '10', true],
    ['a = 10', '10.0', false],
    ['a > 5', '5.5', false],
    ['a > 5.0', '5.5', true],
    ['a > 5', '6', true],
    ['a > 5', ' 6', false],
    ['a > 5.0', ' 6 ', true],
    ['a > 5', 'abc', false],
    ['a <> 5', 'abc', false],
    ['a > 5', '3000000000', false],
    ['a > 2147483648', '3000000000', true],
    ['a BETWEEN 1 AND 3', '2', true],
    ['a BETWEEN 1 AND 3', '3', true],
    ['a NOT BETWEEN 1 AND 3', '4', true],
    ['a >= -1', '-1', true],
    ["a = '10'", '10', true],
    ["a = '10'", '10.0', false],
    ['a = TRUE', 'true', true],
    ['a = TRUE', 'TRUE', true],
    ['a = FALSE', 'yes', true],
    ['a <> TRUE', 'false', true],
    ['a', 'true', false],
    ['a = 0.0', '0', true],
  ])('%s with a=%j → %s', (expr, value, expected) => {
    expect(matches(expr, { a: value })).toBe(expected);
  });

  it('compares properties with properties', () => {
    expect(matches('a = b', { a: 'x', b: 'x' })).toBe(true);
    expect(matches('a > b', { a: '10', b: '9' })).toBe(true);
    expect(matches('a > b', { a: '10', b: 'nine' })).toBe(false);
    expect(matches('a = b', { a: 'x' })).toBe(false);
  });

  it('short-circuits before a failing conversion is reached', () => {
    expect(matches("a = 'x' OR b > 5", { a: 'x', b: 'foo' })).toBe(true);
    expect(matches("a = 'y' AND b > 5", { a: 'x', b: 'foo' })).toBe(false);
    expect(matches("NOT (a = 'x' AND b > 5)", { a: 'x', b: 'foo' })).toBe(false);
  });
});

describe('SQL92 evaluation: strings, IN, tags', () => {
  it('matches TAGS and KEYS like any property', () => {
    expect(matches("TAGS = 'x'", { TAGS: 'x' })).toBe(true);
    expect(matches("TAGS = 'x'", { TAGS: 'y' })).toBe(false);
    expect(matches("TAGS IN ('a', 'x') AND KEYS IS NOT NULL", { TAGS: 'x', KEYS: 'k' })).toBe(true);
    expect(matches("TAGS NOT IN ('a', 'x')", { TAGS: 'b' })).toBe(true);
  });

  it('CONTAINS, STARTSWITH, ENDSWITH; an empty search string never matches', () => {
    const p = { a: 'hello world' };
    expect(matches("a CONTAINS 'lo w'", p)).toBe(true);
    expect(matches("a STARTSWITH 'hell'", p)).toBe(true);
    expect(matches("a ENDSWITH 'world'", p)).toBe(true);
    expect(matches("a NOT CONTAINS 'xyz'", p)).toBe(true);
    expect(matches("a NOT STARTSWITH 'hell'", p)).toBe(false);
    expect(matches("a CONTAINS ''", p)).toBe(false);
    expect(matches("a NOT CONTAINS ''", p)).toBe(false);
    expect(matches("a contains 'it''s'", { a: "it's" })).toBe(true);
  });

  it('keeps the expression and evaluates long OR chains without recursion trouble', () => {
    const expr = Array.from({ length: 5000 }, (_, i) => `a = ${i}`).join(' OR ');
    const f = compileSql92(expr);
    expect(f.expression).toBe(expr);
    expect(f.matches(props({ a: '4999' }))).toBe(true);
    expect(f.matches(props({ a: '5000' }))).toBe(false);
  });
});

describe('sql92MessageFilter', () => {
  function record(properties: Record<string, string>): Buffer {
    const input: RecordInput = {
      topic: Buffer.from('T'),
      queueId: 0,
      flag: 0,
      queueOffset: 0,
      physicalOffset: 0,
      sysFlag: 0,
      bornTimestamp: 1,
      bornHost: encodeHost({ address: '127.0.0.1', port: 1 }),
      storeTimestamp: 2,
      storeHost: encodeHost({ address: '127.0.0.1', port: 2 }),
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
      body: Buffer.from('body'),
      properties: encodeProperties(properties),
    };
    return encodeStandaloneRecord(input);
  }

  it('passes the pinned tags code only and decides on the record properties', () => {
    const f = sql92MessageFilter(compileSql92("TAGS = 'x' AND n > 3"));
    expect(f.matchByTagsCode(javaStringHashCode('x'))).toBe(true);
    expect(f.matchByTagsCode(12345)).toBe(false);
    expect(sql92MessageFilter(compileSql92('n > 3')).matchByTagsCode(12345)).toBe(true);
    const rec = record({ TAGS: 'x', n: '4' });
    expect(f.matchByRecord!(rec)).toBe(true);
    expect(f.matchByRecord!(record({ TAGS: 'x', n: '2' }))).toBe(false);
    expect(f.matchByRecord!(record({ TAGS: 'y', n: '4' }))).toBe(false);
    expect(f.matchByRecord!(record({ TAGS: 'x', n: 'four' }))).toBe(false);
  });
});
