import type { Engine } from '@apogee/broker';
import { matches } from '@apogee/topics';

/** Metadata namespace of retained messages: key = topic, value = the record's commit-log offset. */
export const RETAINED_NAMESPACE = 'mqtt-retained';

/**
 * Retained messages: the record itself is stored like any publish; the metadata keeps, per topic,
 * where the latest retained one is. Lookups by filter scan only the filter's literal prefix.
 */
export class RetainedStore {
  constructor(private readonly engine: Engine) {}

  /** Sets (or, for an empty payload, clears) the retained message of a topic. */
  async set(topic: string, commitLogOffset: number, empty: boolean): Promise<void> {
    if (empty) await this.engine.metadata.delete(RETAINED_NAMESPACE, topic);
    else {
      const v = Buffer.allocUnsafe(8);
      v.writeBigInt64BE(BigInt(commitLogOffset));
      await this.engine.metadata.put(RETAINED_NAMESPACE, topic, v);
    }
  }

  /** Records of the retained messages matching a filter (expired records are dropped from the index). */
  async find(filter: string, limit = 10_000): Promise<Buffer[]> {
    const wild = filter.search(/[+#]/);
    const prefix = wild < 0 ? filter : filter.slice(0, wild);
    const out: Buffer[] = [];
    const stale: string[] = [];
    for (const { key, value } of this.engine.metadata.scan(RETAINED_NAMESPACE, prefix)) {
      if (out.length >= limit) break;
      if (!matches(filter, key)) continue;
      const rec = await this.engine.readRecord(Number(value.readBigInt64BE(0)));
      if (rec) out.push(rec);
      else stale.push(key);
    }
    for (const k of stale) await this.engine.metadata.delete(RETAINED_NAMESPACE, k);
    return out;
  }

  /** Number of retained topics (metrics; walks the namespace). */
  count(limit = 1_000_000): number {
    let n = 0;
    for (const _ of this.engine.metadata.scan(RETAINED_NAMESPACE, '', limit)) n++;
    return n;
  }
}
