/**
 * Checks a config-file section against the defaults object of its settings type: unknown keys,
 * wrong types and negative numbers are errors (a typo must not silently fall back to a default).
 */
export function checkSettings<T extends object>(name: string, defaults: T, section: unknown, source: string): Partial<T> {
  if (section === undefined) return {};
  if (typeof section !== 'object' || section === null || Array.isArray(section)) throw new Error(`${source}: "${name}" must be an object`);
  const known = defaults as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(section)) {
    if (!Object.hasOwn(known, k)) throw new Error(`${source}: unknown ${name} setting ${JSON.stringify(k)}; known: ${Object.keys(known).join(', ')}`);
    const expected = typeof known[k];
    if (typeof v !== expected) throw new Error(`${source}: ${name}.${k} must be a ${expected}, got ${JSON.stringify(v)}`);
    if (expected === 'number' && (!Number.isFinite(v as number) || (v as number) < 0)) throw new Error(`${source}: ${name}.${k} must be a non-negative number`);
    out[k] = v;
  }
  return out as Partial<T>;
}
