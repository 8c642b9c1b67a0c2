import { formatError } from '@apogee/message';
import path from 'node:path';
import type { FrozenProperties, Histogram } from '@apogee/message';
import type { MessageStore } from '@apogee/store';
import { MQTT_DEFAULT_LIMITS } from './topic-space/limits.js';
import type { ClientChannel } from './client/client-channel.js';
import { ConsumerRegistry, type ConsumerRegistration } from './client/consumer-registry.js';
import { ProducerRegistry } from './client/producer-registry.js';
import { QueueLocks, type MessageQueueRef } from './client/queue-locks.js';
import { type BrokerConfig, resolveBrokerConfig } from './config.js';
import { parseDelayLevels } from './delay/delay-levels.js';
import { ScheduleService } from './delay/schedule-service.js';
import { TimerService } from './timer/timer-service.js';
import { GroupManager } from './group/group-manager.js';
import { type Logger, silentLogger } from './logger.js';
import { BrokerMetrics } from './metrics.js';
import { type GroupTopicLag, lagByGroupAndTopic } from './metrics/group-lag.js';
import { OffsetService } from './offsets/offset-service.js';
import { PullService } from './pull/pull-service.js';
import { QueryService } from './query/query-service.js';
import { FlowControl } from './send/flow-control.js';
import { SendBackService } from './send/send-back-service.js';
import { SendService } from './send/send-service.js';
import { TopicManager } from './topic/topic-manager.js';
import { BrokerTracer } from './trace/broker-tracer.js';
import type { Engine } from './engine.js';
import type { Appended, EndpointMetadata, KeyLookupHit, ReadOptions, ReadResult, StoreStats } from './engine-types.js';
import { LiveFeed } from './live/live-feed.js';
import { TopicFilters } from './topic-space/topic-filters.js';
import { TopicSpaceRouting } from './topic-space/routing.js';
import type { UnconfirmedSend } from './send/send-service.js';
import type { ReplicationGate } from './send/replication-gate.js';
import type { SendBatchRequest, SendRequest, SendResult } from './send/send-types.js';
import { TransactionService } from './transaction/transaction-service.js';
import type { EndTransactionOutcome, EndTransactionRequest, OpenTransaction } from './transaction/transaction-types.js';

const EMPTY_BODY = Buffer.alloc(0);

export interface BrokerOptions {
  store: MessageStore;
  /** Directory for the broker's own state (subscription groups). */
  configDir: string;
  config?: Partial<BrokerConfig>;
  logger?: Logger;
  now?: () => number;
  /**
   * 'replica': the commit log is written by replication only (docs/ha-design.md): every send is
   * refused as the store's READ_ONLY (SERVICE_NOT_AVAILABLE, which producers retry elsewhere), and
   * what writes on its own — delayed delivery, timers, transaction checks — does not run; reads
   * and pulls are served. Default 'master'.
   */
  role?: BrokerRole;
  /** Synchronous replication (a master's): what sends wait for after the local store. Default none. */
  replication?: ReplicationGate;
}

/** Whether this broker takes writes (master) or follows its group's master (replica). */
export type BrokerRole = 'master' | 'replica';

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
 * The protocol-neutral broker engine, in process: the Engine every endpoint (remoting, MQTT,
 * AMQP) is given; none touches the store. Owns the periodic housekeeping (client expiry, delayed
 * delivery, expiry of durable topic-filter holders), the live-delivery feed and the topic space's
 * filter registry, and tells members when their consumer group changes.
 */
export class Broker implements Engine {
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
  readonly timers: TimerService;
  readonly transactions: TransactionService;
  readonly delayLevels: number[];
  readonly live: LiveFeed;
  readonly topicFilters: TopicFilters;
  readonly metadata: EndpointMetadata;
  readonly tracer: BrokerTracer;
  readonly role: BrokerRole;
  private scanTimer: NodeJS.Timeout | null = null;
  private readonly log: Logger;
  /** reloadMetadata's state: the reload running, the one queued behind it (callers share it), when the last one started. */
  private reloadRunning: Promise<void> | null = null;
  private reloadQueued: Promise<void> | null = null;
  private lastReloadAt = Number.NEGATIVE_INFINITY;
  private closed = false;

