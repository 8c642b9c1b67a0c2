import { MalformedNamesrvBodyError } from './errors.js';

/** Small checked readers for decoded JSON, shared by the body parsers. */

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MalformedNamesrvBodyError(`${what} is not valid JSON`, { cause: error });
  }
}

export function requireRecord(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new MalformedNamesrvBodyError(`${what} is not a JSON object`);
  return value;
}

/** An integer field (Java int/long); `fallback` when absent or null, as Java field defaults. */
export function intField(obj: Record<string, unknown>, name: string, fallback: number, what: string): number {
  const value = obj[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new MalformedNamesrvBodyError(`${what}.${name} is not an integer`);
  }
  return value;
}

export function boolField(obj: Record<string, unknown>, name: string, fallback: boolean, what: string): boolean {
  const value = obj[name];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new MalformedNamesrvBodyError(`${what}.${name} is not a boolean`);
  return value;
}

/** A JSON object literal with keys in the given order (safe for any key, "__proto__" included). */
export function objectJson(entries: Iterable<readonly [string, string]>): string {
  const parts: string[] = [];
  for (const [key, valueJson] of entries) parts.push(`${JSON.stringify(key)}:${valueJson}`);
  return `{${parts.join(',')}}`;
}

/** A prototype-free record, so arbitrary keys (topic, broker and cluster names) stay plain data. */
export function dict<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
