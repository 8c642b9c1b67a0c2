import fs from 'node:fs/promises';
import { isLmqName } from '@apogee/message';
import type { BrokerConfig } from '../config.js';
import type { EndpointMetadata } from '../engine-types.js';
import { BrokerError } from '../errors.js';
import { JsonFile } from '../json-file.js';
import { type Logger, silentLogger } from '../logger.js';

/** RocketMQ SubscriptionGroupConfig (the fields Apogee honours). */
export interface SubscriptionGroupConfig {
  groupName: string;
  consumeEnable: boolean;
  consumeBroadcastEnable: boolean;
  retryQueueNums: number;
  /** Deliveries before a message goes to `%DLQ%<group>` (when the client does not say). */
  retryMaxTimes: number;
  notifyConsumerIdsChangedEnable: boolean;
}

/**
 * Store metadata namespace of the subscription group configs: key = group name, value = the
 * config as JSON. In the store, they replicate with the rest of its metadata (docs/ha-design.md
 * decision 4).
 */
export const GROUP_NAMESPACE = 'broker.subscription-group';

/** Suffix the old `subscriptionGroup.json` is renamed with once its groups are in the store. */
export const MIGRATED_SUFFIX = '.migrated';

const GROUP_NAME = /^[%|a-zA-Z0-9_-]{1,255}$/;

/**
 * Consumer group configs: auto-created on first use (autoCreateSubscriptionGroup), persisted in
 * the store's metadata. A `subscriptionGroup.json` left by an older broker is imported once on
 * load, then renamed `subscriptionGroup.json.migrated`.
 */
export class GroupManager {
  private readonly groups = new Map<string, SubscriptionGroupConfig>();
  /** Writes not yet durable (flush waits for them). */
  private readonly writes = new Set<Promise<unknown>>();

  constructor(
    /** Where an older broker kept the groups (`<configDir>/subscriptionGroup.json`): imported once, then renamed. */
    private readonly legacyFile: string,
    private readonly cfg: BrokerConfig,
    private readonly metadata: EndpointMetadata,
    private readonly log: Logger = silentLogger,
  ) {}

  async load(): Promise<void> {
    this.readStore();
    await this.migrate();
  }

  /**
   * Re-reads the groups from the store after its metadata was changed underneath (a replica
   * applied its master's, docs/ha-design.md decision 4): the cache becomes exactly the store's
   * groups, replaced in one step. Writes nothing. Returns how many groups were added, changed and
   * removed.
   */
  reload(): { added: number; changed: number; removed: number } {
    const before = new Map(this.groups);
    this.readStore();
    let added = 0;
    let changed = 0;
    for (const [name, g] of this.groups) {
      const was = before.get(name);
      if (was === undefined) added++;
      else if (JSON.stringify(was) !== JSON.stringify(g)) changed++;
      before.delete(name);
    }
    return { added, changed, removed: before.size };
  }

  /** The cache := the store's groups (a record that is not a JSON object is skipped, with a warning). */
  private readStore(): void {
    const next = new Map<string, SubscriptionGroupConfig>();
    for (const { key, value } of this.metadata.scan(GROUP_NAMESPACE)) {
      const g = parseGroup(value);
      if (g === undefined) {
        this.log.warn({ group: key }, 'broker: a subscription group record that is not a JSON object was left as it is (defaults apply)');
        continue;
      }
      next.set(key, { ...this.defaults(key), ...g, groupName: key });
    }
    this.groups.clear();
    for (const [k, g] of next) this.groups.set(k, g);
  }

