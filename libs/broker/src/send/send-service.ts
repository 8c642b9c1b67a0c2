import {
  FrozenProperties,
  PropertyKey,
  isLmqName,
  isWriteable,
  DEFAULT_TOPIC,
  DLQ_GROUP_TOPIC_PREFIX,
  RETRY_GROUP_TOPIC_PREFIX,
  isNotSendableTopic,
  isDlqTopic,
  isRetryTopic,
  UniqueIdGenerator,
} from '@apogee/message';
import {
  MessageTooLargeError,
  IllegalPutError,
  StoreUnavailableError,
  type MessageStore,
  type PutMessage,
  type PutResult,
  type TopicConfig,
} from '@apogee/store';
import type { BrokerConfig } from '../config.js';
import { BrokerError } from '../errors.js';
import type { GroupManager } from '../group/group-manager.js';
import type { BrokerMetrics } from '../metrics.js';
import { checkTopicName, type TopicManager } from '../topic/topic-manager.js';
import { applyDelayLevel } from './delay-routing.js';
import { applyTimer, dropTimerProperties, hasTimerProperty, timerDeliverMs } from '../timer/timer-routing.js';
import type { FlowControl } from './flow-control.js';
import type { ReplicationGate } from './replication-gate.js';
import type { SendBatchRequest, SendRequest, SendResult } from './send-types.js';
import type { AppendedMessage, LiveFeed } from '../live/live-feed.js';
import type { TopicSpaceRouting } from '../topic-space/routing.js';
import { applyHalfRouting, isHalfSend } from '../transaction/half-message.js';

/**
 * The send path (RocketMQ SendMessageProcessor): name and permission checks, topic
 * auto-creation, queue choice, retry-topic overflow into the DLQ, delay levels, the topic
 * space's LMQ dispatch, flow control, then one store put — and, for requests marked `live`, the
 * offer of the appended message to caught-up readers from memory.
 */
export class SendService {
  private roundRobin = 0;
  /** Told of every half message once stored (the transaction service remembers recent ones). */
  onHalfStored: ((put: PutMessage, stored: PutResult) => void) | undefined;
  /** Synchronous replication: what sends wait for after the local store (null: nothing). */
  replication: ReplicationGate | null = null;
  /** UNIQ_KEYs for half messages whose client sent none. */
  private readonly uniqKeys = new UniqueIdGenerator();

  /**
   * Properties to send many messages with (see FrozenProperties): `props` with what the send path
   * stamps on every message (CLUSTER) added, frozen. The caller must keep them free of what the
   * send path would change (DELAY, retry routing) — it throws on a frozen map.
   */
  freeze(props: Map<string, string>): FrozenProperties {
    props.set(PropertyKey.CLUSTER, this.clusterName);
    return new FrozenProperties(props);
  }

  constructor(
    private readonly store: MessageStore,
    private readonly topics: TopicManager,
    private readonly groups: GroupManager,
    private readonly cfg: BrokerConfig,
    private readonly delayLevels: readonly number[],
    private readonly flow: FlowControl,
    private readonly metrics: BrokerMetrics,
    private readonly clusterName: string,
    private readonly topicSpace: TopicSpaceRouting,
    private readonly live: LiveFeed,
  ) {}

  /**
   * Sends one message. Written without async/await: when the topic exists (the common case) the
   * checks, routing and store put run in this call and the only promise is the store's.
   */
  send(req: SendRequest): Promise<SendResult> {
    this.metrics.sendRequests++;
    const started = performance.now();
    let target: SendTarget | null;
    try {
      target = this.existingTarget(req);
    } catch (err) {
      return Promise.reject(err);
    }
    if (target === null) return this.resolveTarget(req).then((t) => this.sendTo(req, t, started));
    return this.sendTo(req, target, started);
  }

  /**
   * Sends one message to an existing normal topic and returns once it is appended — no promise;
   * it is written shortly after (see MessageStore.putUnconfirmed; `store.whenConfirmed` waits
   * for that). Null when the topic has to be resolved first (unknown, retry or DLQ topic): use
   * send. Throws BrokerError on a refusal. Flow control refuses while store writes are stalled,
   * but these writes take no in-flight ticket.
   */
  sendUnconfirmed(req: SendRequest): UnconfirmedSend | null {
    this.metrics.sendRequests++;
    const target = this.existingTarget(req);
    if (target === null || isHalfSend(req.sysFlag ?? 0, req.properties)) {
      this.metrics.sendRequests--; // counted again by send
      return null;
    }
    const props = req.properties;
    const lmqs = this.topicSpace.route(props) ?? req.lmqs;
    const deferred = this.route(req, target, props);
    this.flow.check();
    const put = putMessageOf(req, target);
    let r: PutResult;
    try {
      r = this.store.putUnconfirmed(put);
    } catch (err) {
      this.metrics.sendFailures++;
      throw this.mapStoreError(err);
    }
    this.metrics.sendMessages++;
    this.metrics.sendBytes += put.body.length;
    const counters = this.metrics.topics.of(req.topic);
    counters.messagesIn++;
    counters.bytesIn += put.body.length;
    if (req.live === true && !deferred && this.live.anyLive) this.offerLive(put, r, lmqs);
    return { topic: target.topic, queueId: target.queueId, result: r };
  }

