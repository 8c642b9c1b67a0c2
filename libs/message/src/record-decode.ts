import { crc32Masked } from './crc.js';
import { CorruptRecordError } from './errors.js';
import { decodeHost, type HostAddress } from './host.js';
import { readInt64BE } from './int64.js';
import { createOffsetMessageId } from './message-id.js';
import { decodeProperties, type Properties } from './properties.js';
import { MessageMagic, RecordOffset, recordPositions } from './record-layout.js';
import { RECORD_CRC_RESERVED_BYTES, hasDamagedRecordCrc, hasRecordCrc, verifyRecordCrc } from './record.js';
import { SysFlag } from './sysflag.js';

/** A stored message, decoded (RocketMQ MessageExt). */
export interface MessageExt {
  storeSize: number;
  /** 1 or 2 (record magic version). */
  version: 1 | 2;
  bodyCrc: number;
  queueId: number;
  flag: number;
  queueOffset: number;
  commitLogOffset: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: HostAddress;
  storeTimestamp: number;
  storeHost: HostAddress;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  /** The body as stored (compressed if sysFlag says so). */
  body: Buffer;
  topic: string;
  properties: Properties;
  /** Offset message id: store host + commit-log offset, uppercase hex. */
  msgId: string;
}

/** Outcome of checking bytes that should hold a record (used by recovery and cold reads). */
export type RecordCheck = { kind: 'record'; size: number } | { kind: 'blank'; size: number } | { kind: 'end' } | { kind: 'corrupt'; reason: string };

export interface CheckOptions {
  /** The commit-log offset the record must say it is at (PHYSICALOFFSET). */
  expectedPhysicalOffset?: number;
  /** Verify BODYCRC (default true). */
  bodyCrc?: boolean;
  /** Verify the `__CRC32#` whole-record checksum when present (default true). */
  recordCrc?: boolean;
  /** Fail when the record carries no `__CRC32#` checksum (default false). */
  requireRecordCrc?: boolean;
}

/**
 * Checks the record at `pos`, with `available` bytes readable from there. Never throws and never
 * reads out of bounds: a short, torn or damaged record is reported as 'corrupt', a zero TOTALSIZE
 * (never-written, preallocated space) as 'end'.
 */
export function checkRecord(buf: Buffer, pos: number, available: number, opts: CheckOptions = {}): RecordCheck {
  // Never look past the buffer, whatever the caller believes is available.
  if (available > buf.length - pos) available = buf.length - pos;
  if (available < 8) return available <= 0 || isZero(buf, pos, available) ? { kind: 'end' } : { kind: 'corrupt', reason: 'truncated header' };
  const size = buf.readInt32BE(pos);
  const magic = buf.readInt32BE(pos + 4);
  if (size === 0 && magic === 0) return { kind: 'end' };
  if (magic === MessageMagic.BLANK) {
    if (size < 8 || size > available) return { kind: 'corrupt', reason: `blank filler of ${size} bytes with ${available} left` };
    return { kind: 'blank', size };
  }
  if (magic !== MessageMagic.V1 && magic !== MessageMagic.V2) return { kind: 'corrupt', reason: `bad magic 0x${(magic >>> 0).toString(16)}` };
  if (size < RecordOffset.BORN_HOST + 8 || size > available) return { kind: 'corrupt', reason: `size ${size} out of bounds (${available} available)` };
  const end = pos + size;
  const sysFlag = buf.readInt32BE(pos + RecordOffset.SYS_FLAG);
  const at = recordPositions(sysFlag, pos);
  if (at.bodyLength + 4 > end) return { kind: 'corrupt', reason: 'header overruns record' };
  const bodyLen = buf.readInt32BE(at.bodyLength);
  const bodyStart = at.bodyLength + 4;
  if (bodyLen < 0 || bodyStart + bodyLen > end) return { kind: 'corrupt', reason: `body length ${bodyLen} overruns record` };
  let p = bodyStart + bodyLen;
  const v2 = magic === MessageMagic.V2;
  if (p + (v2 ? 2 : 1) > end) return { kind: 'corrupt', reason: 'topic length overruns record' };
  const topicLen = v2 ? buf.readInt16BE(p) : buf[p]!;
  p += v2 ? 2 : 1;
  // v1 stores the length in a signed byte (Java reads 128..255 as negative): at most 127.
  if (!v2 && topicLen > 127) return { kind: 'corrupt', reason: `v1 topic length ${topicLen} over 127` };
  if (topicLen < 0 || p + topicLen + 2 > end) return { kind: 'corrupt', reason: 'topic overruns record' };
  p += topicLen;
  const propsLen = buf.readInt16BE(p);
  p += 2;
  if (propsLen < 0 || p + propsLen !== end) return { kind: 'corrupt', reason: 'properties do not end the record' };
  if (opts.expectedPhysicalOffset !== undefined) {
    const phys = readInt64BE(buf, pos + RecordOffset.PHYSICAL_OFFSET);
    if (phys !== opts.expectedPhysicalOffset) return { kind: 'corrupt', reason: `record says offset ${phys}, found at ${opts.expectedPhysicalOffset}` };
  }
  if (opts.bodyCrc !== false && crc32Masked(buf, bodyStart, bodyStart + bodyLen) !== buf.readInt32BE(pos + RecordOffset.BODY_CRC)) {
    return { kind: 'corrupt', reason: 'body CRC mismatch' };
  }
  const withCrc = propsLen >= RECORD_CRC_RESERVED_BYTES && hasRecordCrc(buf, pos, size);
  // A record CRC property whose marker lost one byte is damage, not a record without checksum.
  if (!withCrc && opts.recordCrc !== false && hasDamagedRecordCrc(buf, end - propsLen, end)) {
    return { kind: 'corrupt', reason: 'record CRC property damaged' };
  }
  if (!withCrc && opts.requireRecordCrc) return { kind: 'corrupt', reason: 'record CRC property missing' };
  if (withCrc && opts.recordCrc !== false && !verifyRecordCrc(buf, pos, size)) return { kind: 'corrupt', reason: 'record CRC mismatch' };
  return { kind: 'record', size };
}

