import { javaStringHashCode } from '@apogee/message';
import { describe, expect, it } from 'vitest';
import { compileSql92, sql92MessageFilter } from './index.js';

const code = javaStringHashCode;

describe('SQL92 tags pre-filter', () => {
  it('pins the tags codes of TAGS = and TAGS IN under the top-level ANDs', () => {
    expect(compileSql92("TAGS = 'a'").tagsCodes).toEqual(new Set([code('a')]));
    expect(compileSql92("'a' = TAGS AND x > 1").tagsCodes).toEqual(new Set([code('a')]));
    expect(compileSql92("x > 1 AND (TAGS IN ('a', 'b') AND y = 2)").tagsCodes).toEqual(new Set([code('a'), code('b')]));
    // Two pins: only what both allow.
    expect(compileSql92("TAGS IN ('a', 'b') AND TAGS = 'b'").tagsCodes).toEqual(new Set([code('b')]));
    expect(compileSql92("TAGS = 'a' AND TAGS = 'b'").tagsCodes).toEqual(new Set());
  });

  it('does not pin TAGS where a message with other tags could still match', () => {
    for (const sql of [
      "TAGS = 'a' OR x > 1",
      "NOT TAGS = 'a'",
      "TAGS <> 'a'",
      "TAGS NOT IN ('a')",
      'TAGS IS NULL',
      "TAGS CONTAINS 'a'",
      "tags = 'a'",
      'x > 1',
    ]) {
      expect(compileSql92(sql).tagsCodes, sql).toBeUndefined();
    }
  });

  it('skips entries of other tags codes, and messages without TAGS (code 0)', () => {
    const filter = sql92MessageFilter(compileSql92("TAGS = 'a' AND x = 1"));
    expect(filter.matchByTagsCode(code('a'))).toBe(true);
    expect(filter.matchByTagsCode(code('b'))).toBe(false);
    expect(filter.matchByTagsCode(0)).toBe(false);
  });
});