  private sendTo(req: SendRequest, target: SendTarget, started: number): Promise<SendResult> {
    if (isHalfSend(req.sysFlag ?? 0, req.properties)) return this.sendHalf(req, target, started);
    const props = req.properties;
    let lmqs: readonly string[] | undefined;
    let deferred: boolean;
    try {
      if (!isRetryTopic(target.topic) && !isDlqTopic(target.topic)) lmqs = this.topicSpace.route(props) ?? req.lmqs;
      deferred = this.route(req, target, props);
    } catch (err) {
      return Promise.reject(err);
    }
    const put = putMessageOf(req, target);
    let onAppended = req.onAppended;
    if (req.live === true && !deferred && this.live.anyLive) {
      const then = onAppended;
      onAppended = (r) => {
        this.offerLive(put, r, lmqs);
        then?.(r);
      };
    }
    return this.putOne(put, onAppended).then((r) => {
      this.confirmed(req.topic, 1, put.body.length, started);
      return this.withCopies(
        {
          topic: target.topic,
          queueId: target.queueId,
          queueOffset: r.queueOffset,
          msgIds: [r.msgId],
          commitLogOffsets: [r.commitLogOffset],
          uniqKeys: [props.get(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX)],
        },
        r.commitLogOffset + r.size,
      );
    });
  }

  /**
   * Counts a confirmed send in its topic's series (one Map lookup per request, whatever it
   * carried) and its latency since `started` (performance.now() at its arrival).
   */
  private confirmed(topic: string, messages: number, bytes: number, started: number): void {
    const counters = this.metrics.topics.of(topic);
    counters.messagesIn += messages;
    counters.bytesIn += bytes;
    this.metrics.sendLatency.observe((performance.now() - started) / 1000);
  }

  /**
   * A transactional half message: stored in the half queue instead (see applyHalfRouting), never
   * offered to live readers. The result names the real queue and the half-queue offset, as
   * RocketMQ's send response for a half message does.
   */
  private sendHalf(req: SendRequest, target: SendTarget, started: number): Promise<SendResult> {
    const props = req.properties;
    const realQueueId = target.queueId;
    let put: PutMessage;
    try {
      // Timer properties apply at the commit (putCommitted); a bad one is refused now, at the send.
      if (hasTimerProperty(props)) timerDeliverMs(props, Date.now(), this.cfg);
      const sysFlag = applyHalfRouting(target, props, req.sysFlag ?? 0, req.producerGroup, () => this.uniqKeys.next());
      props.set(PropertyKey.CLUSTER, this.clusterName);
      put = putMessageOf(req, target);
      put.sysFlag = sysFlag;
    } catch (err) {
      return Promise.reject(err);
    }
    return this.putOne(put).then((r) => {
      this.onHalfStored?.(put, r);
      this.confirmed(req.topic, 1, put.body.length, started);
      return this.withCopies(
        {
          topic: target.topic,
          queueId: realQueueId,
          queueOffset: r.queueOffset,
          msgIds: [r.msgId],
          commitLogOffsets: [r.commitLogOffset],
          uniqKeys: [props.get(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX)],
        },
        r.commitLogOffset + r.size,
      );
    });
  }

  /**
   * Offers a just-appended message to the live readers of its queue and of each of its LMQs (in
   * dispatch order, `lmqs` being the names behind `r.lmqOffsets`): one message object for all of
   * them, its `offset` set per queue.
   */
  private offerLive(put: PutMessage, r: PutResult, lmqs: readonly string[] | undefined): void {
    const live = this.live;
    // The message object is built only once some queue of it has a live reader.
    let m: AppendedMessage | null = null;
    let delivered = 0;
    const own = live.liveReaders(put.topic, put.queueId);
    if (own !== undefined) {
      m = new Appended(put, r);
      delivered += own.offer(m);
    }
    if (lmqs !== undefined) {
      for (let i = 0; i < lmqs.length; i++) {
        const offset = r.lmqOffsets[i];
        if (offset === undefined) continue;
        const readers = live.liveReaders(lmqs[i]!, 0);
        if (readers === undefined) continue;
        m ??= new Appended(put, r);
        m.offset = offset;
        delivered += readers.offer(m);
      }
    }
    this.metrics.liveDeliveries += delivered;
  }

