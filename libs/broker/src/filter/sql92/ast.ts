/**
 * The parsed form of a SQL92 filter. Values are what an operand evaluates to (a property, a
 * literal); conditions evaluate to TRUE, FALSE or unknown. AND/OR chains are n-ary so that a long
 * `a = 1 OR a = 2 OR …` is one flat node, not a deep tree.
 */

/** A numeric literal, typed as Java would type it: int (fits 32 bits), long, or double. */
export type NumberLiteral =
  { type: 'number'; kind: 'int'; value: number } | { type: 'number'; kind: 'long'; value: bigint } | { type: 'number'; kind: 'double'; value: number };

export type Literal = NumberLiteral | { type: 'string'; value: string } | { type: 'boolean'; value: boolean } | { type: 'null' };

export interface PropertyRef {
  type: 'property';
  /** As written (property names are case-sensitive). */
  name: string;
}

export type ComparisonOp = '=' | '<>' | '>' | '>=' | '<' | '<=';
export type StringMatchOp = 'CONTAINS' | 'STARTSWITH' | 'ENDSWITH';

export type Node =
  | Literal
  | PropertyRef
  | { type: 'and' | 'or'; operands: Node[] }
  | { type: 'not'; operand: Node }
  | { type: 'compare'; op: ComparisonOp; left: Node; right: Node }
  | { type: 'isNull'; negated: boolean; operand: Node }
  | { type: 'between'; negated: boolean; operand: Node; low: Node; high: Node }
  | { type: 'in'; negated: boolean; property: PropertyRef; values: string[] }
  | { type: 'stringMatch'; op: StringMatchOp; negated: boolean; operand: Node; search: string };

/** Nodes that produce TRUE/FALSE/unknown (RocketMQ's BooleanExpression); a property is cast. */
export function isCondition(n: Node): boolean {
  return n.type !== 'number' && n.type !== 'string' && n.type !== 'property';
}