  /** Imports a legacy subscriptionGroup.json (unless the store has groups already) and renames it. */
  private async migrate(): Promise<void> {
    const doc = await new JsonFile<{ subscriptionGroupTable?: Record<string, Partial<SubscriptionGroupConfig>> }>(this.legacyFile, () => ({})).read();
    if (doc === undefined) return;
    const table = doc?.subscriptionGroupTable ?? {};
    const names = Object.keys(table);
    const fromStore = this.groups.size > 0;
    const imported: string[] = [];
    if (!fromStore) {
      const writes: Array<Promise<unknown>> = [];
      for (const name of names) {
        if (!GROUP_NAME.test(name)) {
          this.log.warn({ group: name, file: this.legacyFile }, 'broker: not importing a subscription group with an invalid name');
          continue;
        }
        const g = { ...this.defaults(name), ...table[name], groupName: name };
        this.groups.set(name, g);
        writes.push(this.persist(g));
        imported.push(name);
      }
      // Issued in one turn: one store transaction, all or nothing.
      await Promise.all(writes);
    }
    const renamed = this.legacyFile + MIGRATED_SUFFIX;
    await fs.rename(this.legacyFile, renamed);
    if (fromStore)
      this.log.warn(
        { file: this.legacyFile, renamed, groups: names.length, inStore: this.groups.size },
        'broker: the store holds subscription groups already; the legacy subscriptionGroup.json was not imported, only renamed',
      );
    else
      this.log.info(
        { file: this.legacyFile, renamed, groups: imported.length },
        "broker: subscription groups moved from subscriptionGroup.json into the store's metadata (they replicate with it); the file is kept, renamed, and no longer read",
      );
  }

  get(group: string): SubscriptionGroupConfig | undefined {
    return this.groups.get(group);
  }

  list(): SubscriptionGroupConfig[] {
    return [...this.groups.values()];
  }

  /** The group's config, creating it when allowed; throws SUBSCRIPTION_GROUP_NOT_EXIST otherwise. */
  getOrCreate(group: string): SubscriptionGroupConfig {
    const g = this.groups.get(group);
    if (g) return g;
    checkGroupName(group);
    if (!this.cfg.autoCreateSubscriptionGroup && !isLmqName(group)) {
      throw new BrokerError('SUBSCRIPTION_GROUP_NOT_EXIST', `consumer group ${group} does not exist and autoCreateSubscriptionGroup is off; create it first`);
    }
    const created = this.defaults(group);
    // LMQ session groups (one per MQTT client) are not persisted: there can be millions.
    if (isLmqName(group)) return created;
    this.groups.set(group, created);
    void this.persist(created).catch(() => {});
    return created;
  }

  async createOrUpdate(partial: Partial<SubscriptionGroupConfig> & { groupName: string }): Promise<SubscriptionGroupConfig> {
    checkGroupName(partial.groupName);
    const cfg = { ...this.defaults(partial.groupName), ...this.groups.get(partial.groupName), ...partial };
    if (!Number.isInteger(cfg.retryMaxTimes) || cfg.retryMaxTimes < 0 || cfg.retryMaxTimes > 10_000) {
      throw new BrokerError('INVALID_PARAMETER', `retryMaxTimes ${cfg.retryMaxTimes} is outside 0..10000`);
    }
    this.groups.set(cfg.groupName, cfg);
    await this.persist(cfg);
    return cfg;
  }

  async delete(group: string): Promise<boolean> {
    const had = this.groups.delete(group);
    if (had) await this.track(this.metadata.delete(GROUP_NAMESPACE, group));
    return had;
  }

  /** Waits for pending writes. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.writes]);
  }

  private persist(g: SubscriptionGroupConfig): Promise<unknown> {
    return this.track(this.metadata.put(GROUP_NAMESPACE, g.groupName, Buffer.from(JSON.stringify(g), 'utf8')));
  }

  private track(p: Promise<unknown>): Promise<unknown> {
    this.writes.add(p);
    const done = () => this.writes.delete(p);
    p.then(done, done);
    return p;
  }

  private defaults(groupName: string): SubscriptionGroupConfig {
    return {
      groupName,
      consumeEnable: true,
      consumeBroadcastEnable: true,
      retryQueueNums: 1,
      retryMaxTimes: this.cfg.defaultRetryMaxTimes,
      notifyConsumerIdsChangedEnable: true,
    };
  }
}

function parseGroup(b: Buffer): Partial<SubscriptionGroupConfig> | undefined {
  try {
    const v = JSON.parse(b.toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Partial<SubscriptionGroupConfig>) : undefined;
  } catch {
    return undefined;
  }
}

export function checkGroupName(group: string): void {
  if (typeof group !== 'string' || !GROUP_NAME.test(group)) {
    throw new BrokerError('INVALID_PARAMETER', `group name ${JSON.stringify(group)} must be 1-255 characters of [%|a-zA-Z0-9_-]`);
  }
}
