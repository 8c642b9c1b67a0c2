/**
 * Properties of the SQL92 compiler over generated input: any string either compiles or is refused
 * with a Sql92SyntaxError pointing inside it (never another error); any expression built from the
 * grammar compiles, and its result against any property set agrees with a reference evaluation of
 * the same tree in RocketMQ's three-valued logic — where a value that does not convert to a number
 * fails the whole evaluation (not matched), unless AND/OR decided before reaching it.
 */
import { javaStringHashCode } from '@apogee/message';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Sql92SyntaxError, compileSql92 } from './index.js';

type Truth = boolean | null;

/** A generated condition: its SQL text and the reference result for a property lookup. */
interface Gen {
  sql: string;
  eval(props: ReadonlyMap<string, string>): Truth;
}

const NAMES = ['a', 'b', 'c_1', '$d', 'TAGS'];
const name = fc.constantFrom(...NAMES);
const smallInt = fc.integer({ min: -20, max: 20 });
const word = fc.constantFrom<string>('x', 'y', "it's", '', 'xy');

function num(props: ReadonlyMap<string, string>, n: string): number | null {
  const v = props.get(n);
  if (v === undefined) return null;
  // The properties below are always integers or words; a word never converts to a number.
  return /^-?\d+$/.test(v) ? Number(v) : Number.NaN;
}

/** Thrown by the reference where RocketMQ's Integer.valueOf would throw. */
const CONVERSION = new Error('conversion failed');

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

const comparison: fc.Arbitrary<Gen> = fc.oneof(
  fc.tuple(name, fc.constantFrom('>', '>=', '<', '<='), smallInt).map(([n, op, k]) => ({
    sql: `${n} ${op} ${k}`,
    eval: (p: ReadonlyMap<string, string>): Truth => {
      const v = num(p, n);
      if (v === null) return null;
      if (Number.isNaN(v)) throw CONVERSION;
      return op === '>' ? v > k : op === '>=' ? v >= k : op === '<' ? v < k : v <= k;
    },
  })),
  fc.tuple(name, smallInt, smallInt).map(([n, x, y]) => {
    const [lo, hi] = x <= y ? [x, y] : [y, x];
    return {
      sql: `${n} BETWEEN ${lo} AND ${hi}`,
      eval: (p: ReadonlyMap<string, string>): Truth => {
        const v = num(p, n);
        if (v === null) return null;
        if (Number.isNaN(v)) throw CONVERSION;
        return v >= lo && v <= hi;
      },
    };
  }),
  fc.tuple(name, fc.uniqueArray(word, { minLength: 1, maxLength: 3 })).map(([n, words]) => ({
    sql: `${n} IN (${words.map(quote).join(', ')})`,
    eval: (p: ReadonlyMap<string, string>): Truth => {
      const v = p.get(n);
      return v === undefined ? null : words.includes(v);
    },
  })),
  fc.tuple(name, word).map(([n, w]) => ({
    sql: `${n} = ${quote(w)}`,
    eval: (p: ReadonlyMap<string, string>): Truth => {
      const v = p.get(n);
      return v === undefined ? null : v === w;
    },
  })),
  fc.tuple(name, fc.boolean()).map(([n, not]) => ({
    sql: `${n} IS ${not ? 'NOT ' : ''}NULL`,
    eval: (p: ReadonlyMap<string, string>): Truth => (p.has(n) ? not : !not),
  })),
);

const condition: fc.Arbitrary<Gen> = fc.letrec<{ c: Gen }>((tie) => ({
  c: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    comparison,
    fc.tuple(tie('c'), tie('c')).map(([l, r]) => ({
      sql: `(${l.sql}) AND (${r.sql})`,
      eval: (p: ReadonlyMap<string, string>) =>
        and(
          () => l.eval(p),
          () => r.eval(p),
        ),
    })),
    fc.tuple(tie('c'), tie('c')).map(([l, r]) => ({
      sql: `(${l.sql}) OR (${r.sql})`,
      eval: (p: ReadonlyMap<string, string>) =>
        or(
          () => l.eval(p),
          () => r.eval(p),
        ),
    })),
    tie('c').map((c) => ({ sql: `NOT (${c.sql})`, eval: (p: ReadonlyMap<string, string>) => not(c.eval(p)) })),
  ),
})).c;

/** Java's LogicExpression: the right side is evaluated only when the left did not decide. */
function and(left: () => Truth, right: () => Truth): Truth {
  const l = left();
  if (l === false) return false;
  const r = right();
  if (r === false) return false;
  return l === null || r === null ? null : true;
}
function or(left: () => Truth, right: () => Truth): Truth {
  const l = left();
  if (l === true) return true;
  const r = right();
  if (r === true) return true;
  return l === null || r === null ? null : false;
}

function matchesByReference(gen: Gen, props: ReadonlyMap<string, string>): boolean {
  try {
    return gen.eval(props) === true;
  } catch (e) {
    if (e === CONVERSION) return false;
    throw e;
  }
}
function not(v: Truth): Truth {
  return v === null ? null : !v;
}

const propertySet = fc
  .subarray(NAMES)
  .chain((present) =>
    fc.tuple(
      ...present.map((n) =>
        fc.tuple(
          fc.constant(n),
          fc.oneof(
            smallInt.map(String),
            word.filter((w) => w.length > 0),
          ),
        ),
      ),
    ),
  )
  .map((pairs) => new Map<string, string>(pairs));

describe('SQL92 compiler properties', () => {
  it('refuses any string it cannot compile with a Sql92SyntaxError whose column lies in the input', () => {
    const alphabet = fc.constantFrom(
      ..."ab1 .()'=<>!,-+*/\n".split(''),
      'AND',
      'OR',
      'NOT',
      'IN',
      'IS',
      'NULL',
      'BETWEEN',
      'TRUE',
      'CONTAINS',
      "''",
      '5E',
      '0x',
    );
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 30 }), (parts) => {
        const sql = parts.join('');
        try {
          compileSql92(sql);
        } catch (e) {
          expect(e).toBeInstanceOf(Sql92SyntaxError);
          const column = (e as Sql92SyntaxError).column;
          expect(column).toBeGreaterThanOrEqual(1);
          expect(column).toBeLessThanOrEqual(sql.length + 1);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('compiles every generated expression and matches (tags pre-filter included) exactly when the reference evaluation is TRUE', () => {
    fc.assert(
      fc.property(condition, fc.array(propertySet, { minLength: 1, maxLength: 5 }), (gen, sets) => {
        const filter = compileSql92(gen.sql);
        for (const props of sets) {
          const expected = matchesByReference(gen, props);
          // The tags pre-filter (index entry alone) must never drop a message that matches.
          const tags = props.get('TAGS');
          const passesIndex = filter.tagsCodes?.has(tags ? javaStringHashCode(tags) : 0) ?? true;
          if (expected) expect(passesIndex).toBe(true);
          expect(passesIndex && filter.matches((n) => props.get(n))).toBe(expected);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
