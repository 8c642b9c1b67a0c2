/** Message sysFlag bits (RocketMQ MessageSysFlag). */
export const SysFlag = {
  COMPRESSED: 0x1,
  MULTI_TAGS: 0x2,
  TRANSACTION_NOT_TYPE: 0x0,
  TRANSACTION_PREPARED_TYPE: 0x4,
  TRANSACTION_COMMIT_TYPE: 0x8,
  TRANSACTION_ROLLBACK_TYPE: 0xc,
  TRANSACTION_MASK: 0xc,
  BORNHOST_V6: 0x10,
  STOREHOST_V6: 0x20,
  NEED_UNWRAP: 0x40,
  INNER_BATCH: 0x80,
  /** Bits 8..10 hold the compression type when COMPRESSED is set. */
  COMPRESSION_TYPE_MASK: 0x700,
} as const;

/** Compression type stored in sysFlag bits 8..10 (0 together with COMPRESSED means zlib). */
export const CompressionType = { LZ4: 1, ZSTD: 2, ZLIB: 3 } as const;
export type CompressionTypeName = 'zlib' | 'lz4' | 'zstd';

export function transactionType(sysFlag: number): number {
  return sysFlag & SysFlag.TRANSACTION_MASK;
}

export function compressionTypeOf(sysFlag: number): CompressionTypeName | null {
  if ((sysFlag & SysFlag.COMPRESSED) === 0) return null;
  switch ((sysFlag & SysFlag.COMPRESSION_TYPE_MASK) >>> 8) {
    case CompressionType.LZ4:
      return 'lz4';
    case CompressionType.ZSTD:
      return 'zstd';
    default:
      return 'zlib';
  }
}
