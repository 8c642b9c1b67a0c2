/**
 * The server's memory budget option (`--memory-budget MiB`, `APOGEE_MEMORY_BUDGET`, config file
 * `memoryBudget`) and what it sets: the shares of the store's hot tail and queue-state cache and
 * of the MQTT record cache (see splitMemoryBudget in @apogee/store, docs/store.md).
 */
import type { MqttConfig } from '@apogee/mqtt';
import { DEFAULT_MEMORY_BUDGET_BYTES, MIN_MEMORY_BUDGET_BYTES, splitMemoryBudget, type StoreConfig } from '@apogee/store';

const MiB = 1024 * 1024;

/** Default `--memory-budget`, MiB. */
export const DEFAULT_MEMORY_BUDGET_MIB = DEFAULT_MEMORY_BUDGET_BYTES / MiB;

/** The flag, its settings key and its environment variable (args.ts's FLAGS table format). */
export const MEMORY_BUDGET_FLAG = { '--memory-budget': ['memoryBudget', 'APOGEE_MEMORY_BUDGET'] } as const;

/** `--memory-budget` value: whole MiB, at least the smallest budget that can be shared. */
export function parseMemoryBudget(raw: string, source: string): number {
  const n = Number(raw);
  const min = MIN_MEMORY_BUDGET_BYTES / MiB;
  if (!Number.isInteger(n) || n < min) throw new Error(`${source}: memory budget must be a whole number of MiB >= ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

/** What a budget of `mib` MiB sets in the store and the MQTT endpoint. */
export function memoryBudgetSettings(mib: number): {
  store: Pick<StoreConfig, 'hotTailBytes' | 'indexCacheBytes'>;
  mqtt: Pick<MqttConfig, 'recordCacheBytes'>;
} {
  const s = splitMemoryBudget(mib * MiB);
  return { store: { hotTailBytes: s.hotTailBytes, indexCacheBytes: s.indexCacheBytes }, mqtt: { recordCacheBytes: s.recordCacheBytes } };
}
