import type { Node, NumberLiteral } from './ast.js';

/** Finds a message property by name (TAGS, KEYS, user properties); undefined when absent. */
export type PropertyLookup = (name: string) => string | undefined;
/** TRUE, FALSE or unknown (null). Only TRUE matches. */
export type Truth = boolean | null;
type Condition = (lookup: PropertyLookup) => Truth;
/** What an operand evaluates to: a property's string, a literal, or a condition's truth. */
type Value = string | boolean | NumberLiteral | null;
type Operand = (lookup: PropertyLookup) => Value;

/**
 * Thrown when a property value does not convert to the type it is compared with (Integer.valueOf
 * and friends throwing in ComparisonExpression); the filter catches it and does not match the
 * message, as ExpressionMessageFilter does.
 */
export class ConversionFailure extends Error {}

/**
 * AND (decisive = false) and OR (decisive = true) over flat operand lists, left to right: the
 * first decisive value ends it; otherwise unknown if any operand was, else the other value.
 */
function junction(parts: Condition[], decisive: boolean): Condition {
  return (l) => {
    let unknown = false;
    for (const p of parts) {
      const v = p(l);
      if (v === decisive) return decisive;
      if (v === null) unknown = true;
    }
    return unknown ? null : !decisive;
  };
}

/**
 * Compiles the tree once into closures. Semantics (RocketMQ 5, docs/rocketmq-facts-wave2.md §3.2):
 * - three-valued logic: a missing property makes =, <>, <, >, BETWEEN and IN unknown; NOT unknown
 *   is unknown; AND is FALSE if either side is FALSE, OR is TRUE if either side is TRUE, otherwise
 *   unknown if either side is; both short-circuit left to right (a failed conversion on the right
 *   of a decided AND/OR is never reached);
 * - a string property compared with a number or boolean converts to the literal's type (int, long,
 *   double as Java's valueOf; booleans as Boolean.valueOf, so anything but 'true' is false);
 * - two strings with < > <= >= compare as doubles; `=` and `<>` between strings compare text;
 * - CONTAINS/STARTSWITH/ENDSWITH (and their NOT forms) are FALSE on a missing property, a
 *   non-string or an empty search string;
 * - a bare property used as a condition is FALSE when present, unknown when missing.
 * Difference: Java's `=` answers FALSE (not unknown) when only the right side is missing
 * (`5 = a`); here either side missing gives unknown, symmetric with `a = 5`.
 */
export function compileCondition(n: Node): Condition {
  switch (n.type) {
    case 'and':
      return junction(n.operands.map(compileCondition), false);
    case 'or':
      return junction(n.operands.map(compileCondition), true);
    case 'not': {
      const inner = compileCondition(n.operand);
      return (l) => {
        const v = inner(l);
        return v === null ? null : !v;
      };
    }
    case 'compare': {
      const left = compileOperand(n.left);
      const right = compileOperand(n.right);
      const op = n.op;
      return (l) => {
        const a = left(l);
        if (a === null) return null;
        const b = right(l);
        if (b === null) return null;
        const c = compare(a, b, op === '=' || op === '<>');
        if (c === undefined) return op === '<>';
        switch (op) {
          case '=':
            return c === 0;
          case '<>':
            return c !== 0;
          case '>':
            return c > 0;
          case '>=':
            return c >= 0;
          case '<':
            return c < 0;
          case '<=':
            return c <= 0;
        }
      };
    }
    case 'between':
      // RocketMQ: a >= low AND a <= high; NOT: a < low OR a > high.
      return compileCondition({
        type: n.negated ? 'or' : 'and',
        operands: [
          { type: 'compare', op: n.negated ? '<' : '>=', left: n.operand, right: n.low },
          { type: 'compare', op: n.negated ? '>' : '<=', left: n.operand, right: n.high },
        ],
      });
    case 'isNull': {
      const operand = compileOperand(n.operand);
      return n.negated ? (l) => operand(l) !== null : (l) => operand(l) === null;
    }
    case 'in': {
      const name = n.property.name;
      const set = new Set(n.values);
      const negated = n.negated;
      return (l) => {
        const v = l(name);
        if (v === undefined) return null;
        return set.has(v) !== negated;
      };
    }
    case 'stringMatch': {
      const operand = compileOperand(n.operand);
      const { search, negated } = n;
      if (search.length === 0) return () => false;
      const test =
        n.op === 'CONTAINS'
          ? (s: string) => s.includes(search)
          : n.op === 'STARTSWITH'
            ? (s: string) => s.startsWith(search)
            : (s: string) => s.endsWith(search);
      return (l) => {
        const v = operand(l);
        if (typeof v !== 'string') return false;
        return test(v) !== negated;
      };
    }
    case 'property': {
      const name = n.name;
      return (l) => (l(name) === undefined ? null : false);
    }
    case 'boolean': {
      const v = n.value;
      return () => v;
    }
    case 'null':
      return () => null;
    case 'number':
    case 'string':
      // The parser never lets these stand as conditions.
      throw new Error(`internal: a ${n.type} literal is not a condition`);
  }
}

