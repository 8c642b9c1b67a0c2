import zlib from 'node:zlib';

/**
 * CRC-32 (IEEE) masked to 31 bits, as RocketMQ's UtilAll.crc32 computes it for BODYCRC and for
 * the `__CRC32#` record checksum property. Uses zlib's native implementation.
 */
export function crc32Masked(data: Uint8Array, start = 0, end = data.length): number {
  const view = start === 0 && end === data.length ? data : data.subarray(start, end);
  return zlib.crc32(view) & 0x7fffffff;
}
