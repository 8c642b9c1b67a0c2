import { isCondition, type ComparisonOp, type Literal, type Node, type NumberLiteral, type StringMatchOp } from './ast.js';
import { syntaxError, unexpected } from './errors.js';
import { describeToken, tokenize, type Token } from './lexer.js';

/** Bounds against hostile input: errors, never a stack overflow. */
export const SQL92_LIMITS = { maxLength: 64 * 1024, maxDepth: 64, maxInList: 10_000 } as const;

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const LONG_MAX = 2n ** 63n - 1n;

/**
 * Recursive descent over RocketMQ's grammar, loosest first: OR < AND < equality (=, <>, IS [NOT]
 * NULL) < comparison (> >= < <=, [NOT] BETWEEN, [NOT] IN, [NOT] CONTAINS/STARTSWITH/ENDSWITH) <
 * unary (+ - NOT) < primary. The parse-time rejections follow ComparisonExpression's checks.
 *
 * Deliberate difference: RocketMQ's createFloat rejects float literals below Double.MIN_VALUE, so
 * `0.0` does not parse there; we accept `0.0` (and any finite float), a fix of that quirk.
 * Unary `+`/`-` apply to numeric literals only (RocketMQ's negation of a string property always
 * yields unknown, so rejecting it loses nothing).
 */
export function parseSql92(src: string): Node {
  if (src.length > SQL92_LIMITS.maxLength) throw syntaxError(`expression longer than ${SQL92_LIMITS.maxLength} characters`, SQL92_LIMITS.maxLength + 1);
  const p = new Parser(tokenize(src));
  if (p.peek().kind === 'end') throw unexpected('end of expression', p.peek().column, 'the expression is empty');
  const tree = p.condition(p.or(), p.peek());
  const rest = p.peek();
  if (rest.kind !== 'end') throw unexpected(describeToken(rest), rest.column, 'expected AND, OR or the end of the expression');
  return tree;
}

class Parser {
  private pos = 0;
  private nesting = 0;
  private readonly depths = new WeakMap<Node, number>();
  constructor(private readonly tokens: Token[]) {}

  peek(): Token {
    return this.tokens[this.pos]!;
  }
  private next(): Token {
    return this.tokens[this.pos++]!;
  }
  private isKeyword(t: Token, k: string): boolean {
    return t.kind === 'keyword' && t.value === k;
  }
  private isOp(t: Token, op: string): boolean {
    return t.kind === 'operator' && t.value === op;
  }
  private expectOp(op: string, what: string): Token {
    const t = this.next();
    if (!this.isOp(t, op)) throw unexpected(describeToken(t), t.column, what);
    return t;
  }

  /** Registers a node's depth; too deep is an error at `at`. */
  private node<N extends Node>(n: N, at: Token, ...children: Node[]): N {
    let d = 0;
    for (const c of children) d = Math.max(d, this.depths.get(c) ?? 0);
    if (d + 1 > SQL92_LIMITS.maxDepth) throw syntaxError(`expression nested deeper than ${SQL92_LIMITS.maxDepth} levels`, at.column);
    this.depths.set(n, d + 1);
    return n;
  }

  /** Casts to a condition (asBooleanExpression): a property is, a number or string literal is not. */
  condition(n: Node, at: Token): Node {
    if (isCondition(n) || n.type === 'property') return n;
    throw syntaxError(`${at.kind === 'end' ? 'expression' : 'the operand before ' + describeToken(at)} will not result in a boolean value`, at.column);
  }

  or(): Node {
    return this.logic('OR', () => this.and());
  }
  private and(): Node {
    return this.logic('AND', () => this.equality());
  }
  private logic(kw: 'AND' | 'OR', operand: () => Node): Node {
    const startTok = this.peek();
    const first = operand();
    if (!this.isKeyword(this.peek(), kw)) return first;
    const operands = [this.condition(first, this.peek())];
    while (this.isKeyword(this.peek(), kw)) {
      this.next();
      operands.push(this.condition(operand(), this.peek()));
    }
    return this.node({ type: kw === 'AND' ? 'and' : 'or', operands }, startTok, ...operands);
  }

