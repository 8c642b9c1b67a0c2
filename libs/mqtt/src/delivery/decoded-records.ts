import { decodeRecordContent, uncompressBody } from '@apogee/message';

/** What a delivery needs of a stored record. */
export interface DecodedRecord {
  /** The store topic (the MQTT topic is in the properties). */
  topic: string;
  properties: ReadonlyMap<string, string>;
  /** Uncompressed payload. */
  body: Buffer;
}

/** Records cached at most; and their payload bytes at most. */
const MAX_ENTRIES = 1024;
const MAX_BYTES = 32 * 1024 * 1024;
/** Larger payloads are decoded per delivery, never cached. */
const MAX_CACHED_PAYLOAD = 256 * 1024;

/**
 * Decoded records shared by the sessions reading one LMQ: when many subscribers get the same
 * message (fan-out), it is decoded once, not once per subscriber. Keyed by commit-log offset (a
 * record's offset is never reused); bounded in entries and payload bytes; a cached payload is a
 * copy, so the cache never pins the store's larger read buffers.
 */
export class DecodedRecords {
  private readonly entries = new Map<number, DecodedRecord>();
  private bytes = 0;

  /**
   * The record at `commitLogOffset`, decoded. `shared`: other readers will ask for it too (worth
   * caching).
   */
  get(commitLogOffset: number, record: Buffer, shared: boolean): DecodedRecord {
    const hit = this.entries.get(commitLogOffset);
    if (hit) return hit;
    const m = decodeRecordContent(record);
    const payload = uncompressBody(m.body, m.sysFlag);
    if (!shared || commitLogOffset < 0 || payload.length > MAX_CACHED_PAYLOAD) return { topic: m.topic, properties: m.properties, body: payload };
    // A body that was uncompressed is a fresh buffer already; only a view of the record is copied.
    const d: DecodedRecord = { topic: m.topic, properties: m.properties, body: payload === m.body ? Buffer.from(payload) : payload };
    this.entries.set(commitLogOffset, d);
    this.bytes += d.body.length;
    while (this.entries.size > MAX_ENTRIES || this.bytes > MAX_BYTES) {
      const [oldest, e] = this.entries.entries().next().value as [number, DecodedRecord];
      this.entries.delete(oldest);
      this.bytes -= e.body.length;
    }
    return d;
  }

  get size(): number {
    return this.entries.size;
  }
}
