import {
  DEFAULT_TOPIC_FILTER_TYPE,
  IllegalNameError,
  isLmqName,
  validateTopicName,
  Perm,
  isInheritable,
  DEFAULT_TOPIC,
  SCHEDULE_TOPIC,
  dlqTopicOf,
  retryTopicOf,
} from '@apogee/message';
import type { MessageStore, TopicConfig } from '@apogee/store';
import type { BrokerConfig } from '../config.js';
import { BrokerError } from '../errors.js';

/** Most queues a topic may have; a sanity bound against typos such as 100000. */
export const MAX_QUEUE_NUMS = 1024;

/** RocketMQ DataVersion: changes whenever the topic table does, so NameServers notice. */
export interface DataVersion {
  stateVersion: number;
  timestamp: number;
  counter: number;
}

const LMQ_CONFIG = (name: string): TopicConfig => ({
  topicName: name,
  readQueueNums: 1,
  writeQueueNums: 1,
  perm: Perm.READ | Perm.WRITE,
  topicFilterType: DEFAULT_TOPIC_FILTER_TYPE,
  topicSysFlag: 0,
  order: false,
  attributes: {},
});

/** The config of an ordinary topic: `queues` read and write queues, readable and writeable unless `perm` says otherwise. */
export function topicConfigOf(topicName: string, queues: number, perm = Perm.READ | Perm.WRITE, order = false): TopicConfig {
  return { topicName, readQueueNums: queues, writeQueueNums: queues, perm, topicFilterType: DEFAULT_TOPIC_FILTER_TYPE, topicSysFlag: 0, order, attributes: {} };
}

/**
 * Topic configs, persisted in the store. LMQs have no config of their own: every `%LMQ%` name
 * is a one-queue read-write topic (RocketMQ fakes it the same way), so millions of them cost nothing.
 */
export class TopicManager {
  private readonly listeners: Array<(topic: string) => void> = [];
  readonly dataVersion: DataVersion = { stateVersion: 0, timestamp: Date.now(), counter: 0 };
  /**
   * Each topic's config as last announced (JSON), so reload() tells which ones metadata
   * replication changed in the store underneath (the configs themselves are read from the store).
   */
  private readonly announced = new Map<string, string>();

  constructor(
    private readonly store: MessageStore,
    private readonly cfg: BrokerConfig,
  ) {}

  /** Creates the system topics this broker needs (TBW102 reflects autoCreateTopicEnable). */
  async init(): Promise<void> {
    const defaultPerm = Perm.READ | Perm.WRITE | (this.cfg.autoCreateTopicEnable ? Perm.INHERIT : 0);
    const tbw = this.store.getTopicConfig(DEFAULT_TOPIC);
    if (!tbw || tbw.perm !== defaultPerm || tbw.writeQueueNums !== this.cfg.defaultTopicQueueNums) {
      await this.store.putTopicConfig(topicConfigOf(DEFAULT_TOPIC, this.cfg.defaultTopicQueueNums, defaultPerm));
    }
    this.announced.clear();
    for (const c of this.store.listTopicConfigs()) this.announced.set(c.topicName, JSON.stringify(c));
  }

  /**
   * After the store's topic configs were changed underneath (a replica applied its master's
   * metadata, docs/ha-design.md decision 4): announces every topic created, changed or deleted
   * since the last announcement (onChange listeners, dataVersion: the NameServers hear of it).
   * Returns the topics announced.
   */
  reload(): string[] {
    const seen = new Set<string>();
    const changed: string[] = [];
    for (const c of this.store.listTopicConfigs()) {
      seen.add(c.topicName);
      if (this.announced.get(c.topicName) !== JSON.stringify(c)) changed.push(c.topicName);
    }
    for (const t of this.announced.keys()) if (!seen.has(t)) changed.push(t);
    for (const t of changed) this.changed(t);
    return changed;
  }

  /** Called with the topic name after every create, update or delete. */
  onChange(fn: (topic: string) => void): void {
    this.listeners.push(fn);
  }

  get(topic: string): TopicConfig | undefined {
    if (isLmqName(topic)) return LMQ_CONFIG(topic);
    return this.store.getTopicConfig(topic);
  }

  list(): TopicConfig[] {
    return this.store.listTopicConfigs();
  }

