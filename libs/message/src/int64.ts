/**
 * 64-bit big-endian integers as JS numbers, without BigInt allocation. Exact for every safe integer
 * (|v| < 2^53), which covers commit-log offsets, queue offsets and millisecond timestamps.
 */
const TWO_32 = 0x1_0000_0000;

export function writeInt64BE(buf: Buffer, value: number, offset: number): void {
  const hi = Math.floor(value / TWO_32);
  buf.writeInt32BE(hi | 0, offset);
  buf.writeUInt32BE(value - hi * TWO_32, offset + 4);
}

export function readInt64BE(buf: Buffer, offset: number): number {
  return buf.readInt32BE(offset) * TWO_32 + buf.readUInt32BE(offset + 4);
}
