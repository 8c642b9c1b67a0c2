import path from 'node:path';
import type { MessageStore } from '@apogee/store';
import type { ClientChannel } from './client/client-channel.js';
import { ConsumerRegistry, type ConsumerRegistration } from './client/consumer-registry.js';
import { ProducerRegistry } from './client/producer-registry.js';
import { QueueLocks, type MessageQueueRef } from './client/queue-locks.js';
import { type BrokerConfig, resolveBrokerConfig } from './config.js';
import { parseDelayLevels } from './delay/delay-levels.js';
import { ScheduleService } from './delay/schedule-service.js';
import { GroupManager } from './group/group-manager.js';
import { type Logger, silentLogger } from './logger.js';
import { BrokerMetrics } from './metrics.js';
import { OffsetService } from './offsets/offset-service.js';
import { PullService } from './pull/pull-service.js';
import { QueryService } from './query/query-service.js';
import { FlowControl } from './send/flow-control.js';
import { SendBackService } from './send/send-back-service.js';
import { SendService } from './send/send-service.js';
import { TopicManager } from './topic/topic-manager.js';

export interface BrokerOptions {
  store: MessageStore;
  /** Directory for the broker's own state (subscription groups). */
  configDir: string;
  config?: Partial<BrokerConfig>;
  logger?: Logger;
  now?: () => number;
}

/** A client heartbeat (RocketMQ HeartbeatData), protocol-neutral. */
export interface Heartbeat {
  clientId: string;
  producerGroups: string[];
  consumers: Array<Omit<ConsumerRegistration, 'clientId'>>;
  language?: string;
  version?: number;
}

/** Per-queue figures of a group's progress (RocketMQ ConsumeStats). */
export interface QueueProgress {
  topic: string;
  queueId: number;
  brokerOffset: number;
  consumerOffset: number;
  lag: number;
}

/**
 * The protocol-neutral broker engine: every endpoint (remoting, MQTT, AMQP) calls these services;
 * none touches the store's internals. Owns the periodic housekeeping (client expiry, delayed
 * delivery) and tells members when their consumer group changes.
 */
export class Broker {
  readonly config: BrokerConfig;
  readonly metrics = new BrokerMetrics();
  readonly topics: TopicManager;
  readonly groups: GroupManager;
  readonly consumers: ConsumerRegistry;
  readonly producers: ProducerRegistry;
  readonly locks: QueueLocks;
  readonly sender: SendService;
  readonly puller: PullService;
  readonly sendBack: SendBackService;
  readonly offsets: OffsetService;
  readonly query: QueryService;
  readonly schedule: ScheduleService;
  readonly delayLevels: number[];
  private scanTimer: NodeJS.Timeout | null = null;
  private readonly log: Logger;

  private constructor(readonly store: MessageStore, opts: BrokerOptions) {
    this.config = resolveBrokerConfig(opts.config);
    this.log = opts.logger ?? silentLogger;
    const now = opts.now ?? Date.now;
    this.delayLevels = parseDelayLevels(this.config.messageDelayLevel);
    this.topics = new TopicManager(store, this.config);
    this.groups = new GroupManager(path.join(opts.configDir, 'subscriptionGroup.json'), this.config);
    this.consumers = new ConsumerRegistry(now);
    this.producers = new ProducerRegistry(now);
    this.locks = new QueueLocks(this.config.rebalanceLockMaxLiveTimeMs, now);
    const flow = new FlowControl(this.config.maxPutWaitMs, this.config.maxPutsInFlight, this.metrics, now);
    this.sender = new SendService(store, this.topics, this.groups, this.config, this.delayLevels, flow, this.metrics, this.config.clusterName);
    const put = (puts: Parameters<SendService['put']>[0]) => this.sender.put(puts);
    this.puller = new PullService(store, this.topics, this.groups, this.consumers, this.config, this.metrics);
    this.sendBack = new SendBackService(store, this.topics, this.groups, this.delayLevels.length, put, this.metrics);
    this.offsets = new OffsetService(store, this.groups);
    this.query = new QueryService(store);
    this.schedule = new ScheduleService(store, this.delayLevels, put, this.metrics, this.log, now);
    this.consumers.onMembershipChange((group) => this.announceMembership(group));
  }

