/**
 * 64-bit big-endian integers as JS numbers, without BigInt allocation. Exact for every safe integer
 * (|v| < 2^53), which covers commit-log offsets, queue offsets and millisecond timestamps.
 */
const TWO_32 = 0x1_0000_0000;

export function writeInt64BE(buf: Buffer, value: number, offset: number): void {
  const hi = Math.floor(value / TWO_32);
  const lo = value - hi * TWO_32;
  // Direct byte stores: this runs several times per stored message, and Buffer's checked writers
  // cost more than the stores themselves.
  buf[offset] = hi >>> 24;
  buf[offset + 1] = hi >>> 16;
  buf[offset + 2] = hi >>> 8;
  buf[offset + 3] = hi;
  buf[offset + 4] = lo >>> 24;
  buf[offset + 5] = lo >>> 16;
  buf[offset + 6] = lo >>> 8;
  buf[offset + 7] = lo;
}

export function readInt64BE(buf: Buffer, offset: number): number {
  return buf.readInt32BE(offset) * TWO_32 + buf.readUInt32BE(offset + 4);
}
