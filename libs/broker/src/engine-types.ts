/*
 * The types of the engine seam. Endpoints import them from @apogee/broker, never from the store:
 * an engine over the network (a remote broker) offers the same shapes.
 */
export type {
  PutResult as Appended,
  GetResult as ReadResult,
  GetStatus as ReadStatus,
  GetOptions as ReadOptions,
  StoredMessage,
  TopicConfig,
  KeyLookupHit,
  StoreStats,
  MessageFilter,
} from '@apogee/store';

/**
 * Durable metadata of endpoints (MQTT sessions and retained messages, durable subscriptions, …)
 * by namespace and key. `put` and `delete` resolve once durable; `get` and `scan` see a value at
 * once.
 */
export interface EndpointMetadata {
  put(namespace: string, key: string, value: Buffer): Promise<void>;
  get(namespace: string, key: string): Buffer | undefined;
  delete(namespace: string, key: string): Promise<void>;
  /** A namespace's entries whose key starts with `prefix`, in key order. */
  scan(namespace: string, prefix?: string, limit?: number): Iterable<{ key: string; value: Buffer }>;
}
