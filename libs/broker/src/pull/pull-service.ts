import { isReadable, RETRY_GROUP_TOPIC_PREFIX, isRetryTopic } from '@apogee/message';
import type { GetStatus, MessageStore, MessageFilter } from '@apogee/store';
import type { ConsumerRegistry } from '../client/consumer-registry.js';
import type { BrokerConfig } from '../config.js';
import { BrokerError } from '../errors.js';
import { type Subscription, parseSubscription, tagFilterOf } from '../filter/tag-filter.js';
import type { GroupManager } from '../group/group-manager.js';
import type { BrokerMetrics } from '../metrics.js';
import type { TopicManager } from '../topic/topic-manager.js';
import { waitForArrival } from './arrival-waiter.js';
import { PullFlag, type PullKind, type PullOutcome, type PullRequest } from './pull-types.js';

/** Longest a pull is ever held, whatever the client asks. */
const MAX_HOLD_MS = 60_000;

const KIND_OF: Record<GetStatus, (offset: number) => PullKind> = {
  FOUND: () => 'FOUND',
  NO_MATCHED_MESSAGE: () => 'RETRY_IMMEDIATELY',
  NO_MESSAGE_IN_QUEUE: (offset) => (offset === 0 ? 'NOT_FOUND' : 'OFFSET_MOVED'),
  OFFSET_TOO_SMALL: () => 'OFFSET_MOVED',
  OFFSET_OVERFLOW_ONE: () => 'NOT_FOUND',
  OFFSET_OVERFLOW_BADLY: () => 'OFFSET_MOVED',
  OFFSET_FOUND_NULL: () => 'NOT_FOUND',
};

/** Expressions compiled for pulls that carry their subscription, kept per (type, text). */
const PARSED_CACHE_SIZE = 1024;

/**
 * Parses the subscription a pull carries, reusing the last compile of the same expression: a
 * consumer that posts its subscription with every pull must not pay an SQL92 compile per pull.
 * Bounded: past PARSED_CACHE_SIZE expressions the oldest is dropped, and long ones are not kept.
 */
