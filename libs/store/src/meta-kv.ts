import type { Database } from 'lmdb';
import { IllegalPutError } from './errors.js';
import type { MetaFeed } from './meta-feed.js';

/** Largest namespace + key, in UTF-8 bytes (LMDB's key limit is 1,978 bytes with this build's page size). */
export const MAX_META_KEY_BYTES = 1500;
/** Largest value; metadata is meant to be small (sessions, retained messages point at records). */
export const MAX_META_VALUE_BYTES = 4 * 1024 * 1024;

/**
 * Namespaces starting with this are the store's own local state: never in the metadata feed or
 * its snapshots, left as they are when a snapshot is applied (docs/ha-design.md decision 4).
 */
export const LOCAL_META_NAMESPACE_PREFIX = 'store.local.';

export function isLocalMetaNamespace(namespace: string): boolean {
  return namespace.startsWith(LOCAL_META_NAMESPACE_PREFIX);
}

/** Throws IllegalPutError unless (namespace, key) is a legal metadata key; returns its row key. */
export function checkMetaKey(namespace: string, key: string): Buffer {
  return rowKey(namespace, key);
}

function rowKey(namespace: string, key: string): Buffer {
  if (typeof namespace !== 'string' || namespace.length === 0 || namespace.includes('\u0000')) {
    throw new IllegalPutError(`metadata namespace must be a non-empty string without U+0000, got ${JSON.stringify(namespace)}`);
  }
  if (typeof key !== 'string') throw new IllegalPutError('metadata key must be a string');
  const b = Buffer.from(`${namespace}\u0000${key}`, 'utf8');
  if (b.length > MAX_META_KEY_BYTES) throw new IllegalPutError(`metadata key is ${b.length} bytes with its namespace; the limit is ${MAX_META_KEY_BYTES}`);
  return b;
}

/**
 * Small durable records by (namespace, key) for endpoints' own state: MQTT sessions, retained
 * messages, AMQP durable subscriptions. A write is durable when its promise resolves; reads see
 * it at once (pending writes are served from memory until LMDB has them).
 */
export class MetaKv {
  /** namespace\0key → value (undefined = pending delete). */
  private readonly pending = new Map<string, Buffer | undefined>();

  constructor(
    private readonly db: Database<Buffer, Buffer>,
    /** Where replicated mutations are recorded (docs/ha-design.md decision 4). */
    private readonly feed?: MetaFeed,
  ) {}

  put(namespace: string, key: string, value: Buffer): Promise<void> {
    const k = rowKey(namespace, key);
    if (!Buffer.isBuffer(value)) throw new IllegalPutError('metadata value must be a Buffer');
    if (value.length > MAX_META_VALUE_BYTES) throw new IllegalPutError(`metadata value is ${value.length} bytes; the limit is ${MAX_META_VALUE_BYTES}`);
    const copy = Buffer.from(value);
    // The feed shares the copy: neither side changes it.
    if (this.feed && !isLocalMetaNamespace(namespace)) this.feed.record({ kind: 'meta', namespace, key, value: copy });
    return this.track(k, copy, this.db.put(k, copy));
  }

  get(namespace: string, key: string): Buffer | undefined {
    const k = rowKey(namespace, key);
    const ks = k.toString('latin1');
    if (this.pending.has(ks)) return this.pending.get(ks);
    return this.db.get(k);
  }

  delete(namespace: string, key: string): Promise<void> {
    const k = rowKey(namespace, key);
    if (this.feed && !isLocalMetaNamespace(namespace)) this.feed.record({ kind: 'meta-delete', namespace, key });
    return this.track(k, undefined, this.db.remove(k));
  }

  /** Every entry of every namespace that replicates (not store.local.*), pending writes included, in key order. */
  *scanReplicated(): Generator<{ namespace: string; key: string; value: Buffer }> {
    for (const { key, value } of this.range(Buffer.alloc(0), Buffer.from([0xff]), Number.MAX_SAFE_INTEGER)) {
      const s = key.toString('utf8');
      const nul = s.indexOf('\u0000');
      const namespace = s.slice(0, nul);
      if (isLocalMetaNamespace(namespace)) continue;
      yield { namespace, key: s.slice(nul + 1), value };
    }
  }

  /** Entries of a namespace whose key starts with `prefix`, in key order (pending writes included). */
  *scan(namespace: string, prefix = '', limit = Number.MAX_SAFE_INTEGER): Generator<{ key: string; value: Buffer }> {
    const start = rowKey(namespace, prefix);
    const end = Buffer.concat([start, Buffer.from([0xff])]);
    const nsLen = Buffer.byteLength(namespace, 'utf8') + 1;
    for (const { key, value } of this.range(start, end, limit)) yield { key: key.toString('utf8', nsLen), value };
  }

  /** Rows with keys in [start, end) that start with `start`, pending writes included, in key order. */
  private *range(start: Buffer, end: Buffer, limit: number): Generator<{ key: Buffer; value: Buffer }> {
    const startLatin = start.toString('latin1');
    // Pending writes in range, in byte order (latin1 strings compare like their bytes).
    const pend = [...this.pending].filter(([ks]) => ks.startsWith(startLatin)).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let pi = 0;
    let n = 0;
    const out = (ks: string, v: Buffer) => ({ key: Buffer.from(ks, 'latin1'), value: v });
    for (const { key, value } of this.db.getRange(start.length > 0 ? { start, end } : {})) {
      const ks = (key as Buffer).toString('latin1');
      // Pending inserts that sort before this row.
      while (pi < pend.length && pend[pi]![0] < ks) {
        const [pk, pv] = pend[pi++]!;
        if (pv === undefined) continue;
        if (n++ >= limit) return;
        yield out(pk, pv);
      }
      let v: Buffer | undefined = value;
      if (pi < pend.length && pend[pi]![0] === ks) v = pend[pi++]![1];
      if (v === undefined) continue;
      if (n++ >= limit) return;
      yield out(ks, v);
    }
    for (; pi < pend.length; pi++) {
      const [pk, pv] = pend[pi]!;
      if (pv === undefined) continue;
      if (n++ >= limit) return;
      yield out(pk, pv);
    }
  }

  private track(k: Buffer, value: Buffer | undefined, write: Promise<unknown>): Promise<void> {
    const ks = k.toString('latin1');
    this.pending.set(ks, value);
    return write.then(() => {
      if (this.pending.get(ks) === value) this.pending.delete(ks);
    });
  }
}
