/*
 * The slice of the AMQP 1.0 type system (spec part 1) the gateway needs in its own hands: finding
 * where a value ends without decoding it, reading the few scalar fields it inspects, and encoding
 * the values it writes (message sections, close frames). No I/O; every read is bounds-checked and
 * fails with AmqpDecodeError instead of reading past the end.
 */

/** Bytes that are not a valid AMQP encoding (or run past the end of their buffer). */
export class AmqpDecodeError extends Error {
  readonly condition = 'amqp:decode-error';
  constructor(message: string) {
    super(message);
    this.name = 'AmqpDecodeError';
  }
}

/** Format codes (spec 1.6) used by name below. */
export const Code = {
  DESCRIBED: 0x00,
  NULL: 0x40,
  TRUE: 0x41,
  FALSE: 0x42,
  UINT0: 0x43,
  ULONG0: 0x44,
  LIST0: 0x45,
  UBYTE: 0x50,
  SMALLUINT: 0x52,
  SMALLULONG: 0x53,
  BOOLEAN: 0x56,
  UINT: 0x70,
  ULONG: 0x80,
  VBIN8: 0xa0,
  STR8: 0xa1,
  SYM8: 0xa3,
  VBIN32: 0xb0,
  STR32: 0xb1,
  SYM32: 0xb3,
  LIST8: 0xc0,
  MAP8: 0xc1,
  LIST32: 0xd0,
  MAP32: 0xd1,
} as const;

function need(buf: Buffer, pos: number, n: number, end: number): void {
  if (pos + n > end || pos + n > buf.length) throw new AmqpDecodeError(`truncated value: need ${n} bytes at ${pos}, have ${Math.max(0, end - pos)}`);
}

/** The position just past the value that starts at `pos` (constructor included). */
export function skipValue(buf: Buffer, pos: number, end = buf.length): number {
  need(buf, pos, 1, end);
  const code = buf[pos]!;
  pos++;
  if (code === Code.DESCRIBED) {
    pos = skipValue(buf, pos, end); // descriptor
    return skipValue(buf, pos, end);
  }
  let n: number;
  switch (code >> 4) {
    case 0x4:
      n = 0;
      break;
    case 0x5:
      n = 1;
      break;
    case 0x6:
      n = 2;
      break;
    case 0x7:
      n = 4;
      break;
    case 0x8:
      n = 8;
      break;
    case 0x9:
      n = 16;
      break;
    case 0xa:
    case 0xc:
    case 0xe:
      need(buf, pos, 1, end);
      n = 1 + buf[pos]!;
      break;
    case 0xb:
    case 0xd:
    case 0xf:
      need(buf, pos, 4, end);
      n = 4 + buf.readUInt32BE(pos);
      break;
    default:
      throw new AmqpDecodeError(`invalid format code 0x${code.toString(16).padStart(2, '0')} at ${pos - 1}`);
  }
  need(buf, pos, n, end);
  return pos + n;
}

/** A described value's descriptor as a number (ulong form) or symbol name; `pos` is past it. */
export interface Descriptor {
  code: number | undefined;
  symbol: string | undefined;
  pos: number;
}

/** Reads the descriptor of the described value at `pos` (which must start with 0x00). */
export function readDescriptor(buf: Buffer, pos: number, end = buf.length): Descriptor {
  need(buf, pos, 2, end);
  if (buf[pos] !== Code.DESCRIBED) throw new AmqpDecodeError(`expected a described value at ${pos}, got 0x${buf[pos]!.toString(16)}`);
  const c = buf[pos + 1]!;
  if (c === Code.SMALLULONG) {
    need(buf, pos + 2, 1, end);
    return { code: buf[pos + 2]!, symbol: undefined, pos: pos + 3 };
  }
  if (c === Code.ULONG0) return { code: 0, symbol: undefined, pos: pos + 2 };
  if (c === Code.ULONG) {
    need(buf, pos + 2, 8, end);
    const hi = buf.readUInt32BE(pos + 2);
    const lo = buf.readUInt32BE(pos + 6);
    return { code: hi === 0 ? lo : undefined, symbol: undefined, pos: pos + 10 };
  }
  if (c === Code.SYM8 || c === Code.SYM32) {
    const after = skipValue(buf, pos + 1, end);
    const start = c === Code.SYM8 ? pos + 3 : pos + 6;
    return { code: undefined, symbol: buf.toString('latin1', start, after), pos: after };
  }
  return { code: undefined, symbol: undefined, pos: skipValue(buf, pos + 1, end) };
}