  /**
   * Stores a committed transactional message (END_TRANSACTION) as a send to its real topic would
   * be routed, now, at the commit: the topic space's LMQ fan-out (its MQTT and AMQP subscribers as
   * they are now) and timer properties apply. Delay levels were dropped with the half; retry
   * routing and the send checks do not apply to a message the half already passed.
   */
  putCommitted(put: PutMessage & { properties: Map<string, string> }): Promise<PutResult> {
    const props = put.properties;
    const target = { topic: put.topic, queueId: put.queueId };
    try {
      this.topicSpace.route(props);
      if (hasTimerProperty(props) && applyTimer(target, props, Date.now(), this.cfg)) this.metrics.timersScheduled++;
    } catch (err) {
      return Promise.reject(err);
    }
    return this.putOne(target.topic === put.topic ? put : { ...put, topic: target.topic, queueId: target.queueId });
  }

  /** Stores a batch contiguously in one queue (consecutive offsets). Delay and retry topics are not allowed. */
  async sendBatch(req: SendBatchRequest): Promise<SendResult> {
    this.metrics.sendRequests++;
    const started = performance.now();
    if (req.items.length === 0) throw new BrokerError('MESSAGE_ILLEGAL', 'the batch holds no message');
    if (isRetryTopic(req.topic)) throw new BrokerError('MESSAGE_ILLEGAL', 'batches cannot be sent to retry topics');
    if (isHalfSend(req.sysFlag ?? 0, req.properties)) throw new BrokerError('MESSAGE_ILLEGAL', 'transactional messages cannot be sent in a batch');
    const target = await this.resolveTarget({ ...req, body: Buffer.alloc(0) });
    const puts: PutMessage[] = req.items.map((item) => {
      const props = new Map(req.properties);
      for (const [k, v] of item.properties) props.set(k, v);
      // A DELAY in the batch header (RocketMQ checks MessageExtBatch's) or in any item is refused.
      if (Number(props.get(PropertyKey.DELAY_TIME_LEVEL) ?? 0) > 0 || hasTimerProperty(props)) {
        throw new BrokerError('MESSAGE_ILLEGAL', 'delayed messages cannot be sent in a batch');
      }
      props.set(PropertyKey.CLUSTER, this.clusterName);
      const p: PutMessage = {
        topic: target.topic,
        queueId: target.queueId,
        body: item.body,
        flag: item.flag,
        properties: props,
        sysFlag: req.sysFlag ?? 0,
        bornTimestamp: req.bornTimestamp ?? Date.now(),
        reconsumeTimes: req.reconsumeTimes ?? 0,
      };
      if (req.bornHost) p.bornHost = req.bornHost;
      return p;
    });
    const results = await this.put(puts);
    let bytes = 0;
    for (const item of req.items) bytes += item.body.length;
    this.confirmed(req.topic, puts.length, bytes, started);
    const last = results[results.length - 1]!;
    return this.withCopies(
      {
        topic: target.topic,
        queueId: target.queueId,
        queueOffset: results[0]!.queueOffset,
        msgIds: results.map((r) => r.msgId),
        commitLogOffsets: results.map((r) => r.commitLogOffset),
        uniqKeys: puts.map((p) => (p.properties as Map<string, string>).get(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX)),
      },
      last.commitLogOffset + last.size,
    );
  }

  /**
   * The send's result once the replicas hold it (synchronous replication): as it is when there
   * is nothing to wait for, else with RocketMQ's status when they did not in time or too few are
   * in sync — the message is stored here either way, as Apache answers it.
   */
  private withCopies(result: SendResult, end: number): SendResult | Promise<SendResult> {
    const wait = this.replication?.awaitCopies(end);
    if (!wait) return result;
    return wait.then((outcome) => {
      if (outcome !== 'SEND_OK') {
        result.status = outcome;
        this.metrics.replicationShortfalls[outcome]++;
      }
      return result;
    });
  }

