import { decodeRecordContent, uncompressBody } from '@apogee/message';
import { MQTT_RECORD_CACHE_BYTES } from '../config.js';

/** What a delivery needs of a stored record. */
export interface DecodedRecord {
  /** The store topic (the MQTT topic is in the properties). */
  topic: string;
  properties: ReadonlyMap<string, string>;
  /** Uncompressed payload. */
  body: Buffer;
}

/** Records cached at most. */
const MAX_ENTRIES = 1024;
/** Larger payloads are decoded per delivery, never cached. */
const MAX_CACHED_PAYLOAD = 256 * 1024;
/** A cached record's map entry, objects and Map of properties, besides its strings and payload. */
const ENTRY_OVERHEAD_BYTES = 400;
/** One property's map entry, besides its two strings. */
const PROPERTY_OVERHEAD_BYTES = 64;

/** Bytes a decoded record holds in memory, by estimate (UTF-16 upper bound for strings). */
export function decodedRecordBytes(d: DecodedRecord): number {
  let n = ENTRY_OVERHEAD_BYTES + 2 * d.topic.length + d.body.length;
  for (const [k, v] of d.properties) n += PROPERTY_OVERHEAD_BYTES + 2 * (k.length + v.length);
  return n;
}

/**
 * Decoded records shared by the sessions reading one LMQ: when many subscribers get the same
 * message (fan-out), it is decoded once, not once per subscriber. Keyed by commit-log offset (a
 * record's offset is never reused); bounded in entries and in bytes (its share of the memory
 * budget); a cached payload is a copy, so the cache never pins the store's larger read buffers.
 */
export class DecodedRecords {
  private readonly entries = new Map<number, { d: DecodedRecord; bytes: number }>();
  private held = 0;

  /** `maxBytes`: what the cached records may hold (MqttConfig.recordCacheBytes). */
  constructor(private readonly maxBytes: number = MQTT_RECORD_CACHE_BYTES) {}

  /**
   * The record at `commitLogOffset`, decoded. `shared`: other readers will ask for it too (worth
   * caching).
   */
  get(commitLogOffset: number, record: Buffer, shared: boolean): DecodedRecord {
    const hit = this.entries.get(commitLogOffset);
    if (hit) return hit.d;
    const m = decodeRecordContent(record);
    const payload = uncompressBody(m.body, m.sysFlag);
    if (!shared || commitLogOffset < 0 || payload.length > MAX_CACHED_PAYLOAD) return { topic: m.topic, properties: m.properties, body: payload };
    // A body that was uncompressed is a fresh buffer already; only a view of the record is copied.
    const d: DecodedRecord = { topic: m.topic, properties: m.properties, body: payload === m.body ? Buffer.from(payload) : payload };
    const bytes = decodedRecordBytes(d);
    if (bytes > this.maxBytes) return d;
    this.entries.set(commitLogOffset, { d, bytes });
    this.held += bytes;
    while (this.entries.size > MAX_ENTRIES || this.held > this.maxBytes) {
      const [oldest, e] = this.entries.entries().next().value as [number, { d: DecodedRecord; bytes: number }];
      this.entries.delete(oldest);
      this.held -= e.bytes;
    }
    return d;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Bytes the cached records hold (estimate, see decodedRecordBytes). */
  get bytes(): number {
    return this.held;
  }
}