  /** Creates or replaces a topic (admin UPDATE_AND_CREATE_TOPIC). */
  async createOrUpdate(config: TopicConfig): Promise<TopicConfig> {
    checkTopicName(config.topicName);
    if (isLmqName(config.topicName)) throw new BrokerError('INVALID_PARAMETER', `${config.topicName} is an LMQ; LMQs need no topic config`);
    if (config.topicName === SCHEDULE_TOPIC) throw new BrokerError('NO_PERMISSION', `${SCHEDULE_TOPIC} is a system topic`);
    for (const k of ['readQueueNums', 'writeQueueNums'] as const) {
      const n = config[k];
      if (!Number.isInteger(n) || n < 0 || n > MAX_QUEUE_NUMS) throw new BrokerError('INVALID_PARAMETER', `${k} ${n} is outside 0..${MAX_QUEUE_NUMS}`);
    }
    if (!Number.isInteger(config.perm) || config.perm < 0 || config.perm > 15)
      throw new BrokerError('INVALID_PARAMETER', `perm ${config.perm} is not a RocketMQ permission (0..15)`);
    await this.store.putTopicConfig(config);
    this.changed(config.topicName);
    return config;
  }

  /**
   * The config of a topic a producer sends to, creating it from the default topic when that is
   * allowed (RocketMQ createTopicInSendMessageMethod). Throws TOPIC_NOT_EXIST otherwise.
   */
  async getOrAutoCreate(topic: string, defaultTopic: string, defaultQueueNums: number): Promise<TopicConfig> {
    const existing = this.get(topic);
    if (existing) return existing;
    const def = this.store.getTopicConfig(defaultTopic);
    if (!def || !isInheritable(def.perm) || !this.cfg.autoCreateTopicEnable) {
      throw new BrokerError(
        'TOPIC_NOT_EXIST',
        `topic ${topic} does not exist and auto-creation is ${this.cfg.autoCreateTopicEnable ? `not allowed from ${defaultTopic}` : 'disabled (autoCreateTopicEnable=false)'}; create it first`,
      );
    }
    const queues = Math.max(1, Math.min(defaultQueueNums > 0 ? defaultQueueNums : def.writeQueueNums, def.writeQueueNums));
    return this.createInternal(topicConfigOf(topic, queues, def.perm & ~Perm.INHERIT));
  }

  /** `%RETRY%<group>`: one queue, read-write; created on heartbeat and send-back. */
  ensureRetryTopic(group: string): Promise<TopicConfig> {
    return this.ensure(retryTopicOf(group), 1, Perm.READ | Perm.WRITE);
  }

  /** `%DLQ%<group>`: one queue; readable so operators can inspect and re-send. */
  ensureDlqTopic(group: string): Promise<TopicConfig> {
    return this.ensure(dlqTopicOf(group), 1, Perm.READ | Perm.WRITE);
  }

  /** A one-queue read-write system topic the broker writes to itself (TRANS_CHECK_MAX_TIME_TOPIC), created on first use. */
  ensureSystemTopic(topic: string): Promise<TopicConfig> {
    return this.ensure(topic, 1, Perm.READ | Perm.WRITE);
  }

  async delete(topic: string): Promise<boolean> {
    if (!this.store.getTopicConfig(topic)) return false;
    if (topic === DEFAULT_TOPIC) throw new BrokerError('NO_PERMISSION', `${DEFAULT_TOPIC} is the default topic and cannot be deleted`);
    await this.store.deleteTopicConfig(topic);
    this.changed(topic);
    return true;
  }

  private async ensure(topic: string, queues: number, perm: number): Promise<TopicConfig> {
    return this.get(topic) ?? this.createInternal(topicConfigOf(topic, queues, perm));
  }

  private readonly creating = new Map<string, Promise<TopicConfig>>();

  /** Concurrent first sends to one new topic create it once. */
  private createInternal(config: TopicConfig): Promise<TopicConfig> {
    let p = this.creating.get(config.topicName);
    if (!p) {
      p = this.store.putTopicConfig(config).then(
        () => {
          this.creating.delete(config.topicName);
          this.changed(config.topicName);
          return config;
        },
        (err: unknown) => {
          this.creating.delete(config.topicName);
          throw err;
        },
      );
      this.creating.set(config.topicName, p);
    }
    return p;
  }

  private changed(topic: string): void {
    const c = this.store.getTopicConfig(topic);
    if (c === undefined) this.announced.delete(topic);
    else this.announced.set(topic, JSON.stringify(c));
    this.dataVersion.counter++;
    this.dataVersion.timestamp = Date.now();
    for (const fn of this.listeners) fn(topic);
  }
}

/** Validates a topic or LMQ name (length, characters) as the store will, as INVALID_PARAMETER naming the limit. */
export function checkTopicName(topic: string): void {
  try {
    validateTopicName(topic);
  } catch (err) {
    if (err instanceof IllegalNameError) throw new BrokerError('INVALID_PARAMETER', err.message.replace(/^[A-Z_]+: /, ''));
    throw err;
  }
}
