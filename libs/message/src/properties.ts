import { NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR } from './property-keys.js';

/** Message properties: an ordered string map (insertion order is the serialisation order). */
export type Properties = Map<string, string>;

/**
 * Serialises properties as RocketMQ does: `key U+0001 value U+0002` per pair, trailing U+0002
 * included. Entries whose value is null/undefined are skipped.
 */
export function encodeProperties(props: ReadonlyMap<string, string | null | undefined> | Record<string, string | null | undefined>): string {
  let out = '';
  const entries = props instanceof Map ? props.entries() : Object.entries(props);
  for (const [k, v] of entries) {
    if (v === null || v === undefined) continue;
    out += k + NAME_VALUE_SEPARATOR + v + PROPERTY_SEPARATOR;
  }
  return out;
}

/**
 * Parses a property string. Pieces without a U+0001, with an empty key or value, or shorter than 3 characters are ignored,
 * as RocketMQ's MessageDecoder.string2messageProperties does.
 */
export function decodeProperties(s: string): Properties {
  const map: Properties = new Map();
  let start = 0;
  const n = s.length;
  while (start < n) {
    let end = s.indexOf(PROPERTY_SEPARATOR, start);
    if (end < 0) end = n;
    if (end - start >= 3) {
      const sep = s.indexOf(NAME_VALUE_SEPARATOR, start);
      // Empty keys and empty values are dropped, as in Java.
      if (sep > start && sep < end - 1) map.set(s.substring(start, sep), s.substring(sep + 1, end));
    }
    start = end + 1;
  }
  return map;
}

/**
 * Reads one property from a serialised property string without building a map (hot paths).
 * Returns undefined when absent. Agrees with decodeProperties(s).get(key): a piece with an empty
 * value does not count, and of repeated keys the last one wins, as in Java.
 */
export function findProperty(s: string, key: string): string | undefined {
  if (key.length === 0 || key.includes(NAME_VALUE_SEPARATOR) || key.includes(PROPERTY_SEPARATOR)) return undefined;
  const needle = key + NAME_VALUE_SEPARATOR;
  let found: string | undefined;
  let from = 0;
  for (;;) {
    const i = s.indexOf(needle, from);
    if (i < 0) return found;
    if (i === 0 || s.charCodeAt(i - 1) === 2) {
      const valueStart = i + needle.length;
      let end = s.indexOf(PROPERTY_SEPARATOR, valueStart);
      if (end < 0) end = s.length;
      if (end > valueStart) found = s.substring(valueStart, end);
      from = end;
    } else {
      from = i + 1;
    }
  }
}
