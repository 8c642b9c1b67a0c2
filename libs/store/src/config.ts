import type { HostAddress } from '@apogee/message';
import type { FlushMode, StoreConfig } from './api.js';
import { StoreError } from './errors.js';
import { DEFAULT_MEMORY_BUDGET_BYTES, splitMemoryBudget } from './memory-budget.js';

/** The default budget's shares (docs/store.md, "Memory budget"). */
const SHARES = splitMemoryBudget(DEFAULT_MEMORY_BUDGET_BYTES);

export interface ResolvedStoreConfig {
  dataDir: string;
  segmentSize: number;
  flushMode: FlushMode;
  asyncFlushIntervalMs: number;
  maxMessageSize: number;
  storeHost: HostAddress;
  hotTailBytes: number;
  recordCrc: boolean;
  retentionMs: number;
  diskMaxUsedRatio: number;
  cleanIntervalMs: number;
  lmqIdleTtlMs: number;
  maxCachedQueues: number;
  indexCacheBytes: number;
  indexFlushIntervalMs: number;
  /** Puts are refused while more than this many appended bytes wait to be written. */
  maxWriteBacklogBytes: number;
  now: () => number;
}

export const DEFAULTS = {
  segmentSize: 1024 * 1024 * 1024,
  flushMode: 'ASYNC_FLUSH' as FlushMode,
  asyncFlushIntervalMs: 500,
  maxMessageSize: 4 * 1024 * 1024,
  storeHost: { address: '127.0.0.1', port: 10911 },
  hotTailBytes: SHARES.hotTailBytes,
  recordCrc: true,
  retentionMs: 72 * 3600 * 1000,
  diskMaxUsedRatio: 0.75,
  cleanIntervalMs: 10_000,
  lmqIdleTtlMs: 0,
  maxCachedQueues: 100_000,
  indexCacheBytes: SHARES.indexCacheBytes,
  indexFlushIntervalMs: 100,
};

function positiveInt(name: string, v: number, min = 1): number {
  if (!Number.isSafeInteger(v) || v < min) throw new StoreError('APG_STORE_BAD_CONFIG', `${name} must be an integer >= ${min}, got ${v}`);
  return v;
}

export function resolveConfig(c: StoreConfig): ResolvedStoreConfig {
  if (!c.dataDir) throw new StoreError('APG_STORE_BAD_CONFIG', 'dataDir is required');
  const segmentSize = positiveInt('segmentSize', c.segmentSize ?? DEFAULTS.segmentSize, 4096);
  if (segmentSize % 4096 !== 0) throw new StoreError('APG_STORE_BAD_CONFIG', `segmentSize must be a multiple of 4096, got ${segmentSize}`);
  const flushMode = c.flushMode ?? DEFAULTS.flushMode;
  if (flushMode !== 'ASYNC_FLUSH' && flushMode !== 'SYNC_FLUSH')
    throw new StoreError('APG_STORE_BAD_CONFIG', `flushMode must be ASYNC_FLUSH or SYNC_FLUSH, got ${String(flushMode)}`);
  const ratio = c.diskMaxUsedRatio ?? DEFAULTS.diskMaxUsedRatio;
  if (!(ratio > 0 && ratio <= 1)) throw new StoreError('APG_STORE_BAD_CONFIG', `diskMaxUsedRatio must be in (0, 1], got ${ratio}`);
  const maxMessageSize = positiveInt('maxMessageSize', c.maxMessageSize ?? DEFAULTS.maxMessageSize);
  return {
    dataDir: c.dataDir,
    segmentSize,
    flushMode,
    asyncFlushIntervalMs: positiveInt('asyncFlushIntervalMs', c.asyncFlushIntervalMs ?? DEFAULTS.asyncFlushIntervalMs),
    maxMessageSize,
    storeHost: c.storeHost ?? DEFAULTS.storeHost,
    hotTailBytes: positiveInt('hotTailBytes', c.hotTailBytes ?? DEFAULTS.hotTailBytes, 0),
    recordCrc: c.recordCrc ?? DEFAULTS.recordCrc,
    retentionMs: positiveInt('retentionMs', c.retentionMs ?? DEFAULTS.retentionMs),
    diskMaxUsedRatio: ratio,
    cleanIntervalMs: positiveInt('cleanIntervalMs', c.cleanIntervalMs ?? DEFAULTS.cleanIntervalMs),
    lmqIdleTtlMs: positiveInt('lmqIdleTtlMs', c.lmqIdleTtlMs ?? DEFAULTS.lmqIdleTtlMs, 0),
    maxCachedQueues: positiveInt('maxCachedQueues', c.maxCachedQueues ?? DEFAULTS.maxCachedQueues),
    indexCacheBytes: positiveInt('indexCacheBytes', c.indexCacheBytes ?? DEFAULTS.indexCacheBytes, 0),
    indexFlushIntervalMs: positiveInt('indexFlushIntervalMs', c.indexFlushIntervalMs ?? DEFAULTS.indexFlushIntervalMs),
    maxWriteBacklogBytes: Math.max(64 * 1024 * 1024, 4 * maxMessageSize),
    now: c.now ?? Date.now,
  };
}
