import fc from 'fast-check';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ApogeeError } from './errors.js';
import { compressBody, COMPRESS_BODY_OVER_BYTES, uncompressBody, UnsupportedCompressionError } from './compression.js';
import { CompressionType, compressionTypeOf, SysFlag, transactionType } from './sysflag.js';

describe('sysFlag (MessageSysFlag)', () => {
  it('bit values', () => {
    expect(SysFlag).toEqual({
      COMPRESSED: 0x1,
      MULTI_TAGS: 0x2,
      TRANSACTION_NOT_TYPE: 0,
      TRANSACTION_PREPARED_TYPE: 0x4,
      TRANSACTION_COMMIT_TYPE: 0x8,
      TRANSACTION_ROLLBACK_TYPE: 0xc,
      TRANSACTION_MASK: 0xc,
      BORNHOST_V6: 0x10,
      STOREHOST_V6: 0x20,
      NEED_UNWRAP: 0x40,
      INNER_BATCH: 0x80,
      COMPRESSION_TYPE_MASK: 0x700,
    });
    expect(CompressionType).toEqual({ LZ4: 1, ZSTD: 2, ZLIB: 3 });
  });

  it('transactionType', () => {
    expect(transactionType(0)).toBe(0);
    expect(transactionType(0x4 | 0x1 | 0x30)).toBe(0x4);
    expect(transactionType(0x8)).toBe(0x8);
    expect(transactionType(0xc | 0x700)).toBe(0xc);
  });

  it('compressionTypeOf: bits 8..10 when COMPRESSED is set; 0 means zlib', () => {
    expect(compressionTypeOf(0)).toBeNull();
    expect(compressionTypeOf(0x300)).toBeNull(); // type bits without COMPRESSED
    expect(compressionTypeOf(0x1)).toBe('zlib');
    expect(compressionTypeOf(0x101)).toBe('lz4');
    expect(compressionTypeOf(0x201)).toBe('zstd');
    expect(compressionTypeOf(0x301)).toBe('zlib');
    expect(compressionTypeOf(0x301 | 0x30 | 0xc)).toBe('zlib');
  });
});

describe('body compression', () => {
  it('compressBody sets COMPRESSED | ZLIB<<8 and uncompressBody inverts it', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 0, max: 9 }), (a, level) => {
        const body = Buffer.from(a);
        const c = compressBody(body, level);
        expect(c.sysFlagBits).toBe(0x301);
        expect(uncompressBody(c.body, c.sysFlagBits).equals(body)).toBe(true);
        // Java and ali-ons mark zlib with the COMPRESSED bit alone
        expect(uncompressBody(c.body, SysFlag.COMPRESSED).equals(body)).toBe(true);
        expect(zlib.inflateSync(c.body).equals(body)).toBe(true);
      }),
      { numRuns: 100, seed: 12 },
    );
  });

  it('uncompressed bodies are returned as they are', () => {
    const b = Buffer.from('plain');
    expect(uncompressBody(b, 0)).toBe(b);
    expect(uncompressBody(b, 0x300 | 0x30)).toBe(b);
  });

  it('LZ4 and ZSTD are refused with a typed error', () => {
    for (const flag of [0x101, 0x201]) {
      let caught: unknown;
      try {
        uncompressBody(Buffer.from('x'), flag);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(UnsupportedCompressionError);
      expect(caught).toBeInstanceOf(ApogeeError);
      expect((caught as UnsupportedCompressionError).code).toBe('APG_MSG_UNSUPPORTED_COMPRESSION');
    }
    expect(() => uncompressBody(Buffer.from('x'), 0x101)).toThrow(/lz4/);
  });

  it('threshold', () => {
    expect(COMPRESS_BODY_OVER_BYTES).toBe(4096);
  });
});
