/** Small value helpers shared by the header codecs. */

export function isInt32(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff;
}

export function isInt16(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= -0x8000 && v <= 0x7fff;
}

/** Sets an own enumerable property, also for the key "__proto__" (plain assignment would change the prototype). */
export function setOwn(obj: Record<string, string>, key: string, value: string): void {
  // defineProperty is slow on the hot path; only "__proto__" needs it.
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

/** A value shortened for an error message. */
export function preview(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'string' ? JSON.stringify(v) : String(JSON.stringify(v) ?? typeof v);
  } catch {
    s = typeof v;
  }
  return s.length > 64 ? `${s.slice(0, 61)}...` : s;
}

/** Most extFields a decoded header may carry (Java's requests send at most a few dozen). */
export const MAX_EXT_FIELDS = 1024;
