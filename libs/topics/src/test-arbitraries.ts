// fast-check generators shared by the specs of this folder (not exported from the package).
import fc from 'fast-check';

/** Characters that stress the escapes: separators, escape characters, wildcards, controls, BOM, astral. */
export const TRICKY_CHARS = [
  'a',
  'b',
  'Z',
  '0',
  '-',
  '_',
  '|',
  '%',
  '~',
  ',',
  ' ',
  '.',
  '$',
  '+',
  '#',
  '/',
  'é',
  '€',
  '😀',
  '\u0001',
  '\u001f',
  '\u007f',
  '\u0085',
  '\uFEFF',
  '\u{10FFFF}',
  'H',
  '2',
  '5',
];

/** Any valid-Unicode string, biased towards TRICKY_CHARS. */
export function anyText(options: { minLength?: number; maxLength?: number } = {}): fc.Arbitrary<string> {
  const { minLength = 0, maxLength = 12 } = options;
  return fc.oneof(fc.string({ unit: fc.constantFrom(...TRICKY_CHARS), minLength, maxLength }), fc.string({ unit: 'binary', minLength, maxLength }));
}

/** A topic level (no `/`, `+`, `#`, U+0000) from the tricky characters or any code point. */
export function anyLevel(maxLength = 6): fc.Arbitrary<string> {
  return anyText({ maxLength }).map((s) => s.replace(/[/+#\u0000]/g, ''));
}

/** A valid topic name made of anyLevel levels. */
export function anyTopic(): fc.Arbitrary<string> {
  return fc
    .array(anyLevel(), { minLength: 1, maxLength: 5 })
    .map((levels) => levels.join('/'))
    .filter((t) => t.length > 0);
}

/** A valid topic filter made of anyLevel levels, `+` levels and maybe a final `#`. */
export function anyFilter(): fc.Arbitrary<string> {
  const level = fc.oneof({ weight: 3, arbitrary: anyLevel() }, { weight: 1, arbitrary: fc.constant('+') });
  return fc
    .tuple(fc.array(level, { minLength: 0, maxLength: 5 }), fc.boolean())
    .map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/'))
    .filter((f) => f.length > 0);
}

/** Levels from a tiny alphabet, so random filters and topics match each other often. */
const SMALL_LEVEL = fc.constantFrom('', 'a', 'b', '$', '$a');

/** A topic name over SMALL_LEVEL (`$` topics and empty levels included). */
export const smallTopic: fc.Arbitrary<string> = fc
  .array(SMALL_LEVEL, { minLength: 1, maxLength: 4 })
  .map((l) => l.join('/'))
  .filter((t) => t.length > 0);

/** A topic filter over SMALL_LEVEL, `+` and a final `#`. */
export const smallFilter: fc.Arbitrary<string> = fc
  .tuple(fc.array(fc.oneof(SMALL_LEVEL, fc.constant('+')), { minLength: 0, maxLength: 4 }), fc.boolean())
  .map(([levels, hash]) => (hash ? [...levels, '#'] : levels).join('/'))
  .filter((f) => f.length > 0);
