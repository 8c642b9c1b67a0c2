import { isLmqName } from '@apogee/message';
import type { BrokerConfig } from '../config.js';
import { BrokerError } from '../errors.js';
import { JsonFile } from '../json-file.js';

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

const GROUP_NAME = /^[%|a-zA-Z0-9_-]{1,255}$/;

/** Consumer group configs: auto-created on first use (autoCreateSubscriptionGroup), persisted as JSON. */
export class GroupManager {
  private readonly groups = new Map<string, SubscriptionGroupConfig>();
  private readonly file: JsonFile<{ subscriptionGroupTable: Record<string, SubscriptionGroupConfig> }>;

  constructor(
    file: string,
    private readonly cfg: BrokerConfig,
  ) {
    this.file = new JsonFile(file, () => ({ subscriptionGroupTable: Object.fromEntries(this.groups) }));
  }

  async load(): Promise<void> {
    const doc = await this.file.read();
    for (const [name, g] of Object.entries(doc?.subscriptionGroupTable ?? {})) this.groups.set(name, { ...this.defaults(name), ...g });
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
    void this.file.save().catch(() => {});
    return created;
  }

  async createOrUpdate(partial: Partial<SubscriptionGroupConfig> & { groupName: string }): Promise<SubscriptionGroupConfig> {
    checkGroupName(partial.groupName);
    const cfg = { ...this.defaults(partial.groupName), ...this.groups.get(partial.groupName), ...partial };
    if (!Number.isInteger(cfg.retryMaxTimes) || cfg.retryMaxTimes < 0 || cfg.retryMaxTimes > 10_000) {
      throw new BrokerError('INVALID_PARAMETER', `retryMaxTimes ${cfg.retryMaxTimes} is outside 0..10000`);
    }
    this.groups.set(cfg.groupName, cfg);
    await this.file.save();
    return cfg;
  }

  async delete(group: string): Promise<boolean> {
    const had = this.groups.delete(group);
    if (had) await this.file.save();
    return had;
  }

  /** Waits for pending writes. */
  flush(): Promise<void> {
    return this.file.save();
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

export function checkGroupName(group: string): void {
  if (typeof group !== 'string' || !GROUP_NAME.test(group)) {
    throw new BrokerError('INVALID_PARAMETER', `group name ${JSON.stringify(group)} must be 1-255 characters of [%|a-zA-Z0-9_-]`);
  }
}