  /** Resolves once a message from sendUnconfirmed is confirmed here and, under synchronous replication, held by the replicas. */
  whenReplicated(appended: PutResult): Promise<void> {
    const stored = this.store.whenConfirmed(appended);
    const gate = this.replication;
    if (!gate) return stored;
    return stored.then(() => {
      const wait = gate.awaitCopies(appended.commitLogOffset + appended.size);
      if (!wait) return;
      return wait.then((outcome) => {
        if (outcome === 'SEND_OK') return;
        this.metrics.replicationShortfalls[outcome]++;
        throw new BrokerError('SERVICE_NOT_AVAILABLE', `[${outcome}] the message is stored on this master but its replicas do not all hold it`);
      });
    });
  }

  /** Stores puts (already routed) under flow control, mapping store errors to broker errors. */
  async put(puts: PutMessage[]): Promise<PutResult[]> {
    if (puts.length === 1) return [await this.putOne(puts[0]!)];
    const ticket = this.flow.admit();
    try {
      const results = await this.store.putBatch(puts);
      this.metrics.sendMessages += puts.length;
      for (const p of puts) this.metrics.sendBytes += p.body.length;
      return results;
    } catch (err) {
      this.metrics.sendFailures++;
      throw this.mapStoreError(err);
    } finally {
      this.flow.done(ticket);
    }
  }

