/**
 * ROCKETMQ binary header (serialize type 1), RocketMQSerializable.java (facts §1):
 * code short · language byte · version short · opaque int · flag int ·
 * remark (int len + UTF-8, 0 = none) · extFields (int total len, then short keyLen + key, int valLen + value)*.
 * Every length is checked against the header's own bounds.
 */
import { languageCode, languageName, type RemotingHeader } from './command.js';
import { EncodeError, HeaderError } from './errors.js';
import { MAX_EXT_FIELDS, isInt16, isInt32, preview, setOwn } from './values.js';

/** Bytes of a header with no remark and no extFields. */
export const ROCKETMQ_HEADER_MIN_LENGTH = 2 + 1 + 2 + 4 + 4 + 4 + 4;

export function encodeRocketMqHeader(h: RemotingHeader): Buffer {
  if (!isInt16(h.code)) throw new EncodeError(`code ${preview(h.code)} does not fit the ROCKETMQ header's short`);
  if (!isInt16(h.version)) throw new EncodeError(`version ${preview(h.version)} does not fit the ROCKETMQ header's short`);
  if (!isInt32(h.opaque)) throw new EncodeError(`opaque must be a 32-bit integer, got ${preview(h.opaque)}`);
  if (!isInt32(h.flag)) throw new EncodeError(`flag must be a 32-bit integer, got ${preview(h.flag)}`);
  const lang = languageCode(h.language);
  if (lang === undefined) throw new EncodeError(`unknown language ${preview(h.language)}`);

  const remark = h.remark ? Buffer.from(h.remark, 'utf8') : undefined;
  const entries: [Buffer, Buffer][] = [];
  let extLen = 0;
  for (const [k, v] of Object.entries(h.extFields ?? {})) {
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new EncodeError(`extFields.${k} must be a string, got ${preview(v)}`);
    const key = Buffer.from(k, 'utf8');
    if (key.length > 0x7fff) throw new EncodeError(`extFields key longer than 32767 bytes`);
    const val = Buffer.from(v, 'utf8');
    entries.push([key, val]);
    extLen += 2 + key.length + 4 + val.length;
  }

  const out = Buffer.allocUnsafe(ROCKETMQ_HEADER_MIN_LENGTH + (remark?.length ?? 0) + extLen);
  let p = out.writeInt16BE(h.code, 0);
  p = out.writeUInt8(lang, p);
  p = out.writeInt16BE(h.version, p);
  p = out.writeInt32BE(h.opaque, p);
  p = out.writeInt32BE(h.flag, p);
  p = out.writeInt32BE(remark?.length ?? 0, p);
  if (remark) p += remark.copy(out, p);
  p = out.writeInt32BE(extLen, p);
  for (const [key, val] of entries) {
    p = out.writeInt16BE(key.length, p);
    p += key.copy(out, p);
    p = out.writeInt32BE(val.length, p);
    p += val.copy(out, p);
  }
  return out;
}

/** Decodes a ROCKETMQ header occupying exactly `buf`. */
export function decodeRocketMqHeader(buf: Buffer): RemotingHeader {
  let p = 0;
  const need = (n: number, end: number, what: string): void => {
    if (n < 0 || p + n > end) throw new HeaderError(`ROCKETMQ header truncated or overrun at ${what} (offset ${p}, need ${n}, limit ${end})`);
  };
  const end = buf.length;
  need(ROCKETMQ_HEADER_MIN_LENGTH - 8, end, 'fixed fields');
  const code = buf.readInt16BE(0);
  // Java: LanguageCode.valueOf(byte) → null when unknown; we keep the command and say OTHER.
  const language = languageName(buf.readInt8(2)) ?? 'OTHER';
  const version = buf.readInt16BE(3);
  const opaque = buf.readInt32BE(5);
  const flag = buf.readInt32BE(9);
  p = 13;

  need(4, end, 'remark length');
  const remarkLen = buf.readInt32BE(p);
  p += 4;
  need(remarkLen, end, 'remark');
  const remark = remarkLen > 0 ? buf.toString('utf8', p, p + remarkLen) : undefined;
  p += remarkLen;

  need(4, end, 'extFields length');
  const extLen = buf.readInt32BE(p);
  p += 4;
  need(extLen, end, 'extFields');
  const extEnd = p + extLen;
  const extFields: Record<string, string> = {};
  let fields = 0;
  while (p < extEnd) {
    if (++fields > MAX_EXT_FIELDS) throw new HeaderError(`header has more than ${MAX_EXT_FIELDS} extFields`);
    need(2, extEnd, 'extFields key length');
    const keyLen = buf.readInt16BE(p);
    p += 2;
    need(keyLen, extEnd, 'extFields key');
    const key = buf.toString('utf8', p, p + keyLen);
    p += keyLen;
    need(4, extEnd, 'extFields value length');
    const valLen = buf.readInt32BE(p);
    p += 4;
    need(valLen, extEnd, 'extFields value');
    setOwn(extFields, key, buf.toString('utf8', p, p + valLen));
    p += valLen;
  }
  if (p !== end) throw new HeaderError(`ROCKETMQ header has ${end - p} trailing bytes`);

  const header: RemotingHeader = { code, language, version, opaque, flag, extFields };
  if (remark !== undefined) header.remark = remark;
  return header;
}
