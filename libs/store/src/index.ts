export * from './api.js';
export * from './errors.js';
export { openStore, DefaultMessageStore } from './message-store.js';
export type { Logger } from './logger.js';
export { DEFAULTS as STORE_DEFAULTS } from './config.js';