/** The element positions of the list at `pos` ([start of each element]) and the list's end. */
export function listElements(buf: Buffer, pos: number, end = buf.length): { items: number[]; end: number } {
  need(buf, pos, 1, end);
  if (buf[pos] === Code.LIST0) return { items: [], end: pos + 1 };
  const { count, first, end: listEnd } = compoundHeader(buf, pos, end, Code.LIST8, Code.LIST32, 'list');
  let p = first;
  if (listEnd > end) throw new AmqpDecodeError(`list at ${pos} runs past its container`);
  const items: number[] = [];
  for (let i = 0; i < count; i++) {
    items.push(p);
    p = skipValue(buf, p, listEnd);
  }
  if (p !== listEnd) throw new AmqpDecodeError(`list at ${pos}: ${count} elements do not fill its ${listEnd - pos} bytes`);
  return { items, end: listEnd };
}

/** Element count, first element and end of the list or map (8- or 32-bit form) whose constructor is at `pos`. */
function compoundHeader(buf: Buffer, pos: number, end: number, code8: number, code32: number, what: string): { count: number; first: number; end: number } {
  const code = buf[pos]!;
  if (code === code8) {
    need(buf, pos + 1, 2, end);
    return { count: buf[pos + 2]!, first: pos + 3, end: pos + 2 + buf[pos + 1]! };
  }
  if (code === code32) {
    need(buf, pos + 1, 8, end);
    return { count: buf.readUInt32BE(pos + 5), first: pos + 9, end: pos + 5 + buf.readUInt32BE(pos + 1) };
  }
  throw new AmqpDecodeError(`expected a ${what} at ${pos}, got 0x${code.toString(16)}`);
}

/** The key/value start positions of the map at `pos` and the map's end. */
export function mapEntries(buf: Buffer, pos: number, end = buf.length): { entries: Array<[number, number]>; end: number } {
  need(buf, pos, 1, end);
  const { count, first, end: mapEnd } = compoundHeader(buf, pos, end, Code.MAP8, Code.MAP32, 'map');
  let p = first;
  if (mapEnd > end || count % 2 !== 0) throw new AmqpDecodeError(`malformed map at ${pos}`);
  const entries: Array<[number, number]> = [];
  for (let i = 0; i < count; i += 2) {
    const k = p;
    p = skipValue(buf, p, mapEnd);
    const v = p;
    p = skipValue(buf, p, mapEnd);
    entries.push([k, v]);
  }
  if (p !== mapEnd) throw new AmqpDecodeError(`map at ${pos}: entries do not fill it`);
  return { entries, end: mapEnd };
}

/** A uint/ubyte/ushort (or null → undefined) at `pos`. */
export function readUint(buf: Buffer, pos: number, end = buf.length): number | undefined {
  need(buf, pos, 1, end);
  const c = buf[pos]!;
  if (c === Code.NULL) return undefined;
  if (c === Code.UINT0) return 0;
  if (c === Code.SMALLUINT || c === Code.UBYTE) {
    need(buf, pos + 1, 1, end);
    return buf[pos + 1]!;
  }
  if (c === 0x60) {
    need(buf, pos + 1, 2, end);
    return buf.readUInt16BE(pos + 1);
  }
  if (c === Code.UINT) {
    need(buf, pos + 1, 4, end);
    return buf.readUInt32BE(pos + 1);
  }
  throw new AmqpDecodeError(`expected an unsigned integer at ${pos}, got 0x${c.toString(16)}`);
}

/**
 * Any AMQP integer or timestamp (spec 1.6.4–1.6.16, 1.6.18: ms since the epoch) at `pos` as a
 * number; undefined for another type or a value beyond Number.MAX_SAFE_INTEGER.
 */
export function readInteger(buf: Buffer, pos: number, end = buf.length): number | undefined {
  need(buf, pos, 1, end);
  const c = buf[pos]!;
  const n = (bytes: number, read: (at: number) => number | bigint): number | undefined => {
    need(buf, pos + 1, bytes, end);
    const v = read(pos + 1);
    const num = Number(v);
    return Number.isSafeInteger(num) ? num : undefined;
  };
  switch (c) {
    case Code.UINT0:
    case Code.ULONG0:
      return 0;
    case Code.UBYTE:
    case Code.SMALLUINT:
    case Code.SMALLULONG:
      return n(1, (at) => buf.readUInt8(at));
    case 0x51: // byte
    case 0x54: // smallint
    case 0x55: // smalllong
      return n(1, (at) => buf.readInt8(at));
    case 0x60: // ushort
      return n(2, (at) => buf.readUInt16BE(at));
    case 0x61: // short
      return n(2, (at) => buf.readInt16BE(at));
    case Code.UINT:
      return n(4, (at) => buf.readUInt32BE(at));
    case 0x71: // int
      return n(4, (at) => buf.readInt32BE(at));
    case Code.ULONG:
      return n(8, (at) => buf.readBigUInt64BE(at));
    case 0x81: // long
    case 0x83: // timestamp
      return n(8, (at) => buf.readBigInt64BE(at));
    default:
      return undefined;
  }
}

