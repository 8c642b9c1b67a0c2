import { crc32Masked } from './crc.js';
import { IllegalMessageError } from './errors.js';
import { writeInt64BE } from './int64.js';
import { PropertyKey } from './property-keys.js';
import { MAX_PROPERTIES_BYTES, MAX_TOPIC_BYTES, MessageMagic, RecordOffset, V1_MAX_TOPIC_BYTES, computeRecordSize } from './record-layout.js';
import { SysFlag } from './sysflag.js';

/** Everything needed to write one stored record. Hosts are pre-encoded (see encodeHost). */
export interface RecordInput {
  /** UTF-8 bytes of the topic. */
  topic: Buffer;
  queueId: number;
  flag: number;
  queueOffset: number;
  physicalOffset: number;
  /** Host bits (0x10/0x20) are derived from the host lengths and need not be set. */
  sysFlag: number;
  bornTimestamp: number;
  /** 8 bytes (IPv4 + port) or 20 bytes (IPv6 + port). */
  bornHost: Buffer;
  storeTimestamp: number;
  storeHost: Buffer;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  /** The body as stored (already compressed when sysFlag says so). */
  body: Buffer;
  /** CRC of the body if the caller already has it (masked, see crc32Masked). */
  bodyCrc?: number;
  /** Serialised property string (see encodeProperties). */
  properties: string;
  /**
   * Bytes stored right after `properties`: already-serialised properties (UTF-8, ending with
   * U+0002), counted in propertiesByteLength. Lets a hot path append computed properties (LMQ
   * offsets) without building strings.
   */
  propertiesSuffix?: Buffer | undefined;
}

/** `__CRC32#` U+0001 + 10 digits + U+0002: RocketMQ's whole-record checksum property. */
const CRC_PREFIX = Buffer.from(`${PropertyKey.CRC32}\u0001`, 'latin1');
const CRC_MARKER_TEXT = `${PropertyKey.CRC32}\u0001`;
/** Bytes of the record CRC property at the very end of a record. */
export const RECORD_CRC_RESERVED_BYTES = CRC_PREFIX.length + 10 + 1;

/**
 * Bytes the properties will take in the record, the optional record CRC property included.
 * Without the record CRC, properties whose last bytes would read back as a record CRC property
 * (a stale `__CRC32#` copied from another record, or a look-alike) get one extra U+0002 appended,
 * so that checkRecord does not take them for a wrong or damaged checksum. Parsers ignore the
 * resulting empty piece.
 */
export function storedPropertiesLength(properties: string, propertiesByteLength: number, withRecordCrc: boolean, suffix?: Buffer): number {
  if (suffix && suffix.length > 0) {
    // A suffix ends with U+0002 after a property that is not the checksum.
    return propertiesByteLength + (withRecordCrc ? RECORD_CRC_RESERVED_BYTES : 0);
  }
  if (!withRecordCrc) return propertiesByteLength + (propertiesEndLikeRecordCrc(properties, propertiesByteLength) ? 1 : 0);
  const needsSeparator = propertiesByteLength > 0 && properties.charCodeAt(properties.length - 1) !== 2;
  return propertiesByteLength + (needsSeparator ? 1 : 0) + RECORD_CRC_RESERVED_BYTES;
}

/** Size of the record `input` encodes to. Throws IllegalMessageError when a part is too long. */
export function encodedRecordSize(input: RecordInput, propertiesByteLength: number, withRecordCrc: boolean): number {
  const propsLen = storedPropertiesLength(input.properties, propertiesByteLength, withRecordCrc, input.propertiesSuffix);
  if (propsLen > MAX_PROPERTIES_BYTES) {
    throw new IllegalMessageError(`properties take ${propsLen} bytes; at most ${MAX_PROPERTIES_BYTES} fit in a record`);
  }
  if (input.topic.length > MAX_TOPIC_BYTES) {
    throw new IllegalMessageError(`topic takes ${input.topic.length} bytes; at most ${MAX_TOPIC_BYTES} fit in a record`);
  }
  // The sysFlag host bits can only say 8 (IPv4) or 20 (IPv6) bytes; anything else would be unreadable.
  checkHostLength('born', input.bornHost.length);
  checkHostLength('store', input.storeHost.length);
  return computeRecordSize(input.body.length, input.topic.length, propsLen, input.bornHost.length, input.storeHost.length);
}