  private constructor(
    private readonly store: MessageStore,
    opts: BrokerOptions,
  ) {
    this.config = resolveBrokerConfig(opts.config);
    this.role = opts.role ?? 'master';
    this.log = opts.logger ?? silentLogger;
    const now = opts.now ?? Date.now;
    this.delayLevels = parseDelayLevels(this.config.messageDelayLevel);
    this.topics = new TopicManager(store, this.config);
    this.metadata = {
      put: (ns, k, v) => store.metaPut(ns, k, v),
      get: (ns, k) => store.metaGet(ns, k),
      delete: (ns, k) => store.metaDelete(ns, k),
      scan: (ns, prefix, limit) => store.metaScan(ns, prefix, limit),
    };
    // Subscription groups live in the store's metadata (they replicate with it); an older broker's JSON file is imported once.
    this.groups = new GroupManager(path.join(opts.configDir, 'subscriptionGroup.json'), this.config, this.metadata, this.log);
    this.consumers = new ConsumerRegistry(now);
    this.producers = new ProducerRegistry(now);
    this.locks = new QueueLocks(this.config.rebalanceLockMaxLiveTimeMs, now);
    const flow = new FlowControl(this.config.maxPutWaitMs, this.config.maxPutsInFlight, this.metrics, now);
    this.live = new LiveFeed(store);
    this.topicFilters = new TopicFilters(this.metadata, MQTT_DEFAULT_LIMITS, now);
    const routing = new TopicSpaceRouting(this.topicFilters);
    this.sender = new SendService(
      store,
      this.topics,
      this.groups,
      this.config,
      this.delayLevels,
      flow,
      this.metrics,
      this.config.clusterName,
      routing,
      this.live,
    );
    const put = (puts: Parameters<SendService['put']>[0]) => this.sender.put(puts);
    this.tracer = new BrokerTracer(this.config, (offset) => store.offsetMessageId(offset), put, this.log, now);
    this.puller = new PullService(store, this.topics, this.groups, this.consumers, this.config, this.metrics);
    this.sendBack = new SendBackService(store, this.topics, this.groups, this.delayLevels.length, put, this.metrics, this.tracer);
    this.offsets = new OffsetService(store, this.groups);
    this.query = new QueryService(store);
    this.schedule = new ScheduleService(store, this.delayLevels, put, this.metrics, this.log, now);
    this.timers = new TimerService(store, put, this.metrics, this.log, now);
    this.transactions = new TransactionService(store, put, this.producers, this.topics, this.config, this.log, now, (p) => this.sender.putCommitted(p));
    this.sender.onHalfStored = (p, r) => this.transactions.rememberHalf(p, r);
    this.sender.replication = opts.replication ?? null;
    this.consumers.onMembershipChange((group) => this.announceMembership(group));
  }

