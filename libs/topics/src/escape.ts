import { createHash } from 'node:crypto';

/*
 * Two reversible escapes turn arbitrary MQTT strings (valid Unicode) into store names.
 *
 * RocketMQ names (topics, consumer groups; charset [%|a-zA-Z0-9_-]) — `escapeRocketName`:
 *   [A-Za-z0-9-]            kept
 *   '/'                     '|'
 *   anything else           '_XX' per UTF-8 byte, XX two UPPERCASE hex digits ('_' → '_5F',
 *                           '|' → '_7C', '%' → '_25', '$' → '_24', 'é' → '_C3_A9')
 * Output alphabet [A-Za-z0-9_|-]: no '%', so an escaped name never looks like %RETRY%/%LMQ%… and
 * RocketMQ namespaces (which split on '%') leave it alone. Every '_' starts a three-character
 * escape, so the escape is uniquely decodable (unescapeRocketName) and hence injective.
 *
 * LMQ name levels (LMQ names take anything but control characters and ',') — `escapeLmqLevel`:
 *   '%' (the level separator in LMQ names)  '~25'
 *   '~' (the escape character itself)       '~7E'
 *   ',' (separates INNER_MULTI_DISPATCH)    '~2C'
 *   U+0001–U+001F, U+007F (controls)        '~XX'
 *   anything else                           kept (so `a/b/c` → `%LMQ%a%b%c%` as in rocketmq-mqtt)
 * The escape cannot start with '%': '%' separates levels, and after a separator any character may
 * begin a level, so `a%b` escaped as `a%25b` would equal the topic `a/25b`.
 *
 * Names that would be too long keep a prefix of the escaped text, cut on an escape boundary, then
 * a marker that the escape never produces (`_H` resp. `~H`: the escape character followed by a
 * non-hex letter) and 32 lowercase hex digits (128 bits) of SHA-256 over the UTF-8 of the
 * original string. Deterministic across restarts and processes; distinct strings give distinct
 * names unless SHA-256 collides in 128 bits.
 */

const HEX = '0123456789ABCDEF';

/** Marker of a hash-shortened RocketMQ name (never produced by escapeRocketName). */
export const ROCKET_HASH_MARKER = '_H';
/** Marker of a hash-shortened LMQ name (never produced by escapeLmqLevel). */
export const LMQ_HASH_MARKER = '~H';
/** Hex digits of the hash suffix. */
export const HASH_HEX_DIGITS = 32;

/** First HASH_HEX_DIGITS lowercase hex digits of SHA-256 over the UTF-8 bytes of `s`. */
export function nameHash(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex').slice(0, HASH_HEX_DIGITS);
}

function isKept(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d;
}

function hexByte(esc: string, b: number): string {
  return esc + HEX[b >> 4]! + HEX[b & 15]!;
}

/**
 * Escapes `s` into [A-Za-z0-9_|-] (table above). `s` must be valid Unicode (no lone surrogates):
 * callers validate first, as a lone surrogate has no UTF-8 form.
 */
export function escapeRocketName(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isKept(c)) out += s[i];
    else if (c === 0x2f) out += '|';
    else if (c < 0x80) out += hexByte('_', c);
    else if (c < 0x800) out += hexByte('_', 0xc0 | (c >> 6)) + hexByte('_', 0x80 | (c & 63));
    else if (c >= 0xd800 && c <= 0xdbff) {
      const cp = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      out += hexByte('_', 0xf0 | (cp >> 18)) + hexByte('_', 0x80 | ((cp >> 12) & 63)) + hexByte('_', 0x80 | ((cp >> 6) & 63)) + hexByte('_', 0x80 | (cp & 63));
    } else out += hexByte('_', 0xe0 | (c >> 12)) + hexByte('_', 0x80 | ((c >> 6) & 63)) + hexByte('_', 0x80 | (c & 63));
  }
  return out;
}

/**
 * Inverts escapeRocketName; undefined when `name` is not exactly what escapeRocketName produces
 * (a hash-shortened name, lowercase hex, an escaped character that need not be, bad UTF-8).
 */
export function unescapeRocketName(name: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (isKept(c)) bytes.push(c);
    else if (c === 0x7c) bytes.push(0x2f);
    else if (c === 0x5f) {
      const b = hexValue(name, i + 1);
      if (b < 0 || isKept(b) || b === 0x2f) return undefined;
      bytes.push(b);
      i += 2;
    } else return undefined;
  }
  const decoded = decodeUtf8(bytes);
  return decoded !== undefined && escapeRocketName(decoded) === name ? decoded : undefined;
}

/**
 * `prefix` + escapeRocketName(s) when that fits in `maxLength` characters; otherwise `prefix` +
 * a prefix of the escape + ROCKET_HASH_MARKER + nameHash(s), exactly `maxLength` long or shorter.
 */
export function fitRocketName(prefix: string, s: string, maxLength: number): string {
  const escaped = escapeRocketName(s);
  if (prefix.length + escaped.length <= maxLength) return prefix + escaped;
  let cut = maxLength - prefix.length - ROCKET_HASH_MARKER.length - HASH_HEX_DIGITS;
  // '_' only ever starts a three-character escape; do not split one.
  if (escaped.charCodeAt(cut - 1) === 0x5f) cut -= 1;
  else if (escaped.charCodeAt(cut - 2) === 0x5f) cut -= 2;
  return prefix + escaped.slice(0, cut) + ROCKET_HASH_MARKER + nameHash(s);
}

function needsLmqEscape(c: number): boolean {
  return c < 0x20 || c === 0x7f || c === 0x25 || c === 0x7e || c === 0x2c;
}

/** Escapes one topic level for an LMQ name (table above); keeps everything else as it is. */
export function escapeLmqLevel(level: string): string {
  let i = 0;
  while (i < level.length && !needsLmqEscape(level.charCodeAt(i))) i++;
  if (i === level.length) return level;
  let out = level.slice(0, i);
  for (; i < level.length; i++) {
    const c = level.charCodeAt(i);
    out += needsLmqEscape(c) ? hexByte('~', c) : level[i];
  }
  return out;
}

/** Inverts escapeLmqLevel; undefined for text escapeLmqLevel does not produce. */
export function unescapeLmqLevel(text: string): string | undefined {
  if (!text.includes('~')) return needsLmqEscapeAny(text) ? undefined : text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7e) {
      const b = hexValue(text, i + 1);
      if (b < 0 || !needsLmqEscape(b)) return undefined;
      out += String.fromCharCode(b);
      i += 2;
    } else if (needsLmqEscape(c)) return undefined;
    else out += text[i];
  }
  return out;
}

function needsLmqEscapeAny(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (needsLmqEscape(s.charCodeAt(i))) return true;
  return false;
}

/** The byte value of two UPPERCASE hex digits at `at`, or -1. */
function hexValue(s: string, at: number): number {
  const hi = HEX.indexOf(s[at] ?? 'x');
  const lo = HEX.indexOf(s[at + 1] ?? 'x');
  return hi < 0 || lo < 0 ? -1 : (hi << 4) | lo;
}

function decodeUtf8(bytes: number[]): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}
