import { findProperty, readRecordProperties } from '@apogee/message';
import type { MessageFilter } from '@apogee/store';
import { compileCondition, ConversionFailure, type PropertyLookup } from './evaluate.js';
import { parseSql92 } from './parser.js';
import { requiredTagsCodes } from './tags-prefilter.js';

export { Sql92SyntaxError } from './errors.js';
export { SQL92_LIMITS } from './parser.js';
export type { PropertyLookup } from './evaluate.js';

/** A compiled SQL92 property filter (RocketMQ ExpressionType.SQL92). */
export interface Sql92Filter {
  /** The expression as given. */
  readonly expression: string;
  /** True only when the expression evaluates to TRUE (FALSE, unknown and failed conversions do not match). */
  matches(lookup: PropertyLookup): boolean;
  /** When the expression pins TAGS (`TAGS = 'x'`, `TAGS IN (…)` under its top-level AND): the only tags codes it can match. */
  readonly tagsCodes?: ReadonlySet<number>;
}

/** Parses and compiles once; throws Sql92SyntaxError. */
export function compileSql92(expression: string): Sql92Filter {
  const tree = parseSql92(expression);
  const condition = compileCondition(tree);
  const tagsCodes = requiredTagsCodes(tree);
  return {
    expression,
    ...(tagsCodes ? { tagsCodes } : {}),
    matches(lookup) {
      try {
        return condition(lookup) === true;
      } catch (e) {
        if (e instanceof ConversionFailure) return false;
        throw e;
      }
    },
  };
}

/**
 * The store filter for a SQL92 subscription: index entries pass unless the expression pins TAGS
 * to other tags codes (no bitmap otherwise), then the record's property string is read (nothing else is decoded) and each property the expression
 * asks for is found in that string — no map per record (findProperty agrees with decodeProperties).
 */
export function sql92MessageFilter(filter: Sql92Filter): MessageFilter {
  const codes = filter.tagsCodes;
  return {
    matchByTagsCode: codes ? (code) => codes.has(code) : () => true,
    matchByRecord(record) {
      const raw = readRecordProperties(record, 0);
      return filter.matches((name) => findProperty(raw, name));
    },
  };
}