  /** One put under flow control (the per-message path: no async frame, one promise). */
  private putOne(put: PutMessage, onAppended?: (appended: PutResult) => void): Promise<PutResult> {
    let ticket: number;
    try {
      ticket = this.flow.admit();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.store.put(put, onAppended).then(
      (r) => {
        this.flow.done(ticket);
        this.metrics.sendMessages++;
        this.metrics.sendBytes += put.body.length;
        return r;
      },
      (err: unknown) => {
        this.flow.done(ticket);
        this.metrics.sendFailures++;
        throw this.mapStoreError(err);
      },
    );
  }

  /** The checks of RocketMQ's msgCheck that need no topic config. */
  private checkRequest(req: SendRequest): void {
    const topic = req.topic;
    checkTopicName(topic);
    if (isLmqName(topic))
      throw new BrokerError('NO_PERMISSION', `${topic} is an LMQ; LMQs are written through INNER_MULTI_DISPATCH of a message to a normal topic`);
    if (isNotSendableTopic(topic)) throw new BrokerError('NO_PERMISSION', `sending to the system topic ${topic} is forbidden`);
    if (this.cfg.rejectTransactionMessage && isHalfSend(req.sysFlag ?? 0, req.properties)) {
      // RocketMQ's remark for rejectTransactionMessage=true.
      throw new BrokerError('NO_PERMISSION', `the broker[${this.cfg.brokerName}] sending transaction message is forbidden`);
    }
  }

  /** The target when the (normal) topic exists already — no await; null when it must be resolved asynchronously. */
  private existingTarget(req: SendRequest): SendTarget | null {
    this.checkRequest(req);
    if (isRetryTopic(req.topic) || isDlqTopic(req.topic)) return null;
    const config = this.topics.get(req.topic);
    return config ? this.pickQueue(req, config) : null;
  }

  /** Topic and queue a request goes to, with the topic checks of RocketMQ's msgCheck. */
  private async resolveTarget(req: SendRequest): Promise<SendTarget> {
    this.checkRequest(req);
    const topic = req.topic;
    let config: TopicConfig;
    if (isRetryTopic(topic)) {
      const group = topic.slice(RETRY_GROUP_TOPIC_PREFIX.length);
      this.groups.getOrCreate(group);
      config = await this.topics.ensureRetryTopic(group);
    } else if (isDlqTopic(topic)) {
      config = await this.topics.ensureDlqTopic(topic.slice(DLQ_GROUP_TOPIC_PREFIX.length));
    } else {
      config = await this.topics.getOrAutoCreate(topic, req.defaultTopic || DEFAULT_TOPIC, req.defaultTopicQueueNums ?? this.cfg.defaultTopicQueueNums);
    }
    return this.pickQueue(req, config);
  }

  private pickQueue(req: SendRequest, config: TopicConfig): SendTarget {
    const topic = req.topic;
    if (!isWriteable(config.perm)) throw new BrokerError('NO_PERMISSION', `topic ${topic} is not writeable (perm ${config.perm})`);
    if (config.writeQueueNums <= 0) throw new BrokerError('NO_PERMISSION', `topic ${topic} has no writeable queue`);
    let queueId = req.queueId;
    if (!Number.isInteger(queueId) || queueId < 0) queueId = this.roundRobin++ % config.writeQueueNums;
    else if (queueId >= config.writeQueueNums) {
      throw new BrokerError('INVALID_PARAMETER', `queueId ${queueId} is out of range: topic ${topic} has ${config.writeQueueNums} writeable queues`);
    }
    return { topic, queueId, config };
  }

  /**
   * Retry topics past max reconsume times go to the DLQ; DELAY levels go to the schedule topic,
   * timer messages not yet due to the timer topic; every message gets CLUSTER. Mutates `target`
   * and `props`. True when the message was deferred (no reader may see it yet).
   */
  private route(req: SendRequest, target: { topic: string; queueId: number }, props: Map<string, string>): boolean {
    props.set(PropertyKey.CLUSTER, this.clusterName);
    if (isRetryTopic(target.topic)) {
      const group = target.topic.slice(RETRY_GROUP_TOPIC_PREFIX.length);
      const max = req.maxReconsumeTimes ?? this.groups.getOrCreate(group).retryMaxTimes;
      if ((req.reconsumeTimes ?? 0) > max) {
        target.topic = DLQ_GROUP_TOPIC_PREFIX + group;
        target.queueId = 0;
        props.delete(PropertyKey.DELAY_TIME_LEVEL);
        this.metrics.deadLettered++;
        // The DLQ topic must exist to be routable for inspection.
        void this.topics.ensureDlqTopic(group).catch(() => {});
        return false;
      }
    }
    const timed = hasTimerProperty(props);
    if (applyDelayLevel(target, props, Number(props.get(PropertyKey.DELAY_TIME_LEVEL) ?? 0), this.delayLevels.length)) {
      // A delay level wins over timer properties (RocketMQ HookUtils.handleScheduleMessage).
      if (timed) dropTimerProperties(props);
      this.metrics.delayedScheduled++;
      return true;
    }
    if (timed && applyTimer(target, props, Date.now(), this.cfg)) {
      this.metrics.timersScheduled++;
      return true;
    }
    return false;
  }

  private mapStoreError(err: unknown): unknown {
    if (err instanceof BrokerError) return err;
    if (err instanceof MessageTooLargeError) return new BrokerError('MESSAGE_ILLEGAL', err.message, { cause: err });
    if (err instanceof IllegalPutError) return new BrokerError('MESSAGE_ILLEGAL', err.message, { cause: err });
    if (err instanceof StoreUnavailableError) {
      const reason = err.reason === 'CLOSED' ? 'STORE_CLOSED' : err.reason;
      this.metrics.refusals[reason]++;
      const kind = err.reason === 'WRITE_BACKLOG' ? 'SYSTEM_BUSY' : 'SERVICE_NOT_AVAILABLE';
      return new BrokerError(kind, `[${reason}] ${err.message}`, { cause: err });
    }
    return err;
  }
}

/** The store put for a routed request. */
function putMessageOf(req: SendRequest, target: { topic: string; queueId: number }): PutMessage {
  const put: PutMessage = {
    topic: target.topic,
    queueId: target.queueId,
    body: req.body,
    flag: req.flag ?? 0,
    properties: req.properties,
    sysFlag: req.sysFlag ?? 0,
    bornTimestamp: req.bornTimestamp ?? Date.now(),
    reconsumeTimes: req.reconsumeTimes ?? 0,
  };
  if (req.bornHost) put.bornHost = req.bornHost;
  return put;
}

/**
 * A just-appended message as the live feed offers it (`offset` is set per queue offered). Its
 * offset message id is built only if a reader asks for it (MQTT readers never do).
 */
class Appended implements AppendedMessage {
  readonly topic: string;
  readonly queueId: number;
  readonly queueOffset: number;
  readonly commitLogOffset: number;
  readonly properties: ReadonlyMap<string, string>;
  readonly body: Buffer;
  readonly sysFlag: number;
  readonly bornTimestamp: number;
  offset: number;

  constructor(
    put: PutMessage,
    private readonly result: PutResult,
  ) {
    this.topic = put.topic;
    this.queueId = put.queueId;
    this.queueOffset = result.queueOffset;
    this.commitLogOffset = result.commitLogOffset;
    this.properties = put.properties as ReadonlyMap<string, string>;
    this.body = put.body;
    this.sysFlag = put.sysFlag ?? 0;
    this.bornTimestamp = put.bornTimestamp ?? 0;
    this.offset = result.queueOffset;
  }

  get msgId(): string {
    return this.result.msgId;
  }
}

/** Where sendUnconfirmed put a message (routing may have changed topic and queue: delay levels). */
export interface UnconfirmedSend {
  topic: string;
  queueId: number;
  result: PutResult;
}

/** Where a send goes; `route` may change topic and queue (delay, DLQ). */
interface SendTarget {
  topic: string;
  queueId: number;
  config: TopicConfig;
}