function checkHostLength(name: string, length: number): void {
  if (length !== 8 && length !== 20) throw new IllegalMessageError(`${name} host takes ${length} bytes; it must be 8 (IPv4) or 20 (IPv6)`);
}

/**
 * Writes the record at `pos` of `target` (which must have room for `size` bytes, as returned by
 * encodedRecordSize) and returns the body CRC written. With `withRecordCrc`, the properties end
 * with a `__CRC32#` property holding the CRC of every byte before it (RocketMQ's
 * enabledAppendPropCRC format), so any corrupted byte of the record is detectable.
 */
export function writeRecord(input: RecordInput, propertiesByteLength: number, withRecordCrc: boolean, size: number, target: Buffer, pos: number): number {
  const bornV6 = input.bornHost.length === 20;
  const storeV6 = input.storeHost.length === 20;
  const sysFlag = (input.sysFlag & ~(SysFlag.BORNHOST_V6 | SysFlag.STOREHOST_V6)) | (bornV6 ? SysFlag.BORNHOST_V6 : 0) | (storeV6 ? SysFlag.STOREHOST_V6 : 0);
  const v2 = input.topic.length > V1_MAX_TOPIC_BYTES;
  const bodyCrc = input.bodyCrc ?? crc32Masked(input.body);

  target.writeInt32BE(size, pos + RecordOffset.TOTAL_SIZE);
  target.writeInt32BE(v2 ? MessageMagic.V2 : MessageMagic.V1, pos + RecordOffset.MAGIC);
  target.writeInt32BE(bodyCrc, pos + RecordOffset.BODY_CRC);
  target.writeInt32BE(input.queueId, pos + RecordOffset.QUEUE_ID);
  target.writeInt32BE(input.flag, pos + RecordOffset.FLAG);
  writeInt64BE(target, input.queueOffset, pos + RecordOffset.QUEUE_OFFSET);
  writeInt64BE(target, input.physicalOffset, pos + RecordOffset.PHYSICAL_OFFSET);
  target.writeInt32BE(sysFlag, pos + RecordOffset.SYS_FLAG);
  writeInt64BE(target, input.bornTimestamp, pos + RecordOffset.BORN_TIMESTAMP);
  let p = pos + RecordOffset.BORN_HOST;
  p += input.bornHost.copy(target, p);
  writeInt64BE(target, input.storeTimestamp, p);
  p += 8;
  p += input.storeHost.copy(target, p);
  target.writeInt32BE(input.reconsumeTimes, p);
  p += 4;
  writeInt64BE(target, input.preparedTransactionOffset, p);
  p += 8;
  target.writeInt32BE(input.body.length, p);
  p += 4;
  p += input.body.copy(target, p);
  if (v2) {
    target.writeInt16BE(input.topic.length, p);
    p += 2;
  } else {
    target[p++] = input.topic.length;
  }
  p += input.topic.copy(target, p);
  const suffix = input.propertiesSuffix;
  const propsLen = storedPropertiesLength(input.properties, propertiesByteLength, withRecordCrc, suffix);
  target.writeInt16BE(propsLen, p);
  p += 2;
  const textBytes = suffix ? propertiesByteLength - suffix.length : propertiesByteLength;
  if (textBytes > 0) p += target.write(input.properties, p, textBytes, 'utf8');
  const hasSuffix = suffix !== undefined && suffix.length > 0;
  if (hasSuffix) p += suffix.copy(target, p);
  if (!withRecordCrc) {
    // See storedPropertiesLength: keeps the properties from ending like a record CRC property.
    if (propsLen > propertiesByteLength) target[p++] = 2;
  } else {
    if (!hasSuffix && propertiesByteLength > 0 && input.properties.charCodeAt(input.properties.length - 1) !== 2) target[p++] = 2;
    // The checksum covers every byte before the `__CRC32#` marker (RocketMQ: size - CRC32_RESERVED_LEN).
    const crc = crc32Masked(target, pos, p);
    p += CRC_PREFIX.copy(target, p);
    writeCrcDigits(crc, target, p);
    p += 10;
    target[p++] = 2;
  }
  if (p - pos !== size) throw new IllegalMessageError(`record encoded to ${p - pos} bytes, expected ${size}`);
  return bodyCrc;
}

/** Ten ASCII digits, least significant first (RocketMQ MessageDecoder.createCrc32). */
function writeCrcDigits(crc: number, target: Buffer, pos: number): void {
  let v = crc;
  for (let i = 0; i < 10; i++) {
    target[pos + i] = 48 + (v > 0 ? v % 10 : 0);
    v = Math.floor(v / 10);
  }
}