function isZero(buf: Buffer, pos: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (buf[pos + i] !== 0) return false;
  return true;
}

/**
 * Decodes one record at `pos`. Throws CorruptRecordError for a record that does not parse; it
 * does not verify CRCs (use checkRecord for that).
 */
export function decodeRecord(buf: Buffer, pos = 0): MessageExt {
  const content = decodeRecordContent(buf, pos);
  const sysFlag = content.sysFlag;
  const at = recordPositions(sysFlag, pos);
  const bornV6 = (sysFlag & SysFlag.BORNHOST_V6) !== 0;
  const storeV6 = (sysFlag & SysFlag.STOREHOST_V6) !== 0;
  const commitLogOffset = readInt64BE(buf, pos + RecordOffset.PHYSICAL_OFFSET);
  return {
    storeSize: buf.readInt32BE(pos + RecordOffset.TOTAL_SIZE),
    version: buf.readInt32BE(pos + RecordOffset.MAGIC) === MessageMagic.V2 ? 2 : 1,
    bodyCrc: buf.readInt32BE(pos + RecordOffset.BODY_CRC),
    queueId: buf.readInt32BE(pos + RecordOffset.QUEUE_ID),
    flag: buf.readInt32BE(pos + RecordOffset.FLAG),
    queueOffset: readInt64BE(buf, pos + RecordOffset.QUEUE_OFFSET),
    commitLogOffset,
    sysFlag,
    bornTimestamp: readInt64BE(buf, pos + RecordOffset.BORN_TIMESTAMP),
    bornHost: decodeHost(buf, at.bornHost, bornV6),
    storeTimestamp: readInt64BE(buf, at.storeTimestamp),
    storeHost: decodeHost(buf, at.storeHost, storeV6),
    reconsumeTimes: buf.readInt32BE(at.reconsumeTimes),
    preparedTransactionOffset: readInt64BE(buf, at.preparedTransactionOffset),
    body: content.body,
    topic: content.topic,
    properties: content.properties,
    msgId: createOffsetMessageId(buf.subarray(at.storeHost, at.storeHost + (storeV6 ? 20 : 8)), commitLogOffset),
  };
}

/** What a delivery needs of a record (see decodeRecordContent). */
export interface RecordContent {
  topic: string;
  sysFlag: number;
  /** The body as stored (compressed when sysFlag says so); a view of the record. */
  body: Buffer;
  properties: Properties;
}

/**
 * Decodes only the topic, sysFlag, body and properties of the record at `pos` — no message id,
 * hosts or timestamps — for hot delivery paths. Same structural checks and errors as decodeRecord.
 */
export function decodeRecordContent(buf: Buffer, pos = 0): RecordContent {
  const check = checkRecord(buf, pos, buf.length - pos, { bodyCrc: false, recordCrc: false });
  if (check.kind !== 'record') throw new CorruptRecordError(check.kind === 'corrupt' ? check.reason : `no record at ${pos}`);
  const magic = buf.readInt32BE(pos + RecordOffset.MAGIC);
  const sysFlag = buf.readInt32BE(pos + RecordOffset.SYS_FLAG);
  const at = recordPositions(sysFlag, pos);
  const bodyLen = buf.readInt32BE(at.bodyLength);
  const bodyStart = at.bodyLength + 4;
  let p = bodyStart + bodyLen;
  const v2 = magic === MessageMagic.V2;
  const topicLen = v2 ? buf.readInt16BE(p) : buf[p]!;
  p += v2 ? 2 : 1;
  const topic = buf.toString('utf8', p, p + topicLen);
  p += topicLen;
  const propsLen = buf.readInt16BE(p);
  p += 2;
  return { topic, sysFlag, body: buf.subarray(bodyStart, bodyStart + bodyLen), properties: decodeProperties(buf.toString('utf8', p, p + propsLen)) };
}

/** Decodes consecutive records (a pull/query response body). */
export function decodeRecords(buf: Buffer): MessageExt[] {
  const out: MessageExt[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const m = decodeRecord(buf, pos);
    out.push(m);
    pos += m.storeSize;
  }
  return out;
}

/** Reads the property string of the record at `pos` without decoding anything else. */
export function readRecordProperties(buf: Buffer, pos: number): string {
  const size = buf.readInt32BE(pos);
  const magic = buf.readInt32BE(pos + RecordOffset.MAGIC);
  const at = recordPositions(buf.readInt32BE(pos + RecordOffset.SYS_FLAG), pos);
  let p = at.bodyLength + 4 + buf.readInt32BE(at.bodyLength);
  const topicLen = magic === MessageMagic.V2 ? buf.readInt16BE(p) : buf[p]!;
  p += (magic === MessageMagic.V2 ? 2 : 1) + topicLen;
  const propsLen = buf.readInt16BE(p);
  if (p + 2 + propsLen !== pos + size) throw new CorruptRecordError('properties do not end the record');
  return buf.toString('utf8', p + 2, p + 2 + propsLen);
}
