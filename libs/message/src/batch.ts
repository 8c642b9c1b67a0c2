import { CorruptRecordError } from './errors.js';

/** One message of a batch body (SEND_BATCH_MESSAGE). */
export interface BatchItem {
  flag: number;
  body: Buffer;
  /** Serialised property string. */
  properties: string;
}

/**
 * Encodes a batch body: per message TOTALSIZE, MAGIC (0), BODYCRC (0), FLAG, body length + body,
 * properties length (short) + properties.
 */
export function encodeBatchBody(items: readonly BatchItem[]): Buffer {
  const props = items.map((m) => Buffer.from(m.properties, 'utf8'));
  let total = 0;
  items.forEach((m, i) => (total += 4 + 4 + 4 + 4 + 4 + m.body.length + 2 + props[i]!.length));
  const out = Buffer.allocUnsafe(total);
  let p = 0;
  items.forEach((m, i) => {
    const size = 22 + m.body.length + props[i]!.length;
    out.writeInt32BE(size, p);
    out.writeInt32BE(0, p + 4);
    out.writeInt32BE(0, p + 8);
    out.writeInt32BE(m.flag, p + 12);
    out.writeInt32BE(m.body.length, p + 16);
    m.body.copy(out, p + 20);
    out.writeInt16BE(props[i]!.length, p + 20 + m.body.length);
    props[i]!.copy(out, p + 22 + m.body.length);
    p += size;
  });
  return out;
}

/**
 * Most messages one batch body may hold. A batch is bounded by the message size limit (4 MiB), in
 * which 22-byte empty entries would make 190,000 objects; real batches hold hundreds.
 */
export const MAX_BATCH_MESSAGES = 10_000;

/** Decodes a batch body; throws CorruptRecordError on any inconsistent length or more than `maxCount` entries. */
export function decodeBatchBody(buf: Buffer, maxCount = MAX_BATCH_MESSAGES): BatchItem[] {
  const out: BatchItem[] = [];
  let p = 0;
  while (p < buf.length) {
    if (out.length >= maxCount) throw new CorruptRecordError(`batch holds more than ${maxCount} messages`);
    if (p + 22 > buf.length) throw new CorruptRecordError(`batch entry at ${p} is truncated`);
    const size = buf.readInt32BE(p);
    if (size < 22 || p + size > buf.length) throw new CorruptRecordError(`batch entry at ${p} has size ${size}`);
    const flag = buf.readInt32BE(p + 12);
    const bodyLen = buf.readInt32BE(p + 16);
    if (bodyLen < 0 || 22 + bodyLen > size) throw new CorruptRecordError(`batch entry at ${p} has body length ${bodyLen}`);
    const body = buf.subarray(p + 20, p + 20 + bodyLen);
    const propsLen = buf.readInt16BE(p + 20 + bodyLen);
    if (propsLen < 0 || 22 + bodyLen + propsLen !== size) throw new CorruptRecordError(`batch entry at ${p} has properties length ${propsLen}`);
    const properties = buf.toString('utf8', p + 22 + bodyLen, p + 22 + bodyLen + propsLen);
    out.push({ flag, body, properties });
    p += size;
  }
  return out;
}