function parseSubscriptionCached(cache: Map<string, Subscription>, topic: string, expression: string | undefined, type: string | undefined): Subscription {
  const key = `${(type || 'TAG').toUpperCase()}\u0000${topic}\u0000${expression ?? ''}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const sub = parseSubscription(topic, expression, type);
  if (key.length > 4096) return sub; // a long expression is compiled each time rather than held
  if (cache.size >= PARSED_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, sub);
  return sub;
}

/**
 * The pull path (RocketMQ PullMessageProcessor + PullRequestHoldService): checks, tag filter,
 * offset commit piggy-backed on the pull, and long polling woken by the store's arrival
 * notifications — a held pull costs a listener and a timer, never a poll loop.
 */
export class PullService {
  private readonly parsed = new Map<string, Subscription>();

  constructor(
    private readonly store: MessageStore,
    private readonly topics: TopicManager,
    private readonly groups: GroupManager,
    private readonly consumers: ConsumerRegistry,
    private readonly cfg: BrokerConfig,
    private readonly metrics: BrokerMetrics,
  ) {}

  /**
   * Serves one pull. Its latency (BrokerMetrics.pullLatency) is the engine's time on it with the
   * long-poll hold left out: checks and the first read, plus the second read of a held pull — what
   * a slow disk or a hot index makes slow, not how long a caught-up consumer waited for messages.
   */
  async pull(req: PullRequest, signal?: AbortSignal): Promise<PullOutcome> {
    this.metrics.pullRequests++;
    const started = performance.now();
    // A new group's retry topic may be pulled before its first heartbeat created it.
    if (isRetryTopic(req.topic) && !this.topics.get(req.topic)) await this.topics.ensureRetryTopic(req.topic.slice(RETRY_GROUP_TOPIC_PREFIX.length));
    const filter = this.check(req);
    if ((req.sysFlag & PullFlag.COMMIT_OFFSET) !== 0 && req.commitOffset !== undefined && req.commitOffset >= 0) {
      void this.store.commitOffset(req.group, req.topic, req.queueId, req.commitOffset).catch(() => {});
    }
    const first = await this.read(req, filter);
    const hold = Math.min(MAX_HOLD_MS, this.cfg.longPollingEnable ? req.suspendTimeoutMs : this.cfg.shortPollingTimeMills);
    if (
      first.kind !== 'NOT_FOUND' ||
      first.storeStatus === 'OFFSET_FOUND_NULL' ||
      (req.sysFlag & PullFlag.SUSPEND) === 0 ||
      !(hold > 0) ||
      signal?.aborted === true
    ) {
      this.metrics.pullLatency.observe((performance.now() - started) / 1000);
      return first;
    }
    const served = performance.now() - started;
    this.metrics.pullHeld++;
    this.metrics.pullsWaiting++;
    try {
      await waitForArrival(this.store, req.topic, req.queueId, req.offset, hold, signal);
    } finally {
      this.metrics.pullsWaiting--;
    }
    const woken = performance.now();
    const second = await this.read(req, filter);
    this.metrics.pullLatency.observe((served + performance.now() - woken) / 1000);
    return second;
  }

  /** Validates the request; returns the filter to apply. */
  private check(req: PullRequest): MessageFilter | undefined {
    const group = this.groups.getOrCreate(req.group);
    if (!group.consumeEnable) throw new BrokerError('NO_PERMISSION', `consumer group ${req.group} is disabled (consumeEnable=false)`);
    const topic = this.topics.get(req.topic);
    if (!topic) throw new BrokerError('TOPIC_NOT_EXIST', `topic ${req.topic} does not exist`);
    if (!isReadable(topic.perm)) throw new BrokerError('NO_PERMISSION', `topic ${req.topic} is not readable (perm ${topic.perm})`);
    if (!Number.isInteger(req.queueId) || req.queueId < 0 || req.queueId >= topic.readQueueNums) {
      throw new BrokerError('INVALID_PARAMETER', `queueId ${req.queueId} is out of range: topic ${req.topic} has ${topic.readQueueNums} readable queues`);
    }
    if (!Number.isSafeInteger(req.offset) || req.offset < 0)
      throw new BrokerError('INVALID_PARAMETER', `queueOffset ${req.offset} is not a non-negative integer`);
    if ((req.sysFlag & PullFlag.SUBSCRIPTION) !== 0) {
      return this.filterOf(parseSubscriptionCached(this.parsed, req.topic, req.subscription, req.expressionType));
    }
    const sub = this.consumers.findSubscription(req.group, req.topic);
    if (!sub)
      throw new BrokerError(
        'SUBSCRIPTION_NOT_EXIST',
        `consumer group ${req.group} has no live subscription to ${req.topic}; send a heartbeat first or pull with the SUBSCRIPTION flag`,
      );
    if (sub.parseError) throw new BrokerError('SUBSCRIPTION_PARSE_FAILED', sub.parseError);
    return this.filterOf(sub);
  }

  /**
   * The store filter of a subscription. SQL92 needs enablePropertyFilter (RocketMQ's remark when
   * off), and is not applied to retry topics (RocketMQ's filterSupportRetry=false: a message
   * that is retried was matched when first delivered).
   */
  private filterOf(sub: Subscription): MessageFilter | undefined {
    if (sub.expressionType === 'SQL92') {
      if (!this.cfg.enablePropertyFilter) throw new BrokerError('SYSTEM_ERROR', 'The broker does not support consumer to filter message by SQL92');
      if (isRetryTopic(sub.topic)) return undefined;
    }
    return tagFilterOf(sub);
  }

  private async read(req: PullRequest, filter: MessageFilter | undefined): Promise<PullOutcome> {
    const max = Math.max(1, Math.min(req.maxMsgNums > 0 ? req.maxMsgNums : this.cfg.maxPullMsgNums, this.cfg.maxPullMsgNums));
    const maxBytes = Math.min(req.maxMsgBytes && req.maxMsgBytes > 0 ? req.maxMsgBytes : this.cfg.maxPullBytes, this.cfg.maxPullBytes);
    const r = await this.store.get(req.topic, req.queueId, req.offset, max, filter ? { maxBytes, filter } : { maxBytes });
    const kind = KIND_OF[r.status](req.offset);
    if (kind === 'FOUND') {
      const n = r.messages.length;
      this.metrics.pullMessages += n;
      for (const m of r.messages) this.metrics.pullBytes += m.record.length;
      this.metrics.topics.of(req.topic).messagesOut += n;
      this.metrics.consumed.add(req.group, req.topic, n);
    }
    return { kind, storeStatus: r.status, nextBeginOffset: r.nextOffset, minOffset: r.minOffset, maxOffset: r.maxOffset, messages: r.messages };
  }
}