  /** Loads broker state, creates system topics and starts housekeeping. */
  static async open(opts: BrokerOptions): Promise<Broker> {
    const b = new Broker(opts.store, opts);
    await b.groups.load();
    await b.topics.init();
    b.schedule.start();
    b.scanTimer = setInterval(() => b.scanExpiredClients(), 10_000);
    b.scanTimer.unref();
    return b;
  }

  /** Registers a client's producer and consumer groups; creates `%RETRY%<group>` for each consumer group. */
  async heartbeat(channel: ClientChannel, hb: Heartbeat): Promise<void> {
    for (const c of hb.consumers) {
      const group = this.groups.getOrCreate(c.group);
      if (!group.consumeEnable) continue;
      await this.topics.ensureRetryTopic(c.group);
      const reg: ConsumerRegistration = { ...c, clientId: hb.clientId };
      if (hb.language !== undefined) reg.language = hb.language;
      if (hb.version !== undefined) reg.version = hb.version;
      this.consumers.register(channel, reg);
    }
    for (const g of hb.producerGroups) this.producers.register(g, channel, hb.clientId);
  }

  unregisterClient(channel: ClientChannel, producerGroup?: string, consumerGroup?: string): void {
    if (producerGroup) this.producers.unregister(producerGroup, channel);
    if (consumerGroup) this.consumers.unregister(consumerGroup, channel);
  }

  /** A connection is gone: it leaves every group (members are told). */
  channelClosed(channel: ClientChannel): void {
    this.consumers.channelClosed(channel);
    this.producers.channelClosed(channel);
  }

  lockQueues(group: string, clientId: string, queues: MessageQueueRef[]): MessageQueueRef[] {
    this.groups.getOrCreate(group);
    return this.locks.tryLock(group, clientId, queues);
  }

  unlockQueues(group: string, clientId: string, queues: MessageQueueRef[]): void {
    this.locks.unlock(group, clientId, queues);
  }

  /** Offsets and lag of a group on every queue it has committed in or subscribes to. */
  groupProgress(group: string, topic?: string): QueueProgress[] {
    const queues = new Map<string, { topic: string; queueId: number }>();
    const add = (t: string, q: number) => queues.set(`${t}\u0000${q}`, { topic: t, queueId: q });
    for (const o of this.store.listConsumerOffsets(group)) add(o.topic, o.queueId);
    for (const t of this.consumers.get(group)?.subscriptions.keys() ?? []) {
      const cfg = this.topics.get(t);
      for (let q = 0; q < (cfg?.readQueueNums ?? 0); q++) add(t, q);
    }
    const out: QueueProgress[] = [];
    for (const { topic: t, queueId } of queues.values()) {
      if (topic !== undefined && t !== topic) continue;
      const brokerOffset = this.store.getMaxOffset(t, queueId);
      const consumerOffset = this.store.getConsumerOffset(group, t, queueId) ?? -1;
      out.push({ topic: t, queueId, brokerOffset, consumerOffset, lag: Math.max(0, brokerOffset - Math.max(consumerOffset, this.store.getMinOffset(t, queueId))) });
    }
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.queueId - b.queueId));
  }

  /** Drops clients silent for channelExpiredTimeoutMs (RocketMQ's 120 s). */
  scanExpiredClients(): void {
    const dropped = this.consumers.scanExpired(this.config.channelExpiredTimeoutMs);
    this.producers.scanExpired(this.config.channelExpiredTimeoutMs);
    if (dropped.length > 0) this.log.info({ channels: dropped.map((c) => c.remoteAddress) }, 'broker: dropped consumers silent for too long');
  }

  async close(): Promise<void> {
    if (this.scanTimer) clearInterval(this.scanTimer);
    this.scanTimer = null;
    await this.schedule.stop();
    await this.groups.flush();
  }

  private announceMembership(group: string): void {
    if (this.groups.get(group)?.notifyConsumerIdsChangedEnable === false) return;
    const g = this.consumers.get(group);
    if (!g) return;
    for (const c of g.connections.values()) c.channel.notifyConsumerIdsChanged?.(group);
  }
}
