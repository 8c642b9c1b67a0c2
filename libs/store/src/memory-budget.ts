/**
 * The memory budget: one total, in bytes, shared by the caches that keep message data in memory
 * (anonymous memory, which the kernel cannot reclaim):
 *
 * | share | cache | enforced by |
 * |---|---|---|
 * | 1/2 | the CommitLog hot tail (`hotTailBytes`) | pages below the window are dropped |
 * | 1/4 | queue states in memory (`indexCacheBytes`) | clean queues are evicted, oldest first |
 * | 1/4 | decoded records shared by MQTT sessions (`recordCacheBytes`) | oldest records dropped |
 *
 * LMDB's map is file-backed (page cache the kernel reclaims) and is not part of it.
 */

const MiB = 1024 * 1024;

/** Default total: 64 MiB. */
export const DEFAULT_MEMORY_BUDGET_BYTES = 64 * MiB;

/** Smallest accepted total: every share must still hold a few pages of the hot tail. */
export const MIN_MEMORY_BUDGET_BYTES = 8 * MiB;

/** Each cache's share of a budget, in bytes. */
export interface MemoryShares {
  /** CommitLog tail kept in memory for tailing readers (StoreConfig.hotTailBytes). */
  hotTailBytes: number;
  /** Queue states (offsets and index tail blocks) kept in memory (StoreConfig.indexCacheBytes). */
  indexCacheBytes: number;
  /** Records decoded once for many MQTT subscribers (MqttConfig.recordCacheBytes). */
  recordCacheBytes: number;
}

/** Splits a total (bytes, ≥ MIN_MEMORY_BUDGET_BYTES) into the shares above. */
export function splitMemoryBudget(totalBytes: number): MemoryShares {
  if (!Number.isSafeInteger(totalBytes) || totalBytes < MIN_MEMORY_BUDGET_BYTES)
    throw new RangeError(`memory budget must be an integer >= ${MIN_MEMORY_BUDGET_BYTES} bytes, got ${totalBytes}`);
  const quarter = Math.floor(totalBytes / 4);
  return { hotTailBytes: totalBytes - 2 * quarter, indexCacheBytes: quarter, recordCacheBytes: quarter };
}
