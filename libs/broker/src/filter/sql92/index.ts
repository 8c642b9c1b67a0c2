import { findProperty, readRecordProperties } from '@apogee/message';
import type { MessageFilter } from '@apogee/store';
import { compileCondition, ConversionFailure, type PropertyLookup } from './evaluate.js';
import { parseSql92 } from './parser.js';

export { Sql92SyntaxError } from './errors.js';
export { SQL92_LIMITS } from './parser.js';
export type { PropertyLookup } from './evaluate.js';

/** A compiled SQL92 property filter (RocketMQ ExpressionType.SQL92). */
export interface Sql92Filter {
  /** The expression as given. */
  readonly expression: string;
  /** True only when the expression evaluates to TRUE (FALSE, unknown and failed conversions do not match). */
  matches(lookup: PropertyLookup): boolean;
}

/** Parses and compiles once; throws Sql92SyntaxError. */
export function compileSql92(expression: string): Sql92Filter {
  const condition = compileCondition(parseSql92(expression));
  return {
    expression,
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
 * The store filter for a SQL92 subscription: every index entry passes (no bitmap), then the
 * record's property string is read (nothing else is decoded) and each property the expression
 * asks for is found in that string — no map per record (findProperty agrees with decodeProperties).
 */
export function sql92MessageFilter(filter: Sql92Filter): MessageFilter {
  return {
    matchByTagsCode: () => true,
    matchByRecord(record) {
      const raw = readRecordProperties(record, 0);
      return filter.matches((name) => findProperty(raw, name));
    },
  };
}
