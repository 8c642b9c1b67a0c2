import { Sql92SyntaxError, syntaxError, unexpected } from './errors.js';

/**
 * The tokens of RocketMQ's SQL92 filter grammar (filter/parser/SelectorParser.jj): keywords match
 * case-insensitively, identifiers are `[a-zA-Z_$][a-zA-Z0-9_$]*` (no dots or dashes) and keep their
 * spelling, `--` line comments and `/* *\/` block comments are skipped like white space.
 */
export const KEYWORDS = ['NOT', 'AND', 'OR', 'BETWEEN', 'IN', 'TRUE', 'FALSE', 'NULL', 'IS', 'CONTAINS', 'STARTSWITH', 'ENDSWITH'] as const;
export type Keyword = (typeof KEYWORDS)[number];
const KEYWORD_SET: ReadonlySet<string> = new Set(KEYWORDS);

export const OPERATORS = ['=', '<>', '>', '>=', '<', '<=', '(', ')', ',', '+', '-'] as const;
export type Operator = (typeof OPERATORS)[number];

export type Token =
  | { kind: 'keyword'; value: Keyword; column: number; text: string }
  | { kind: 'identifier'; value: string; column: number; text: string }
  /** A decimal integer without its `L`; the parser decides int or long. */
  | { kind: 'integer'; value: string; column: number; text: string }
  | { kind: 'float'; value: number; column: number; text: string }
  /** The string's value, `''` already unescaped. */
  | { kind: 'string'; value: string; column: number; text: string }
  | { kind: 'operator'; value: Operator; column: number; text: string }
  | { kind: 'end'; value: ''; column: number; text: '' };

/** How a token is named in error messages: `'AND'`, `'x'`, `end of expression`. */
export function describeToken(t: Token): string {
  if (t.kind === 'end') return 'end of expression';
  const text = t.text.length > 40 ? `${t.text.slice(0, 40)}…` : t.text;
  return `'${text}'`;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isIdentStart = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36;
const isIdentPart = (c: number): boolean => isIdentStart(c) || isDigit(c);
// JavaCC's SKIP set: space, tab, newline, carriage return, form feed.
const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13 || c === 12;

/** Splits an expression into tokens, ending with one `end` token. Throws Sql92SyntaxError. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src.charCodeAt(i);
    const column = i + 1;
    if (isSpace(c)) {
      i++;
    } else if (c === 45 && src.charCodeAt(i + 1) === 45) {
      // `--` to the end of the line.
      while (i < n && src.charCodeAt(i) !== 10 && src.charCodeAt(i) !== 13) i++;
    } else if (c === 47 && src.charCodeAt(i + 1) === 42) {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw syntaxError('unterminated comment', column);
      i = end + 2;
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(src.charCodeAt(j))) j++;
      const text = src.slice(i, j);
      const upper = text.toUpperCase();
      out.push(KEYWORD_SET.has(upper) ? { kind: 'keyword', value: upper as Keyword, column, text } : { kind: 'identifier', value: text, column, text });
      i = j;
    } else if (isDigit(c) || (c === 46 && isDigit(src.charCodeAt(i + 1)))) {
      i = number(src, i, out);
    } else if (c === 39) {
      i = string(src, i, out);
    } else {
      const two = src.slice(i, i + 2);
      const op = two === '<>' || two === '>=' || two === '<=' ? two : src[i]!;
      if (!(OPERATORS as readonly string[]).includes(op)) {
        throw unexpected(`character '${String.fromCodePoint(src.codePointAt(i)!)}'`, column, 'not part of the SQL92 filter grammar');
      }
      out.push({ kind: 'operator', value: op as Operator, column, text: op });
      i += op.length;
    }
  }
  out.push({ kind: 'end', value: '', column: n + 1, text: '' });
  return out;
}

/**
 * Numbers: `0|[1-9][0-9]*` with an optional `L` (integer), or `5.5`, `5.`, `.5`, `5E10`, `5.5e-3`
 * (float). A number may not run into a letter or digit (`5x`, `05`): that is an error here rather
 * than two tokens.
 */
function number(src: string, start: number, out: Token[]): number {
  const column = start + 1;
  let i = start;
  const n = src.length;
  while (i < n && isDigit(src.charCodeAt(i))) i++;
  let isFloat = false;
  if (src.charCodeAt(i) === 46) {
    isFloat = true;
    i++;
    while (i < n && isDigit(src.charCodeAt(i))) i++;
  }
  const e = src.charCodeAt(i);
  if (e === 69 || e === 101) {
    let j = i + 1;
    const sign = src.charCodeAt(j);
    if (sign === 43 || sign === 45) j++;
    if (!isDigit(src.charCodeAt(j))) throw syntaxError(`malformed exponent in '${src.slice(start, j + 1)}'`, column);
    while (j < n && isDigit(src.charCodeAt(j))) j++;
    isFloat = true;
    i = j;
  }
  const text = src.slice(start, i);
  if (isFloat) {
    if (i < n && isIdentPart(src.charCodeAt(i))) throw badNumber(src, start, i);
    const value = Number(text);
    if (!Number.isFinite(value)) throw syntaxError(`float literal '${text}' is out of range`, column);
    out.push({ kind: 'float', value, column, text });
    return i;
  }
  if (text.length > 1 && text.charCodeAt(0) === 48) throw syntaxError(`integer literal '${text}' has a leading zero (octal is not supported)`, column);
  const l = src.charCodeAt(i);
  const end = l === 76 || l === 108 ? i + 1 : i;
  if (end < n && isIdentPart(src.charCodeAt(end))) throw badNumber(src, start, end);
  out.push({ kind: 'integer', value: text, column, text: src.slice(start, end) });
  return end;
}

function badNumber(src: string, start: number, at: number): Sql92SyntaxError {
  let j = at;
  while (j < src.length && isIdentPart(src.charCodeAt(j))) j++;
  return syntaxError(`malformed number '${src.slice(start, j)}'`, start + 1);
}

/** `'…'`, with `''` standing for one quote; may span lines. */
function string(src: string, start: number, out: Token[]): number {
  let value = '';
  let from = start + 1;
  for (;;) {
    const q = src.indexOf("'", from);
    if (q < 0) throw syntaxError('unterminated string literal', start + 1);
    value += src.slice(from, q);
    if (src.charCodeAt(q + 1) === 39) {
      value += "'";
      from = q + 2;
    } else {
      out.push({ kind: 'string', value, column: start + 1, text: src.slice(start, q + 1) });
      return q + 1;
    }
  }
}
