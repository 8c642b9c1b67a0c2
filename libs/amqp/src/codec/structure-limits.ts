/*
 * The shape check every frame's performative passes before rhea decodes it: rhea turns each
 * declared element of a list, map or array into a JavaScript value, so a declared count is memory
 * and CPU. Bytes bound most counts (each list or map element, and each array element of a sized
 * type, takes at least one byte), but an array of a zero-width type (null, true, false, uint0,
 * ulong0, list0: spec 1.6) declares as many elements as it likes in 5 bytes — 2^31 of them took the
 * whole process down. No I/O; failures are AmqpDecodeError.
 */
import { AmqpDecodeError, Code } from './types.js';

/** Limits of one encoded value tree. */
export interface StructureLimits {
  /** Deepest nesting of compound and described values (rhea's decoder recurses per level). */
  maxDepth: number;
  /** Most elements one array of a zero-width type may declare. */
  maxZeroWidthElements: number;
}

export const DEFAULT_STRUCTURE_LIMITS: StructureLimits = { maxDepth: 32, maxZeroWidthElements: 4096 };

const ARRAY8 = 0xe0;
const ARRAY32 = 0xf0;

function need(pos: number, n: number, end: number): void {
  if (pos + n > end) throw new AmqpDecodeError(`truncated value: need ${n} bytes at ${pos}, have ${Math.max(0, end - pos)}`);
}

/** Width in bytes of the fixed-width format codes' data; -1 for variable-width and compound codes. */
function fixedWidth(code: number): number {
  switch (code >> 4) {
    case 0x4:
      return 0;
    case 0x5:
      return 1;
    case 0x6:
      return 2;
    case 0x7:
      return 4;
    case 0x8:
      return 8;
    case 0x9:
      return 16;
    default:
      return -1;
  }
}

/**
 * Checks the value starting at `pos` (and everything inside it) against `limits`; returns the
 * position just past it. Declared sizes must lie within `end`, declared counts must fit the bytes
 * they claim, and no element is decoded.
 */
export function checkValue(buf: Buffer, pos: number, end: number, limits: StructureLimits = DEFAULT_STRUCTURE_LIMITS, depth = 0): number {
  if (depth > limits.maxDepth) throw new AmqpDecodeError(`value nested deeper than ${limits.maxDepth} levels`);
  need(pos, 1, end);
  const code = buf[pos]!;
  if (code === Code.DESCRIBED) {
    const after = checkValue(buf, pos + 1, end, limits, depth + 1);
    return checkValue(buf, after, end, limits, depth + 1);
  }
  const width = fixedWidth(code);
  if (width >= 0) {
    need(pos + 1, width, end);
    return pos + 1 + width;
  }
  return checkSized(buf, code, pos + 1, end, limits, depth);
}

/** A list or map: `count` elements, each at least one byte, filling exactly its declared size. */
function checkCompound(buf: Buffer, code: number, first: number, valueEnd: number, countBytes: number, limits: StructureLimits, depth: number): void {
  if (first + countBytes > valueEnd) throw new AmqpDecodeError(`compound value 0x${code.toString(16)} without room for its count`);
  const count = countBytes === 1 ? buf[first]! : buf.readUInt32BE(first);
  let p = first + countBytes;
  if (count > valueEnd - p) throw new AmqpDecodeError(`compound value declares ${count} elements in ${valueEnd - p} bytes`);
  if ((code === 0xc1 || code === 0xd1) && count % 2 !== 0) throw new AmqpDecodeError(`map with an odd element count ${count}`);
  for (let i = 0; i < count; i++) p = checkValue(buf, p, valueEnd, limits, depth + 1);
  if (p !== valueEnd) throw new AmqpDecodeError(`compound value: ${count} elements do not fill its bytes`);
}

/** An array: one element constructor (possibly described) shared by `count` elements. */
function checkArray(buf: Buffer, isArray: boolean, first: number, valueEnd: number, countBytes: number, limits: StructureLimits, depth: number): void {
  if (!isArray || first + countBytes > valueEnd) throw new AmqpDecodeError('array without room for its count');
  const count = countBytes === 1 ? buf[first]! : buf.readUInt32BE(first);
  let p = first + countBytes;
  // The element constructor: a format code, or 0x00 + a descriptor value + a format code.
  need(p, 1, valueEnd);
  if (buf[p] === Code.DESCRIBED) p = checkValue(buf, p + 1, valueEnd, limits, depth + 1);
  need(p, 1, valueEnd);
  const elementCode = buf[p]!;
  p++;
  const width = fixedWidth(elementCode);
  if (width === 0) {
    if (count > limits.maxZeroWidthElements)
      throw new AmqpDecodeError(`array of ${count} zero-width elements (0x${elementCode.toString(16)}) is above the limit of ${limits.maxZeroWidthElements}`);
    return;
  }
  if (width > 0) {
    if (count * width !== valueEnd - p) throw new AmqpDecodeError(`array of ${count} × ${width}-byte elements does not fill its ${valueEnd - p} bytes`);
    return;
  }
  // Variable-width or compound elements: each is its size prefix and body, at least one byte.
  if (count > valueEnd - p) throw new AmqpDecodeError(`array declares ${count} elements in ${valueEnd - p} bytes`);
  for (let i = 0; i < count; i++) p = checkSized(buf, elementCode, p, valueEnd, limits, depth + 1);
  if (p !== valueEnd) throw new AmqpDecodeError(`array: ${count} elements do not fill its bytes`);
}

/**
 * A variable-width or compound value whose constructor `code` is already read: its size prefix
 * starts at `pos` (right after the constructor, or at an array element sharing its array's).
 */
function checkSized(buf: Buffer, code: number, pos: number, end: number, limits: StructureLimits, depth: number): number {
  if (depth > limits.maxDepth) throw new AmqpDecodeError(`value nested deeper than ${limits.maxDepth} levels`);
  const small = (code & 0x10) === 0; // 0xa0/0xc0/0xe0: one-byte size and count; 0xb0/0xd0/0xf0: four
  const sizeBytes = small ? 1 : 4;
  need(pos, sizeBytes, end);
  const size = small ? buf[pos]! : buf.readUInt32BE(pos);
  const first = pos + sizeBytes;
  const valueEnd = first + size;
  if (valueEnd > end) throw new AmqpDecodeError(`value at ${pos - 1} declares ${size} bytes, ${end - first} left`);
  switch (code & 0xf0) {
    case 0xa0:
    case 0xb0:
      return valueEnd; // binary, string, symbol: bytes only
    case 0xc0:
    case 0xd0:
      checkCompound(buf, code, first, valueEnd, sizeBytes, limits, depth);
      return valueEnd;
    case 0xe0:
    case 0xf0:
      checkArray(buf, code === ARRAY8 || code === ARRAY32, first, valueEnd, sizeBytes, limits, depth);
      return valueEnd;
    default:
      throw new AmqpDecodeError(`invalid format code 0x${code.toString(16).padStart(2, '0')} at ${pos - 1}`);
  }
}
