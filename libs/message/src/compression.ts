import zlib from 'node:zlib';
import { ApogeeError } from './errors.js';
import { CompressionType, SysFlag, compressionTypeOf } from './sysflag.js';

export class UnsupportedCompressionError extends ApogeeError {
  constructor(kind: string) {
    super('APG_MSG_UNSUPPORTED_COMPRESSION', `body compression ${kind} is not supported by this build (zlib is)`);
  }
}

/** Bodies at least this large are compressed by Java and ali-ons producers. */
export const COMPRESS_BODY_OVER_BYTES = 4096;

/** Returns the body as the application sent it, inflating it when sysFlag marks it compressed. */
export function uncompressBody(body: Buffer, sysFlag: number): Buffer {
  const kind = compressionTypeOf(sysFlag);
  if (kind === null) return body;
  if (kind !== 'zlib') throw new UnsupportedCompressionError(kind);
  return zlib.inflateSync(body);
}

/** zlib-compresses a body and returns it with the sysFlag bits to set (COMPRESSED | ZLIB type). */
export function compressBody(body: Buffer, level = 5): { body: Buffer; sysFlagBits: number } {
  return { body: zlib.deflateSync(body, { level }), sysFlagBits: SysFlag.COMPRESSED | (CompressionType.ZLIB << 8) };
}