  private equality(): Node {
    let left = this.comparison();
    for (;;) {
      const t = this.peek();
      if (this.isOp(t, '=') || this.isOp(t, '<>')) {
        this.next();
        const rt = this.peek();
        const right = this.comparison();
        if (left.type === 'null' || right.type === 'null')
          throw syntaxError(`'${t.value} NULL' cannot be compared; use IS NULL or IS NOT NULL`, left.type === 'null' ? t.column : rt.column);
        if (isConstant(left) && isConstant(right) && (left.type === 'boolean') !== (right.type === 'boolean')) {
          throw syntaxError(`constant '${show(left)}' cannot be compared with '${show(right)}'`, t.column);
        }
        left = this.node({ type: 'compare', op: t.value as ComparisonOp, left, right }, t, left, right);
      } else if (this.isKeyword(t, 'IS')) {
        this.next();
        let negated = false;
        if (this.isKeyword(this.peek(), 'NOT')) {
          this.next();
          negated = true;
        }
        const n = this.next();
        if (!this.isKeyword(n, 'NULL')) throw unexpected(describeToken(n), n.column, `expected NULL after IS${negated ? ' NOT' : ''}`);
        left = this.node({ type: 'isNull', negated, operand: left }, t, left);
      } else {
        return left;
      }
    }
  }

  private comparison(): Node {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.kind === 'operator' && (t.value === '>' || t.value === '>=' || t.value === '<' || t.value === '<=')) {
        this.next();
        this.checkOrderable(left, t);
        const rt = this.peek();
        const right = this.unary();
        this.checkOrderable(right, rt);
        left = this.node({ type: 'compare', op: t.value, left, right }, t, left, right);
        continue;
      }
      let negated = false;
      if (this.isKeyword(t, 'NOT')) {
        const after = this.tokens[this.pos + 1]!;
        if (!(after.kind === 'keyword' && ['BETWEEN', 'IN', 'CONTAINS', 'STARTSWITH', 'ENDSWITH'].includes(after.value))) return left;
        this.next();
        negated = true;
      }
      const k = this.peek();
      if (this.isKeyword(k, 'BETWEEN')) {
        this.next();
        this.checkOrderable(left, k);
        const lt = this.peek();
        const low = this.unary();
        this.checkOrderable(low, lt);
        const and = this.next();
        if (!this.isKeyword(and, 'AND')) throw unexpected(describeToken(and), and.column, 'expected AND in BETWEEN … AND …');
        const ht = this.peek();
        const high = this.unary();
        this.checkOrderable(high, ht);
        if (low.type === 'number' && high.type === 'number' && compareNumbers(low, high) > 0) {
          throw syntaxError(`illegal BETWEEN values: ${show(low)} is greater than ${show(high)}`, lt.column);
        }
        left = this.node({ type: 'between', negated, operand: left, low, high }, k, left, low, high);
      } else if (this.isKeyword(k, 'IN')) {
        this.next();
        if (left.type !== 'property') throw syntaxError('IN needs a property on its left', k.column);
        this.expectOp('(', 'expected ( after IN');
        const values: string[] = [];
        for (;;) {
          const s = this.next();
          if (s.kind !== 'string') throw unexpected(describeToken(s), s.column, 'IN takes string literals only');
          if (values.length >= SQL92_LIMITS.maxInList) throw syntaxError(`IN list longer than ${SQL92_LIMITS.maxInList} values`, s.column);
          values.push(s.value);
          const sep = this.next();
          if (this.isOp(sep, ')')) break;
          if (!this.isOp(sep, ',')) throw unexpected(describeToken(sep), sep.column, 'expected , or ) in the IN list');
        }
        left = this.node({ type: 'in', negated, property: left, values }, k, left);
      } else if (k.kind === 'keyword' && (k.value === 'CONTAINS' || k.value === 'STARTSWITH' || k.value === 'ENDSWITH')) {
        this.next();
        const s = this.next();
        if (s.kind !== 'string') throw unexpected(describeToken(s), s.column, `${k.value} takes a string literal`);
        left = this.node({ type: 'stringMatch', op: k.value as StringMatchOp, negated, operand: left, search: s.value }, k, left);
      } else {
        return left;
      }
    }
  }

  /** `<, >, <=, >=, BETWEEN` take numbers or properties (checkLessThanOperand). */
  private checkOrderable(n: Node, at: Token): void {
    if (n.type === 'number' || n.type === 'property') return;
    throw syntaxError(`value ${isConstant(n) ? `'${show(n)}'` : 'of a condition'} cannot be compared with < > <= >= or BETWEEN`, at.column);
  }

  private unary(): Node {
    const t = this.peek();
    if (this.isOp(t, '+') || this.isOp(t, '-') || this.isKeyword(t, 'NOT')) {
      this.next();
      this.enter(t);
      const operandTok = this.peek();
      const operand = this.unary();
      this.nesting--;
      if (t.kind === 'keyword') return this.node({ type: 'not', operand: this.condition(operand, operandTok) }, t, operand);
      if (operand.type !== 'number') throw syntaxError(`unary ${t.value} applies to numeric literals only`, t.column);
      return t.value === '+' ? operand : negate(operand);
    }
    return this.primary();
  }

  private enter(t: Token): void {
    if (++this.nesting > SQL92_LIMITS.maxDepth) throw syntaxError(`expression nested deeper than ${SQL92_LIMITS.maxDepth} levels`, t.column);
  }

  private primary(): Node {
    const t = this.next();
    switch (t.kind) {
      case 'identifier':
        return { type: 'property', name: t.value };
      case 'string':
        return { type: 'string', value: t.value };
      case 'float':
        return { type: 'number', kind: 'double', value: t.value };
      case 'integer':
        return integer(t);
      case 'keyword':
        if (t.value === 'TRUE' || t.value === 'FALSE') return { type: 'boolean', value: t.value === 'TRUE' };
        if (t.value === 'NULL') return { type: 'null' };
        break;
      case 'operator':
        if (t.value === '(') {
          this.enter(t);
          const inner = this.or();
          this.nesting--;
          this.expectOp(')', 'expected )');
          return inner;
        }
        break;
      case 'end':
        break;
    }
    throw unexpected(describeToken(t), t.column, 'expected a value');
  }
}