function compileOperand(n: Node): Operand {
  switch (n.type) {
    case 'property': {
      const name = n.name;
      return (l) => l(name) ?? null;
    }
    case 'string':
    case 'boolean': {
      const v = n.value;
      return () => v;
    }
    case 'number':
      return () => n;
    case 'null':
      return () => null;
    default: {
      const c = compileCondition(n);
      return (l) => c(l);
    }
  }
}

/**
 * Orders two non-null values after RocketMQ's conversions; undefined when they cannot be compared
 * (then `=` is FALSE and every ordering is FALSE, as ComparisonExpression answers).
 */
function compare(a: Value, b: Value, equality: boolean): number | undefined {
  if (typeof a === 'string' && typeof b === 'string') {
    if (equality) return a === b ? 0 : 1;
    return compareDoubles(toDouble(a), toDouble(b));
  }
  if (a === null || b === null) return undefined;
  if (typeof a === 'string') return compare(convert(a, b as Exclude<Value, string | null>), b, equality);
  if (typeof b === 'string') return compare(a, convert(b, a), equality);
  if (typeof a === 'boolean' || typeof b === 'boolean') {
    if (typeof a !== typeof b) return undefined;
    return a === b ? 0 : a ? 1 : -1;
  }
  if (a.kind === 'double' || b.kind === 'double') return compareDoubles(Number(a.value), Number(b.value));
  const x = BigInt(a.value);
  const y = BigInt(b.value);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Converts a property string to the type of `like` (Integer/Long/Double/Boolean.valueOf). */
function convert(s: string, like: Exclude<Value, string | null>): Value {
  if (typeof like === 'boolean') return s.toLowerCase() === 'true';
  switch (like.kind) {
    case 'int': {
      const v = toJavaInteger(s);
      if (v < -(2n ** 31n) || v > 2n ** 31n - 1n) throw new ConversionFailure();
      return { type: 'number', kind: 'int', value: Number(v) };
    }
    case 'long': {
      const v = toJavaInteger(s);
      if (v < -(2n ** 63n) || v > 2n ** 63n - 1n) throw new ConversionFailure();
      return { type: 'number', kind: 'long', value: v };
    }
    case 'double':
      return { type: 'number', kind: 'double', value: toDouble(s) };
  }
}

const INTEGER = /^[+-]?[0-9]+$/;
function toJavaInteger(s: string): bigint {
  if (!INTEGER.test(s)) throw new ConversionFailure();
  return BigInt(s);
}

// Double.valueOf: trims, takes an optional sign, NaN, Infinity, decimals with an exponent and an
// optional f/d suffix (hexadecimal floats are not accepted here).
const DOUBLE = /^[+-]?(NaN|Infinity|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[fFdD]?)$/;
function toDouble(raw: string): number {
  // eslint-disable-next-line no-control-regex
  const s = raw.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
  if (!DOUBLE.test(s)) throw new ConversionFailure();
  return Number(s.replace(/[fFdD]$/, ''));
}

/** Double.compareTo: NaN above everything and equal to itself, -0.0 below 0.0. */
function compareDoubles(x: number, y: number): number {
  if (x < y) return -1;
  if (x > y) return 1;
  if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : 1;
  if (Number.isNaN(y)) return -1;
  if (x === 0 && y === 0) return Object.is(x, y) ? 0 : Object.is(x, -0) ? -1 : 1;
  return 0;
}
