import { javaStringHashCode } from '@apogee/message';
import type { Node } from './ast.js';

/**
 * The tags codes an expression can match, when it requires `TAGS = 'x'` or `TAGS IN ('x', …)`
 * (alone or as one operand of its top-level ANDs): a message whose index entry has another tags
 * code cannot evaluate to TRUE, so the store skips it without reading its record. Undefined when
 * the expression does not pin TAGS. Hash collisions only let extra entries through to the record
 * check; a message without TAGS has code 0 and TAGS unknown, so it is rightly skipped.
 */
export function requiredTagsCodes(root: Node): ReadonlySet<number> | undefined {
  let codes: Set<number> | undefined;
  for (const c of conjunctsOf(root)) {
    const tags = pinnedTags(c);
    if (tags === undefined) continue;
    const next = new Set(tags.map(javaStringHashCode));
    // Several pins must all hold: only codes in every one can match.
    codes = codes === undefined ? next : new Set([...codes].filter((code) => next.has(code)));
  }
  return codes;
}

/** The operands of nested top-level ANDs (`(a AND b) AND c` → a, b, c). */
function conjunctsOf(n: Node, out: Node[] = []): Node[] {
  if (n.type === 'and') for (const o of n.operands) conjunctsOf(o, out);
  else out.push(n);
  return out;
}

/** The tag values a condition restricts TAGS to, or undefined. */
function pinnedTags(n: Node): string[] | undefined {
  if (n.type === 'in' && !n.negated && n.property.name === 'TAGS') return n.values;
  if (n.type === 'compare' && n.op === '=') {
    if (n.left.type === 'property' && n.left.name === 'TAGS' && n.right.type === 'string') return [n.right.value];
    if (n.right.type === 'property' && n.right.name === 'TAGS' && n.left.type === 'string') return [n.left.value];
  }
  return undefined;
}
