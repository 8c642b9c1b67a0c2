import { FilterTrie, type TopicLimits, lmqOf, validateMqttTopicFilter } from '@apogee/topics';
import type { EndpointMetadata } from '../engine-types.js';

/** Metadata namespace of the durable filter holders. */
export const FILTER_HOLDERS_NAMESPACE = 'topicFilterHolders';

/** Format of a holder record (checked on load: an unknown version is reported, not misread). */
const HOLDER_RECORD_VERSION = 1;

/**
 * A durable holder of topic filters: an offline persistent MQTT session, a durable AMQP topic
 * subscription. Its filters keep receiving (messages are dispatched into their LMQs) while it is
 * away, whichever endpoints run in the process, until it expires.
 */
export interface DurableHolder {
  /** The filters it holds. */
  filters: readonly string[];
  /** Seconds it outlives its last disconnect; -1 = forever. */
  expirySeconds: number;
  /** When it was last disconnected (ms since the epoch); 0 = connected (counts as disconnected at the next open). */
  disconnectedAt: number;
}

interface HolderRecord extends DurableHolder {
  v: number;
}

/**
 * The engine's registry of live topic filters (the topic space's routing table). A message sent
 * to a topic (`a/b/c`, carried in TopicProperty.TOPIC) is dispatched into the LMQ of the topic
 * itself and of every registered filter that matches it, whichever endpoint sent it. Filters are
 * registered by live readers (reference-counted, in memory) and by durable holders (persisted in
 * endpoint metadata and loaded at open, so an offline persistent session's filters receive after
 * a restart even before — or without — the endpoint that owns the session).
 */
export class TopicFilters {
  private readonly trie: FilterTrie;
  private readonly durable = new Map<string, DurableHolder>();
  private readonly lmqCache = new Map<string, string>();

  constructor(
    private readonly meta: EndpointMetadata,
    readonly limits: TopicLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.trie = new FilterTrie(limits);
  }

  /** Loads the durable holders; drops (and deletes) those expired. Returns how many were loaded and dropped, and unreadable records. */
  async load(): Promise<{ loaded: number; expired: number; unreadable: string[] }> {
    const now = this.now();
    const expired: string[] = [];
    const unreadable: string[] = [];
    for (const { key, value } of this.meta.scan(FILTER_HOLDERS_NAMESPACE)) {
      const rec = decodeHolder(value);
      if (rec === null) {
        unreadable.push(key);
        continue;
      }
      // A holder connected when the process stopped counts as disconnected now.
      const holder: DurableHolder = { filters: rec.filters, expirySeconds: rec.expirySeconds, disconnectedAt: rec.disconnectedAt || now };
      if (isExpired(holder, now)) {
        expired.push(key);
        continue;
      }
      this.adopt(key, holder);
    }
    for (const key of expired) await this.meta.delete(FILTER_HOLDERS_NAMESPACE, key);
    return { loaded: this.durable.size, expired: expired.length, unreadable };
  }

  /**
   * Re-reads the durable holders from the metadata after it was changed underneath (a replica
   * applied its master's, docs/ha-design.md decision 4): holders added or changed there are
   * adopted, holders gone from it are dropped, live references are kept. Writes nothing (expired
   * holders are skipped, not deleted: the master deletes them). Returns the counts.
   */
  reload(): { added: number; changed: number; removed: number; unreadable: number } {
    const now = this.now();
    const next = new Map<string, DurableHolder>();
    let unreadable = 0;
    for (const { key, value } of this.meta.scan(FILTER_HOLDERS_NAMESPACE)) {
      const rec = decodeHolder(value);
      if (rec === null) {
        unreadable++;
        continue;
      }
      const holder: DurableHolder = { filters: rec.filters, expirySeconds: rec.expirySeconds, disconnectedAt: rec.disconnectedAt };
      if (!isExpired(holder, now)) next.set(key, holder);
    }
    let added = 0;
    let changed = 0;
    let removed = 0;
    // New filters in before old ones out: a filter two states share never leaves the registry.
    for (const [key, holder] of next) {
      const before = this.durable.get(key);
      if (before !== undefined && sameFilters(before.filters, holder.filters)) {
        this.durable.set(key, { ...holder, filters: before.filters });
        continue;
      }
      this.adopt(key, holder);
      if (before === undefined) added++;
      else {
        for (const f of before.filters) this.trie.remove(f);
        changed++;
      }
    }
    for (const [key, before] of [...this.durable]) {
      if (next.has(key)) continue;
      this.durable.delete(key);
      for (const f of before.filters) this.trie.remove(f);
      removed++;
    }
    return { added, changed, removed, unreadable };
  }

