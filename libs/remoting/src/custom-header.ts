/**
 * Typed access to a command's custom header (extFields). Java decodes each field by its declared
 * type (Integer.parseInt, Long.parseLong, Boolean) and fails the request when a @CFNotNull field is
 * missing; these helpers throw HeaderFieldError, which the broker turns into an error response.
 */
import { EncodeError, HeaderFieldError } from './errors.js';
import { preview, setOwn } from './values.js';

export type ExtFields = Readonly<Record<string, string>>;

/** Decimal integer as Java's parseInt/parseLong accept it: optional sign, ASCII digits. */
const DECIMAL = /^[+-]?\d+$/;

function get(ext: ExtFields, field: string): string | undefined {
  return Object.hasOwn(ext, field) ? ext[field] : undefined;
}

function missing(field: string): HeaderFieldError {
  return new HeaderFieldError(field, 'missing', `required header field "${field}" is missing`);
}

function invalid(field: string, type: string, value: string): HeaderFieldError {
  return new HeaderFieldError(field, 'invalid', `header field "${field}" is not a valid ${type}: ${preview(value)}`);
}

function parseInteger(field: string, value: string, type: string, min: number, max: number): number {
  if (!DECIMAL.test(value)) throw invalid(field, type, value);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw invalid(field, type, value);
  return n;
}

function parseBool(field: string, value: string): boolean {
  const lower = value.toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  throw invalid(field, 'boolean', value);
}

export function requireString(ext: ExtFields, field: string): string {
  const v = get(ext, field);
  if (v === undefined) throw missing(field);
  return v;
}

export function optionalString(ext: ExtFields, field: string): string | undefined {
  return get(ext, field);
}

/** Java int: decimal, −2^31 … 2^31−1. */
export function requireInt(ext: ExtFields, field: string): number {
  return parseInteger(field, requireString(ext, field), 'int', -0x80000000, 0x7fffffff);
}

export function optionalInt(ext: ExtFields, field: string): number | undefined {
  const v = get(ext, field);
  return v === undefined ? undefined : parseInteger(field, v, 'int', -0x80000000, 0x7fffffff);
}

/** Long.MIN_VALUE and Long.MAX_VALUE: a header long is any decimal Long.parseLong accepts. */
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/**
 * A Java long as Long.parseLong reads it (optional sign, ASCII digits, −2^63 … 2^63−1) as a number:
 * exact within ±(2^53−1), rounded beyond. Anything else throws "not a valid long".
 */
function parseLong(field: string, value: string): number {
  if (!DECIMAL.test(value)) throw invalid(field, 'long', value);
  const n = Number(value);
  if (Number.isSafeInteger(n)) return n;
  // Past ±(2^53−1) only: BigInt tells a long (rounded to a number here) from a value past 64 bits.
  const big = BigInt(value);
  if (big < LONG_MIN || big > LONG_MAX) throw invalid(field, 'long', value);
  return n;
}

/**
 * A Java long that must stay exact (an offset, a stored timestamp, an id). Every long parses, but
 * one past ±(2^53−1) — beyond any offset or time a store can hold — is refused with a remark that
 * says so rather than carried rounded.
 */
export function requireLong(ext: ExtFields, field: string): number {
  return exactLong(field, requireString(ext, field));
}

export function optionalLong(ext: ExtFields, field: string): number | undefined {
  const v = get(ext, field);
  return v === undefined ? undefined : exactLong(field, v);
}

function exactLong(field: string, value: string): number {
  const n = parseLong(field, value);
  if (Number.isSafeInteger(n)) return n;
  throw new HeaderFieldError(
    field,
    'invalid',
    `header field "${field}" is ${preview(value)}: a long, but beyond 2^53-1 in magnitude (${Number.MAX_SAFE_INTEGER}), which this field cannot carry exactly`,
  );
}

/**
 * A Java long that bounds something (a time range end, a timeout, a position compared with a
 * queue's range): every long is accepted and one past ±(2^53−1) is clamped to it, which bounds
 * the same way — 2^53 ms is 285,000 years, and no queue reaches offset 2^53. The Java client's
 * viewMessage sends Long.MAX_VALUE as the end of its time range.
 */
export function requireClampedLong(ext: ExtFields, field: string): number {
  return clamp(parseLong(field, requireString(ext, field)));
}

export function optionalClampedLong(ext: ExtFields, field: string): number | undefined {
  const v = get(ext, field);
  return v === undefined ? undefined : clamp(parseLong(field, v));
}

function clamp(n: number): number {
  return n > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : n < Number.MIN_SAFE_INTEGER ? Number.MIN_SAFE_INTEGER : n;
}

/** "true"/"false" (any case). */
export function requireBool(ext: ExtFields, field: string): boolean {
  return parseBool(field, requireString(ext, field));
}

/** "true"/"false" (any case); absent → undefined. */
export function optionalBool(ext: ExtFields, field: string): boolean | undefined {
  const v = get(ext, field);
  return v === undefined ? undefined : parseBool(field, v);
}

export type ExtFieldValue = string | number | bigint | boolean | null | undefined;

/**
 * A header object as extFields, the way Java's makeCustomHeaderToNet does: null/undefined omitted,
 * numbers in decimal, booleans "true"/"false". NaN, ±Infinity and |n| ≥ 1e21 (exponent form) throw EncodeError.
 */
export function toExtFields(obj: Readonly<Record<string, ExtFieldValue>>): Record<string, string> {
  const out: Record<string, string> = {};
  // for-in, not Object.entries: this runs for every request a client sends.
  for (const k in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, k)) continue;
    const v = obj[k];
    if (v === null || v === undefined) continue;
    if (typeof v === 'string') setOwn(out, k, v);
    else if (typeof v === 'number') {
      if (!Number.isFinite(v) || Math.abs(v) >= 1e21) throw new EncodeError(`extFields.${k}: ${v} has no decimal form`);
      setOwn(out, k, String(v));
    } else if (typeof v === 'bigint' || typeof v === 'boolean') setOwn(out, k, String(v));
    else throw new EncodeError(`extFields.${k}: unsupported value type ${typeof v}`);
  }
  return out;
}
