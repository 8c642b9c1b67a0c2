// The store's public surface: the API types, the error catalogue, openStore, the defaults and
// the Logger type. Everything else (DefaultMessageStore and its parts) is internal.
export * from './api.js';
export * from './errors.js';
export { openStore } from './message-store.js';
export type { Logger } from './logger.js';
export { ReplicationError } from './replication.js';
export { MetaFeedError } from './meta-change-codec.js';
export { DEFAULTS as STORE_DEFAULTS } from './config.js';
export { DEFAULT_MEMORY_BUDGET_BYTES, MIN_MEMORY_BUDGET_BYTES, splitMemoryBudget, type MemoryShares } from './memory-budget.js';