  /** Distinct filters registered. */
  get size(): number {
    return this.trie.size;
  }

  /** Changes whenever a filter enters or leaves the registry (lets callers cache routes). */
  get version(): number {
    return this.trie.version;
  }

  /** One more live reference to `filter` (validated; throws InvalidTopicError). True when the filter is new. */
  add(filter: string): boolean {
    return this.trie.add(filter);
  }

  /** One live reference less; true when the filter left the registry. */
  remove(filter: string): boolean {
    return this.trie.remove(filter);
  }

  /**
   * Sets (replaces) a durable holder's filters and expiry; resolves once durable. A holder's
   * filters count as one reference each, whatever live references they have besides.
   */
  async hold(holder: string, state: DurableHolder): Promise<void> {
    // All or nothing: an invalid filter (InvalidTopicError) leaves the registry as it was.
    for (const f of state.filters) validateMqttTopicFilter(f, this.limits);
    for (const f of state.filters) this.trie.add(f);
    const before = this.durable.get(holder);
    if (before) for (const f of before.filters) this.trie.remove(f);
    const copy: DurableHolder = { filters: [...state.filters], expirySeconds: state.expirySeconds, disconnectedAt: state.disconnectedAt };
    this.durable.set(holder, copy);
    const rec: HolderRecord = { v: HOLDER_RECORD_VERSION, ...copy };
    await this.meta.put(FILTER_HOLDERS_NAMESPACE, holder, Buffer.from(JSON.stringify(rec)));
  }

  /** Forgets a durable holder (its session ended or was cleaned); resolves once durable. */
  async release(holder: string): Promise<void> {
    const before = this.durable.get(holder);
    if (before) {
      this.durable.delete(holder);
      for (const f of before.filters) this.trie.remove(f);
    }
    if (before || this.meta.get(FILTER_HOLDERS_NAMESPACE, holder) !== undefined) await this.meta.delete(FILTER_HOLDERS_NAMESPACE, holder);
  }

  /** A durable holder's state, if any. */
  holder(key: string): DurableHolder | undefined {
    return this.durable.get(key);
  }

  /** Drops durable holders past their expiry; returns their keys. */
  async expire(): Promise<string[]> {
    const now = this.now();
    const gone: string[] = [];
    for (const [key, h] of this.durable) if (isExpired(h, now)) gone.push(key);
    for (const key of gone) await this.release(key);
    return gone;
  }

  /** The registered filters matching `topic` (a valid topic name). */
  match(topic: string): string[] {
    return this.trie.match(topic);
  }

  /** The LMQs a message on `topic` goes into: the topic's own and every registered matching filter's, each once. */
  lmqsFor(topic: string): string[] {
    const lmqs = new Set<string>([this.lmq(topic)]);
    for (const f of this.trie.match(topic)) lmqs.add(this.lmq(f));
    return [...lmqs];
  }

  /** lmqOf, cached (a bounded cache: it starts over when full). */
  lmq(filterOrTopic: string): string {
    let l = this.lmqCache.get(filterOrTopic);
    if (l === undefined) {
      l = lmqOf(filterOrTopic);
      if (this.lmqCache.size > 100_000) this.lmqCache.clear();
      this.lmqCache.set(filterOrTopic, l);
    }
    return l;
  }

  private adopt(key: string, holder: DurableHolder): void {
    const kept: string[] = [];
    for (const f of holder.filters) {
      try {
        this.trie.add(f);
        kept.push(f);
      } catch {
        // A filter the current limits refuse: it cannot be dispatched into any more.
      }
    }
    this.durable.set(key, { ...holder, filters: kept });
  }
}

/** Same filters in the same order (what adopt would keep of `b` may be fewer: compared as stored). */
function sameFilters(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((f, i) => f === b[i]);
}

function isExpired(h: DurableHolder, now: number): boolean {
  return h.expirySeconds >= 0 && h.disconnectedAt > 0 && h.disconnectedAt + h.expirySeconds * 1000 <= now;
}

function decodeHolder(value: Buffer): HolderRecord | null {
  try {
    const r = JSON.parse(value.toString('utf8')) as Partial<HolderRecord>;
    if (r.v !== HOLDER_RECORD_VERSION || !Array.isArray(r.filters) || typeof r.expirySeconds !== 'number' || typeof r.disconnectedAt !== 'number') return null;
    if (!r.filters.every((f) => typeof f === 'string')) return null;
    return r as HolderRecord;
  } catch {
    return null;
  }
}
