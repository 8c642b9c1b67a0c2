/**
 * JSON header (serialize type 0), as RocketMQ's fastjson emits and accepts it (facts §1), plus the
 * quirks of ali-ons 3.12.0 (facts §10): raw JSON numbers/booleans/nulls inside extFields.
 */
import { DEFAULT_LANGUAGE, languageCode, languageName, type RemotingHeader } from './command.js';
import { EncodeError, HeaderError } from './errors.js';
import { MAX_EXT_FIELDS, isInt32, preview, setOwn } from './values.js';

/**
 * Encodes the header as Java does: keys in fastjson's alphabetical order, null keys omitted,
 * extFields omitted when empty, `serializeTypeCurrentRPC: "JSON"`.
 */
export function encodeJsonHeader(h: RemotingHeader): Buffer {
  return Buffer.from(jsonHeaderText(h), 'utf8');
}

/** The JSON header as text (what encodeJsonHeader encodes as UTF-8); same checks and errors. */
export function jsonHeaderText(h: RemotingHeader): string {
  for (const key of ['code', 'version', 'opaque', 'flag'] as const) {
    if (!isInt32(h[key])) throw new EncodeError(`${key} must be a 32-bit integer, got ${preview(h[key])}`);
  }
  if (typeof h.language !== 'string') throw new EncodeError(`language must be a string`);
  // Validate in place; copy only when some fields must be dropped (null/undefined), so the
  // common case serialises the caller's object as is.
  const given = h.extFields as Record<string, unknown> | undefined;
  let ext: Record<string, unknown> | undefined = given;
  let extCount = 0;
  let needsCopy = false;
  if (given) {
    for (const k in given) {
      if (!Object.prototype.hasOwnProperty.call(given, k)) continue;
      const v = given[k];
      if (v === undefined || v === null) {
        needsCopy = true;
        continue;
      }
      if (typeof v !== 'string') throw new EncodeError(`extFields.${k} must be a string, got ${preview(v)}`);
      extCount++;
    }
    if (needsCopy) {
      const copy: Record<string, string> = {};
      for (const k in given) {
        if (!Object.prototype.hasOwnProperty.call(given, k)) continue;
        const v = given[k];
        if (typeof v === 'string') setOwn(copy, k, v);
      }
      ext = copy;
    }
  }
  const obj: Record<string, unknown> = { code: h.code };
  if (extCount > 0) obj.extFields = ext;
  obj.flag = h.flag;
  obj.language = h.language;
  obj.opaque = h.opaque;
  if (h.remark !== undefined && h.remark !== null) obj.remark = h.remark;
  obj.serializeTypeCurrentRPC = 'JSON';
  obj.version = h.version;
  return JSON.stringify(obj);
}

/** Decodes a JSON header; anything that is not a header object throws HeaderError. */
export function decodeJsonHeader(bytes: Buffer): RemotingHeader {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new HeaderError('JSON header is not valid JSON', { cause: e });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new HeaderError('JSON header is not an object');
  }
  const o = parsed as Record<string, unknown>;
  if (o.code === undefined || o.code === null) throw new HeaderError('JSON header has no code');
  const header: RemotingHeader = {
    code: intKey(o, 'code'),
    language: languageKey(o.language),
    version: intKey(o, 'version'),
    opaque: intKey(o, 'opaque'),
    flag: intKey(o, 'flag'),
    extFields: extFieldsKey(o.extFields),
  };
  const remark = o.remark;
  if (typeof remark === 'string') header.remark = remark;
  else if (remark !== undefined && remark !== null) throw new HeaderError(`remark is not a string: ${preview(remark)}`);
  return header;
}

const INT_TEXT = /^[+-]?\d{1,11}$/;

/** A Java int key; absent/null → 0 (Java field default); numeric strings accepted as fastjson does. */
function intKey(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'string' && INT_TEXT.test(v) ? Number(v) : v;
  if (!isInt32(n)) throw new HeaderError(`${key} is not a 32-bit integer: ${preview(v)}`);
  return n;
}

/** Enum name or LanguageCode byte; unknown languages become OTHER, absent/null the Java default JAVA. */
function languageKey(v: unknown): string {
  if (v === undefined || v === null) return DEFAULT_LANGUAGE;
  if (typeof v === 'string') return languageCode(v) === undefined ? 'OTHER' : v;
  if (typeof v === 'number') return languageName(v) ?? 'OTHER';
  throw new HeaderError(`language is neither a name nor a code: ${preview(v)}`);
}

/**
 * extFields as a string map. ali-ons sends raw numbers/booleans (→ decimal / "true"/"false") and
 * may send nulls (→ dropped). Nested objects/arrays are kept as JSON text, as fastjson would.
 */
function extFieldsKey(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new HeaderError(`extFields is not an object: ${preview(v)}`);
  const src = v as Record<string, unknown>;
  // The common case (every value a string, as Java sends them) keeps JSON.parse's own object: no
  // copy per request. JSON.parse makes every key, "__proto__" included, an own data property.
  let allStrings = true;
  let fields = 0;
  for (const k in src) {
    if (++fields > MAX_EXT_FIELDS) throw new HeaderError(`header has more than ${MAX_EXT_FIELDS} extFields`);
    if (allStrings && typeof src[k] !== 'string') allStrings = false;
  }
  if (allStrings) return src as Record<string, string>;
  const out: Record<string, string> = {};
  for (const k in src) {
    if (!Object.prototype.hasOwnProperty.call(src, k)) continue;
    const val = src[k];
    if (val === null || val === undefined) continue;
    if (typeof val === 'string') setOwn(out, k, val);
    else if (typeof val === 'number' || typeof val === 'boolean') setOwn(out, k, String(val));
    else setOwn(out, k, JSON.stringify(val));
  }
  return out;
}
