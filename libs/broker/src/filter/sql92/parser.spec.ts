import { describe, expect, it } from 'vitest';
import { Sql92SyntaxError } from './errors.js';
import { tokenize } from './lexer.js';
import { parseSql92 } from './parser.js';

function rejection(expr: string): Sql92SyntaxError {
  try {
    parseSql92(expr);
  } catch (e) {
    expect(e).toBeInstanceOf(Sql92SyntaxError);
    return e as Sql92SyntaxError;
  }
  throw new Error(`${expr} parsed`);
}

describe('SQL92 lexer', () => {
  it('reads keywords case-insensitively, identifiers as written, numbers and strings', () => {
    const t = tokenize("a_1 and $B Or 5L .5 5. 5E10 'it''s' <> >= <=");
    expect(t.map((x) => [x.kind, x.value])).toEqual([
      ['identifier', 'a_1'],
      ['keyword', 'AND'],
      ['identifier', '$B'],
      ['keyword', 'OR'],
      ['integer', '5'],
      ['float', 0.5],
      ['float', 5],
      ['float', 5e10],
      ['string', "it's"],
      ['operator', '<>'],
      ['operator', '>='],
      ['operator', '<='],
      ['end', ''],
    ]);
  });

  it('skips -- and /* */ comments', () => {
    expect(parseSql92("a = 1 -- trailing\n AND /* inner */ b = 'x'")).toMatchObject({ type: 'and' });
  });

  it.each([
    ["a = 'x", 5, 'unterminated string literal'],
    ['a = 1 /* x', 7, 'unterminated comment'],
    ['a.b = 1', 2, "unexpected character '.'"],
    ['a = 05', 5, 'leading zero'],
    ['a = 5x', 5, "malformed number '5x'"],
    ['a = 1e', 5, 'malformed exponent'],
    ['a = 1e999', 5, 'out of range'],
  ])('rejects %j at column %i', (expr, column, text) => {
    const e = rejection(expr);
    expect(e.column).toBe(column);
    expect(e.message).toContain(text);
    expect(e.message).toContain(`at column ${column}`);
  });
});

describe('SQL92 parser', () => {
  it('binds OR < AND < equality < comparison < unary', () => {
    expect(parseSql92('a = 1 OR b = 2 AND c = 3')).toMatchObject({ type: 'or', operands: [{ type: 'compare' }, { type: 'and' }] });
    expect(parseSql92('(a = 1 OR b = 2) AND c = 3')).toMatchObject({ type: 'and', operands: [{ type: 'or' }, { type: 'compare' }] });
    expect(parseSql92('NOT a = 1')).toMatchObject({ type: 'compare', left: { type: 'not' } });
    expect(parseSql92('a > 1 = TRUE')).toMatchObject({ type: 'compare', op: '=', left: { type: 'compare', op: '>' } });
    expect(parseSql92('a NOT BETWEEN -2 AND 3')).toMatchObject({ type: 'between', negated: true, low: { kind: 'int', value: -2 } });
    expect(parseSql92('a IS NOT NULL')).toMatchObject({ type: 'isNull', negated: true });
  });

  it('types integers as int or long and accepts 0.0 (RocketMQ rejects it)', () => {
    expect(parseSql92('a = 2147483647')).toMatchObject({ right: { kind: 'int' } });
    expect(parseSql92('a = 2147483648')).toMatchObject({ right: { kind: 'long', value: 2147483648n } });
    expect(parseSql92('a = -2147483648')).toMatchObject({ right: { kind: 'int', value: -2147483648 } });
    expect(parseSql92('a = 5L')).toMatchObject({ right: { kind: 'int', value: 5 } });
    expect(parseSql92('a = 0.0')).toMatchObject({ right: { kind: 'double', value: 0 } });
    expect(parseSql92('a')).toEqual({ type: 'property', name: 'a' });
    expect(parseSql92('TRUE')).toEqual({ type: 'boolean', value: true });
  });

  it.each([
    ['', 1, 'empty'],
    ['   ', 4, 'empty'],
    ['a = 1 b', 7, "unexpected 'b' at column 7: expected AND, OR or the end"],
    ['a = 1 AND', 10, 'unexpected end of expression at column 10: expected a value'],
    ['a = AND b', 5, "unexpected 'AND' at column 5: expected a value"],
    ['(a = 1', 7, 'expected )'],
    ['a IN (1, 2)', 7, 'IN takes string literals only'],
    ["'x' IN ('x')", 5, 'IN needs a property'],
    ['a IN ()', 7, 'IN takes string literals only'],
    ["a > 'x'", 5, "value 'x' cannot be compared"],
    ['a < TRUE', 5, "value 'TRUE' cannot be compared"],
    ["a BETWEEN 'a' AND 'b'", 11, 'cannot be compared'],
    ['a = NULL', 5, 'use IS NULL'],
    ['a <> NULL', 6, 'use IS NULL'],
    ['a BETWEEN 3 AND 1', 11, 'illegal BETWEEN values'],
    ['a BETWEEN 1 OR 3', 13, 'expected AND in BETWEEN'],
    ['a + 1 = 2', 3, 'unexpected'],
    ["a LIKE 'x'", 3, "unexpected 'LIKE'"],
    ['a IS 5', 6, 'expected NULL after IS'],
    ["- 'x' = a", 1, 'numeric literals only'],
    ['5', 2, 'will not result in a boolean value'],
    ["a = 1 AND 'x'", 14, 'will not result in a boolean value'],
    ['NOT 5', 5, 'will not result in a boolean value'],
    ['a CONTAINS b', 12, 'CONTAINS takes a string literal'],
    ['TRUE = 1', 6, 'cannot be compared with'],
  ])('rejects %j at column %i', (expr, column, text) => {
    const e = rejection(expr);
    expect(e.message).toContain(text);
    expect(e.column).toBe(column);
  });

  it('bounds hostile input with errors, never a stack overflow', () => {
    const deep = '('.repeat(100_000) + 'a = 1' + ')'.repeat(100_000);
    expect(rejection(deep.slice(0, 60_000)).message).toContain('nested deeper than 64');
    expect(rejection('NOT '.repeat(10_000) + 'a').message).toContain('nested deeper than 64');
    expect(rejection(deep).message).toContain('longer than 65536');
    expect(rejection('a = 1' + ' = TRUE'.repeat(100)).message).toContain('nested deeper than 64');
    const longOr = Array.from({ length: 5000 }, (_, i) => `a = ${i}`).join(' OR ');
    expect(parseSql92(longOr)).toMatchObject({ type: 'or' });
    const inList = `a IN (${Array.from({ length: 10_001 }, () => "'x'").join(',')})`;
    expect(rejection(inList).message).toContain('IN list longer than 10000');
    expect(parseSql92('('.repeat(63) + 'a = 1' + ')'.repeat(63))).toMatchObject({ type: 'compare' });
  });
});