/** A boolean (or null → undefined) at `pos`. */
export function readBool(buf: Buffer, pos: number, end = buf.length): boolean | undefined {
  need(buf, pos, 1, end);
  const c = buf[pos]!;
  if (c === Code.NULL) return undefined;
  if (c === Code.TRUE) return true;
  if (c === Code.FALSE) return false;
  if (c === Code.BOOLEAN) {
    need(buf, pos + 1, 1, end);
    return buf[pos + 1] !== 0;
  }
  throw new AmqpDecodeError(`expected a boolean at ${pos}, got 0x${c.toString(16)}`);
}

/** A string or symbol at `pos` as text, or undefined for any other type. */
export function readText(buf: Buffer, pos: number, end = buf.length): string | undefined {
  need(buf, pos, 1, end);
  const c = buf[pos]!;
  if (c === Code.STR8 || c === Code.SYM8) {
    const after = skipValue(buf, pos, end);
    return buf.toString(c === Code.STR8 ? 'utf8' : 'latin1', pos + 2, after);
  }
  if (c === Code.STR32 || c === Code.SYM32) {
    const after = skipValue(buf, pos, end);
    return buf.toString(c === Code.STR32 ? 'utf8' : 'latin1', pos + 5, after);
  }
  return undefined;
}

// --- encoding -------------------------------------------------------------------------------

export function encodeUint(n: number): Buffer {
  if (n === 0) return Buffer.from([Code.UINT0]);
  if (n < 256) return Buffer.from([Code.SMALLUINT, n]);
  const b = Buffer.allocUnsafe(5);
  b[0] = Code.UINT;
  b.writeUInt32BE(n >>> 0, 1);
  return b;
}

export function encodeBool(v: boolean): Buffer {
  return Buffer.from([v ? Code.TRUE : Code.FALSE]);
}

export const NULL_VALUE: Buffer = Buffer.from([Code.NULL]);

function encodeVariable(small: number, large: number, bytes: Buffer): Buffer {
  if (bytes.length < 256) {
    const b = Buffer.allocUnsafe(2 + bytes.length);
    b[0] = small;
    b[1] = bytes.length;
    bytes.copy(b, 2);
    return b;
  }
  const b = Buffer.allocUnsafe(5 + bytes.length);
  b[0] = large;
  b.writeUInt32BE(bytes.length, 1);
  bytes.copy(b, 5);
  return b;
}

export function encodeString(s: string): Buffer {
  return encodeVariable(Code.STR8, Code.STR32, Buffer.from(s, 'utf8'));
}

export function encodeSymbol(s: string): Buffer {
  return encodeVariable(Code.SYM8, Code.SYM32, Buffer.from(s, 'latin1'));
}

export function encodeBinary(bytes: Buffer): Buffer {
  return encodeVariable(Code.VBIN8, Code.VBIN32, bytes);
}

function encodeCompound(small: number, large: number, count: number, items: Buffer[]): Buffer {
  let size = 0;
  for (const i of items) size += i.length;
  if (size + 1 < 256 && count < 256) return Buffer.concat([Buffer.from([small, size + 1, count]), ...items]);
  const head = Buffer.allocUnsafe(9);
  head[0] = large;
  head.writeUInt32BE(size + 4, 1);
  head.writeUInt32BE(count, 5);
  return Buffer.concat([head, ...items]);
}

/** A list; trailing nulls are dropped as the spec allows (an all-null list is list0). */
export function encodeList(items: Buffer[]): Buffer {
  let n = items.length;
  while (n > 0 && items[n - 1]!.length === 1 && items[n - 1]![0] === Code.NULL) n--;
  if (n === 0) return Buffer.from([Code.LIST0]);
  return encodeCompound(Code.LIST8, Code.LIST32, n, items.slice(0, n));
}

/** A map from already-encoded keys to already-encoded values. */
export function encodeMap(pairs: Array<[Buffer, Buffer]>): Buffer {
  const items: Buffer[] = [];
  for (const [k, v] of pairs) items.push(k, v);
  return encodeCompound(Code.MAP8, Code.MAP32, items.length, items);
}

/** A value described by a small ulong code (every descriptor the gateway writes is one). */
export function encodeDescribed(code: number, value: Buffer): Buffer {
  const b = Buffer.allocUnsafe(3 + value.length);
  b[0] = Code.DESCRIBED;
  b[1] = Code.SMALLULONG;
  b[2] = code;
  value.copy(b, 3);
  return b;
}