/**
 * One record in a buffer of its own, without the whole-record checksum: what a message is as
 * MessageDecoder.encode writes it (check-back bodies, test fixtures), not what the store appends.
 */
export function encodeStandaloneRecord(input: RecordInput): Buffer {
  const propsLen = Buffer.byteLength(input.properties, 'utf8');
  const size = encodedRecordSize(input, propsLen, false);
  const out = Buffer.alloc(size);
  writeRecord(input, propsLen, false, size, out, 0);
  return out;
}

/** Reads the ten-digit CRC written by writeCrcDigits, or -1 if they are not digits. */
export function readCrcDigits(buf: Buffer, pos: number): number {
  let v = 0;
  for (let i = 9; i >= 0; i--) {
    const d = buf[pos + i]! - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * True when the record at `pos` (of total `size`) ends with a record CRC property. Checks the
 * fixed `__CRC32#` marker bytes in place, without decoding the properties.
 */
export function hasRecordCrc(buf: Buffer, pos: number, size: number): boolean {
  const start = pos + size - RECORD_CRC_RESERVED_BYTES;
  if (start < pos || buf[pos + size - 1] !== 2) return false;
  return buf.compare(CRC_PREFIX, 0, CRC_PREFIX.length, start, start + CRC_PREFIX.length) === 0;
}

/** Offsets of the fixed bytes of a record CRC property (`__CRC32#`, U+0001, and the final U+0002). */
const CRC_FIXED_BYTES: ReadonlyArray<readonly [offset: number, value: number]> = [
  ...[...CRC_PREFIX].map((v, i) => [i, v] as const),
  [RECORD_CRC_RESERVED_BYTES - 1, 2],
];

/**
 * True when the property bytes [propsStart, propsEnd) end like a record CRC property with exactly
 * one of its fixed bytes (`__CRC32#`, U+0001, final U+0002) wrong, while its ten digits and the
 * property boundary before it are intact. checkRecord treats that as damage, so a single damaged
 * byte cannot turn a checksummed record into a record that merely lacks a checksum.
 */
export function hasDamagedRecordCrc(buf: Buffer, propsStart: number, propsEnd: number): boolean {
  const start = propsEnd - RECORD_CRC_RESERVED_BYTES;
  if (start < propsStart || (start > propsStart && buf[start - 1] !== 2)) return false;
  for (let i = CRC_PREFIX.length; i < CRC_PREFIX.length + 10; i++) {
    const c = buf[start + i]!;
    if (c < 48 || c > 57) return false;
  }
  let wrong = 0;
  for (const [offset, value] of CRC_FIXED_BYTES) if (buf[start + offset] !== value) wrong++;
  return wrong === 1;
}

/** True when these serialised properties, stored as they are, would end like a record CRC property (intact or damaged). */
function propertiesEndLikeRecordCrc(properties: string, byteLength: number): boolean {
  const n = properties.length;
  if (byteLength < RECORD_CRC_RESERVED_BYTES) return false;
  // Cheap filter: the marker within the last 20 characters, or ten digits before the last one.
  if (properties.indexOf(CRC_MARKER_TEXT, Math.max(0, n - RECORD_CRC_RESERVED_BYTES)) < 0) {
    for (let i = n - 11; i < n - 1; i++) {
      const c = properties.charCodeAt(i);
      if (!(c >= 48 && c <= 57)) return false;
    }
  }
  // The last 21 bytes of the UTF-8 encoding (22 characters always cover them, whole).
  const enc = Buffer.from(n > 22 ? properties.slice(n - 22) : properties, 'utf8');
  const tail = enc.subarray(Math.max(0, enc.length - RECORD_CRC_RESERVED_BYTES - 1));
  const start = tail.length - RECORD_CRC_RESERVED_BYTES;
  const intact = tail[tail.length - 1] === 2 && tail.compare(CRC_PREFIX, 0, CRC_PREFIX.length, start, start + CRC_PREFIX.length) === 0;
  return intact || hasDamagedRecordCrc(tail, 0, tail.length);
}

/** Verifies the record CRC property; returns true when it matches every byte before it. */
export function verifyRecordCrc(buf: Buffer, pos: number, size: number): boolean {
  const start = pos + size - RECORD_CRC_RESERVED_BYTES;
  const expected = readCrcDigits(buf, start + CRC_PREFIX.length);
  return expected >= 0 && crc32Masked(buf, pos, start) === expected;
}