  /** Loads broker state, creates system topics and starts housekeeping. */
  static async open(opts: BrokerOptions): Promise<Broker> {
    const b = new Broker(opts.store, opts);
    await b.groups.load();
    await b.topics.init();
    await b.tracer.init(b.topics);
    const filters = await b.topicFilters.load();
    if (filters.loaded + filters.expired + filters.unreadable.length > 0)
      b.log.info({ ...filters, unreadable: filters.unreadable.length }, 'broker: durable topic filters loaded');
    for (const key of filters.unreadable) b.log.warn({ holder: key }, 'broker: a durable topic-filter record of an unknown format was left as it is');
    if (b.role === 'replica') {
      opts.store.setReadOnly(`broker ${b.config.brokerName} is a replica here (its group's master takes the sends)`);
      b.log.info(
        { brokerName: b.config.brokerName },
        'broker: running as a replica: sends refused, reads served; delayed delivery, timers and transaction checks wait for the master role',
      );
    } else {
      opts.store.setReadOnly(null);
      b.schedule.start();
      b.timers.start();
      await b.transactions.start();
    }
    b.scanTimer = setInterval(() => {
      b.scanExpiredClients();
      b.topicFilters.expire().catch((err: unknown) => b.log.warn({ err: formatError(err) }, 'broker: expiring durable topic filters failed'));
    }, 10_000);
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
      out.push({
        topic: t,
        queueId,
        brokerOffset,
        consumerOffset,
        lag: Math.max(0, brokerOffset - Math.max(consumerOffset, this.store.getMinOffset(t, queueId))),
      });
    }
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.queueId - b.queueId));
  }

  /** Drops clients silent for channelExpiredTimeoutMs (RocketMQ's 120 s). */
  scanExpiredClients(): void {
    const dropped = this.consumers.scanExpired(this.config.channelExpiredTimeoutMs);
    this.producers.scanExpired(this.config.channelExpiredTimeoutMs);
    if (dropped.length > 0) this.log.info({ channels: dropped.map((c) => c.remoteAddress) }, 'broker: dropped consumers silent for too long');
  }

  // --- the Engine's sending, reading and offsets, over the store ---

  send(req: SendRequest): Promise<SendResult> {
    const sent = this.sender.send(req);
    return this.tracer.watchesSend(req.topic) ? this.traced(req, sent) : sent;
  }

  sendBatch(req: SendBatchRequest): Promise<SendResult> {
    const sent = this.sender.sendBatch(req);
    return this.tracer.watchesSend(req.topic) ? this.traced({ ...req, body: EMPTY_BODY }, sent) : sent;
  }

  sendUnconfirmed(req: SendRequest): UnconfirmedSend | null {
    const u = this.sender.sendUnconfirmed(req);
    if (u !== null && this.tracer.deliveries) this.tracer.appended(req, u.topic, u.queueId, u.result);
    return u;
  }

  /** The send's trace record once stored (see BrokerTracer.watchesSend). */
  private traced(req: SendRequest, sent: Promise<SendResult>): Promise<SendResult> {
    return sent.then((r) => {
      this.tracer.afterSend(req, r);
      return r;
    });
  }

  whenConfirmed(appended: Appended): Promise<void> {
    return this.sender.whenReplicated(appended);
  }

  get unconfirmedBytes(): number {
    return this.store.unconfirmedBytes;
  }

  freeze(props: Map<string, string>): FrozenProperties {
    return this.sender.freeze(props);
  }

  flush(): Promise<void> {
    return this.store.flush();
  }

  read(topic: string, queueId: number, offset: number, max: number, opts?: ReadOptions): Promise<ReadResult> {
    return this.store.get(topic, queueId, offset, max, opts);
  }

  minOffset(topic: string, queueId: number): number {
    return this.store.getMinOffset(topic, queueId);
  }

  maxOffset(topic: string, queueId: number): number {
    return this.store.getMaxOffset(topic, queueId);
  }

  offsetByTime(topic: string, queueId: number, timestamp: number, boundary?: 'lower' | 'upper'): Promise<number> {
    return this.store.getOffsetByTime(topic, queueId, timestamp, boundary);
  }

  readRecord(commitLogOffset: number): Promise<Buffer | null> {
    return this.store.readRecord(commitLogOffset);
  }

  findByUniqueKey(topic: string, uniqKey: string, begin: number, end: number): Promise<KeyLookupHit[]> {
    return this.store.queryByUniqueKey(topic, uniqKey, begin, end);
  }

  onArrival(topic: string, queueId: number, listener: (maxOffset: number) => void): () => void {
    return this.store.onArrival(topic, queueId, listener);
  }

  committedOffset(group: string, topic: string, queueId: number): number | undefined {
    return this.store.getConsumerOffset(group, topic, queueId);
  }

  commitOffset(group: string, topic: string, queueId: number, offset: number): Promise<void> {
    return this.store.commitOffset(group, topic, queueId, offset);
  }

  listOffsets(group: string): Array<{ topic: string; queueId: number; offset: number }> {
    return this.store.listConsumerOffsets(group);
  }

  deleteOffsets(group: string, topic?: string): Promise<void> {
    return this.store.deleteConsumerOffsets(group, topic);
  }

  groupsConsuming(topic: string): string[] {
    const groups = new Set(this.consumers.groupsOfTopic(topic));
    for (const g of this.groups.list()) if (!groups.has(g.groupName) && this.listOffsets(g.groupName).some((o) => o.topic === topic)) groups.add(g.groupName);
    return [...groups].sort();
  }

  endTransaction(req: EndTransactionRequest): Promise<EndTransactionOutcome> {
    return this.transactions.endTransaction(req);
  }

  openTransactions(max?: number): Promise<OpenTransaction[]> {
    return this.transactions.openTransactions(max);
  }

  storeStats(): StoreStats {
    return this.store.stats();
  }

  /** The store's commit-log fdatasync latencies, in seconds (live; read at scrape time). */
  get fsyncLatency(): Histogram {
    return this.store.fsyncLatency;
  }

  /**
   * Lag per (consumer group, topic) of every subscription group and every group with a live
   * member, from groupProgress (what the admin API shows per queue); topics without a config
   * (LMQs) and pairs past MAX_LABEL_SETS are summed as `_other`. Computed now: for scrapes.
   */
  groupLag(): GroupTopicLag[] {
    const names = new Set(this.groups.list().map((g) => g.groupName));
    for (const n of this.consumers.groupNames()) names.add(n);
    return lagByGroupAndTopic(this, names, (topic) => this.topics.get(topic) !== undefined);
  }

  /**
   * Re-reads what the engine caches of the store's metadata — subscription groups, the durable
   * topic filters, and which topic configs changed (announced to the NameServers) — after it was
   * changed underneath: on a replica, once its master's metadata was applied (HaReplica's
   * onMetaApplied; docs/ha-design.md decision 4). Coalesced: at most one reload runs at a time
   * and they start at least 100 ms apart; calls while one waits share it. Resolves once a reload
   * begun after the call finished; never rejects (a failure is logged).
   */
  reloadMetadata(): Promise<void> {
    if (this.reloadQueued) return this.reloadQueued;
    const queued = (async () => {
      // Not before `reloadQueued` is set below (an async function runs synchronously to its first await).
      await (this.reloadRunning ?? Promise.resolve());
      const wait = this.lastReloadAt + 100 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait).unref());
      // From here on, a new call queues the next reload.
      this.reloadQueued = null;
      this.lastReloadAt = Date.now();
      const running = Promise.resolve().then(() => this.reloadNow());
      this.reloadRunning = running;
      await running;
      if (this.reloadRunning === running) this.reloadRunning = null;
    })();
    this.reloadQueued = queued;
    return queued;
  }

  private reloadNow(): void {
    if (this.closed) return;
    try {
      const groups = this.groups.reload();
      const topics = this.topics.reload();
      const filters = this.topicFilters.reload();
      if (groups.added + groups.changed + groups.removed + topics.length + filters.added + filters.changed + filters.removed > 0)
        this.log.info({ groups, topics: topics.length, filters }, "broker: reloaded metadata changed in the store (the master's, replicated)");
    } catch (err) {
      this.log.warn({ err: formatError(err) }, 'broker: reloading metadata from the store failed');
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.scanTimer) clearInterval(this.scanTimer);
    this.scanTimer = null;
    await Promise.all([this.schedule.stop(), this.timers.stop(), this.transactions.stop()]);
    // Last: what the services above wrote on their way out is still traced.
    await this.tracer.close();
    await this.groups.flush();
  }

  private announceMembership(group: string): void {
    if (this.groups.get(group)?.notifyConsumerIdsChangedEnable === false) return;
    const g = this.consumers.get(group);
    if (!g) return;
    for (const c of g.connections.values()) c.channel.notifyConsumerIdsChanged?.(group);
  }
}