function integer(t: Token & { kind: 'integer' }): NumberLiteral {
  const big = BigInt(t.value);
  // `2147483648` alone is a long; `-2147483648` folds back to an int in negate().
  if (big > LONG_MAX + 1n) throw syntaxError(`integer literal '${t.text}' is out of range`, t.column);
  if (big <= BigInt(INT_MAX)) return { type: 'number', kind: 'int', value: Number(big) };
  return { type: 'number', kind: 'long', value: big };
}

function negate(n: NumberLiteral): NumberLiteral {
  if (n.kind === 'double') return { type: 'number', kind: 'double', value: -n.value };
  const v = n.kind === 'int' ? -BigInt(n.value) : -n.value;
  if (v >= BigInt(INT_MIN) && v <= BigInt(INT_MAX)) return { type: 'number', kind: 'int', value: Number(v) };
  return { type: 'number', kind: 'long', value: v };
}

function isConstant(n: Node): n is Literal {
  return n.type === 'number' || n.type === 'string' || n.type === 'boolean' || n.type === 'null';
}

function show(n: Literal): string {
  switch (n.type) {
    case 'number':
      return String(n.value);
    case 'string':
      return n.value;
    case 'boolean':
      return n.value ? 'TRUE' : 'FALSE';
    case 'null':
      return 'NULL';
  }
}

/** Orders two numeric literals as Java would after widening. */
export function compareNumbers(a: NumberLiteral, b: NumberLiteral): number {
  if (a.kind !== 'double' && b.kind !== 'double') {
    const x = BigInt(a.value);
    const y = BigInt(b.value);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const x = Number(a.value);
  const y = Number(b.value);
  return x < y ? -1 : x > y ? 1 : 0;
}
