import { retryTopicOf } from '@apogee/message';
import { RequestCode, optionalString } from '@apogee/remoting';
import { ClientEmitter } from '../client/emitter.js';
import { sendHeartbeats, unregisterClient } from '../client/heartbeat.js';
import { ClientInstance } from '../client/instance.js';
import type { ClientOptions } from '../client/options.js';
import { ClientError, ClientErrorCode } from '../errors.js';
import type { ReceivedMessage } from '../message.js';
import type { MessageQueue } from '../message-queue.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from '../producer/build-message.js';
import { SendCore } from '../producer/send-core.js';
import { type ConsumeFromWhere, type MessageModel, heartbeatBody } from '../protocol/bodies.js';
import { ConcurrentConsumeService } from './consume-concurrently.js';
import { OrderlyConsumeService } from './consume-orderly.js';
import { type ConsumeFunction, type MessageListener, normalizeListener } from './listener.js';
import { LocalOffsetStore, type OffsetStore, RemoteOffsetStore } from './offset-store.js';
import type { ProcessQueue } from './process-queue.js';
import { runPullLoop } from './pull-loop.js';
import { Rebalancer } from './rebalance.js';
import type { ConsumerRuntime, ResolvedPushOptions } from './runtime.js';
import { type MessageSelector, type Subscription, buildSubscription, subscriptionData } from './subscription.js';
import { ConsumerTrace } from '../trace/consumer-trace.js';
import { type TraceOption, TraceDispatcher, traceTopicOf } from '../trace/trace-dispatcher.js';

export interface PushConsumerOptions extends ClientOptions {
  /** Consumer group (required). */
  group: string;
  /** CLUSTERING (default): the group shares the queues. BROADCASTING: every consumer reads every queue. */
  messageModel?: MessageModel;
  /** Where a queue without a stored offset starts. Default LAST. */
  consumeFromWhere?: ConsumeFromWhere;
  /** Start time for consumeFromWhere TIMESTAMP (epoch ms). Default: 30 minutes ago. */
  consumeTimestamp?: number;
  /** After this many redeliveries a message goes to `%DLQ%<group>`. Default 16. */
  maxReconsumeTimes?: number;
  /** Messages asked for per pull. Default 32. */
  pullBatchSize?: number;
  /** Messages per listener call. Default 1. */
  consumeBatchSize?: number;
  /** Concurrent listener calls (concurrent mode). Default 20. */
  consumeConcurrency?: number;
  /** How long the broker holds a pull that finds nothing. Default 15,000 ms. */
  suspendMs?: number;
  /** Pause after a failed pull. Default 3,000 ms. */
  pullErrorBackoffMs?: number;
  /** Stop pulling a queue while this many of its messages are unconsumed. Default 1,000. */
  pullThresholdForQueue?: number;
  /** Orderly: pause before redelivering a failed batch. Default 1,000 ms. */
  orderlyRetryPauseMs?: number;
  /** Concurrent: pause before retrying locally a message that could not be sent back. Default 5,000 ms. */
  retryLocallyMs?: number;
  /** Rebalance period. Default 20,000 ms. */
  rebalanceMs?: number;
  /** Offset commit period. Default 5,000 ms. */
  persistOffsetMs?: number;
  /** Orderly: lock renewal period. Default 20,000 ms. */
  lockRenewMs?: number;
  /** Broadcasting: file the local offsets are kept in (else memory only). */
  offsetFile?: string;
  /** shutdown() waits at most this long for listener calls in flight. Default 10,000 ms. */
  shutdownTimeoutMs?: number;
  /** Write SubBefore / SubAfter trace records around each listener call (RocketMQ enableMsgTrace; docs/trace.md). Default off. */
  trace?: TraceOption;
}

type State = 'created' | 'running' | 'stopping' | 'stopped';

/** Events: 'error' (background failures, only if listened to) and 'rebalance' (topic, queues). */
export interface PushConsumerEvents {
  error: [err: unknown];
  rebalance: [topic: string, queues: MessageQueue[]];
}

/**
 * A push consumer: subscribe, then start(listener). Clustering consumers share queues through
 * rebalance and commit offsets to the broker; failed messages come back through
 * `%RETRY%<group>` (delivered under their original topic). Never throws from background work.
 */
export class PushConsumer extends ClientEmitter {
  readonly group: string;
  private readonly inst: ClientInstance;
  private readonly opts: ResolvedPushOptions;
  private readonly offsets: OffsetStore;
  private readonly sender: SendCore;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly timing: {
    rebalanceMs: number;
    persistOffsetMs: number;
    lockRenewMs: number;
    heartbeatMs: number;
    routeRefreshMs: number;
    shutdownTimeoutMs: number;
  };
  private state: State = 'created';
  private orderly = false;
  private rebalancer: Rebalancer | undefined;
  private concurrent: ConcurrentConsumeService | undefined;
  private orderlyService: OrderlyConsumeService | undefined;
  private readonly loops = new Set<Promise<void>>();
  private readonly trace: ConsumerTrace | undefined;

  constructor(opts: PushConsumerOptions) {
    super();
    if (!opts || typeof opts.group !== 'string' || opts.group.length === 0)
      throw new ClientError(ClientErrorCode.ILLEGAL_ARGUMENT, 'PushConsumer needs a group');
    this.group = opts.group;
    this.inst = new ClientInstance(opts);
    this.inst.onError = (err) => this.reportError(err, this.inst.logger);
    this.opts = {
      messageModel: opts.messageModel ?? 'CLUSTERING',
      consumeFromWhere: opts.consumeFromWhere ?? 'LAST',
      consumeTimestamp: opts.consumeTimestamp ?? Date.now() - 30 * 60_000,
      maxReconsumeTimes: opts.maxReconsumeTimes ?? 16,
      pullBatchSize: opts.pullBatchSize ?? 32,
      consumeBatchSize: opts.consumeBatchSize ?? 1,
      consumeConcurrency: opts.consumeConcurrency ?? 20,
      suspendMs: opts.suspendMs ?? 15_000,
      pullErrorBackoffMs: opts.pullErrorBackoffMs ?? 3000,
      pullThresholdForQueue: opts.pullThresholdForQueue ?? 1000,
      orderlyRetryPauseMs: opts.orderlyRetryPauseMs ?? 1000,
      retryLocallyMs: opts.retryLocallyMs ?? 5000,
    };
    this.timing = {
      rebalanceMs: opts.rebalanceMs ?? 20_000,
      persistOffsetMs: opts.persistOffsetMs ?? 5000,
      lockRenewMs: opts.lockRenewMs ?? 20_000,
      heartbeatMs: opts.heartbeatMs ?? 30_000,
      routeRefreshMs: opts.routeRefreshMs ?? 30_000,
      shutdownTimeoutMs: opts.shutdownTimeoutMs ?? 10_000,
    };
    this.offsets = this.opts.messageModel === 'CLUSTERING' ? new RemoteOffsetStore(this.inst, this.group) : new LocalOffsetStore(opts.offsetFile);
    this.sender = new SendCore(this.inst, {
      group: 'CLIENT_INNER_PRODUCER',
      sendTimeoutMs: this.inst.requestTimeoutMs,
      retryTimes: 2,
      compressOverBytes: 4096,
      maxMessageSize: DEFAULT_MAX_MESSAGE_SIZE,
    });
    const traceTopic = traceTopicOf(opts.trace);
    if (traceTopic !== undefined) this.trace = new ConsumerTrace(new TraceDispatcher(opts, this.group, traceTopic), this.group);
  }

  get clientId(): string {
    return this.inst.clientId;
  }

  /**
   * Subscribes to `topic` with a tag expression ("*", "a", "a || b") or an SQL92 selector
   * (`MessageSelector.bySql(…)`). May be called after start.
   */
  subscribe(topic: string, expression: MessageSelector = '*'): this {
    if (this.state === 'stopping' || this.state === 'stopped') throw new ClientError(ClientErrorCode.STATE, 'consumer is shut down');
    this.subscriptions.set(topic, buildSubscription(topic, expression));
    if (this.state === 'running') void this.refreshAll().catch((err) => this.fail(err));
    return this;
  }

  /** Queues currently assigned to this consumer. */
  assignedQueues(): MessageQueue[] {
    return [...(this.rebalancer?.table.values() ?? [])].map((pq) => pq.queue);
  }

  /** Starts consuming: routes, heartbeat, first rebalance, then the periodic tasks. */
  async start(listener: MessageListener): Promise<void> {
    if (this.state !== 'created') throw new ClientError(ClientErrorCode.STATE, `consumer cannot start: it is ${this.state}`);
    const { orderly, consume } = normalizeListener(listener);
    if (this.subscriptions.size === 0) throw new ClientError(ClientErrorCode.ILLEGAL_ARGUMENT, 'subscribe to at least one topic before start()');
    this.orderly = orderly;
    if (this.opts.messageModel === 'CLUSTERING') this.subscriptions.set(retryTopicOf(this.group), buildSubscription(retryTopicOf(this.group), '*'));
    this.state = 'running';
    const rt = this.runtime(this.trace ? this.trace.wrap(consume) : consume);
    this.concurrent = new ConcurrentConsumeService(rt);
    this.orderlyService = new OrderlyConsumeService(rt);
    this.rebalancer = new Rebalancer(rt, orderly, {
      added: (pq) => this.startPulling(rt, pq),
      removed: async (pq) => {
        if (this.orderly) await this.orderlyService!.stopped(pq);
      },
      allocated: (topic, queues) => this.emit('rebalance', topic, queues),
    });
    // NOTIFY_CONSUMER_IDS_CHANGED (40, oneway): the broker saw the group change; rebalance now.
    this.inst.remoting.register(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, (req) => {
      const group = optionalString(req.extFields, 'consumerGroup');
      if (this.state === 'running' && (group === undefined || group === this.group)) void this.rebalancer!.request();
      return null;
    });
    await this.offsets.load();
    await this.refreshAll();
    // Brokers that appear later (route refresh) hear from us at once, not 30 s later.
    this.inst.onNewBrokerAddr = () => {
      if (this.state === 'running') void this.heartbeat();
    };
    this.inst.every(this.timing.heartbeatMs, () => this.heartbeat());
    this.inst.every(this.timing.routeRefreshMs, () => this.inst.refreshRoutes());
    this.inst.every(this.timing.rebalanceMs, () => this.rebalancer!.request());
    this.inst.every(this.timing.persistOffsetMs, () => this.offsets.persist(this.assignedQueues()));
    if (orderly && this.opts.messageModel === 'CLUSTERING') {
      this.inst.every(this.timing.lockRenewMs, async () => {
        for (const pq of await this.rebalancer!.renewLocks()) if (pq.count > 0) this.orderlyService!.wake(pq);
      });
    }
  }

  /** Waits for listener calls in flight, commits offsets, releases locks, unregisters, closes sockets. */
  async shutdown(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    if (wasRunning) {
      this.concurrent?.clearWaiting();
      const drained = Promise.all([this.concurrent?.idle(), this.orderlyService?.idle()]);
      await Promise.race([drained, this.inst.sleep(this.timing.shutdownTimeoutMs)]);
      await this.rebalancer?.releaseAll();
      await this.offsets.persist().catch((err) => this.fail(err));
      await unregisterClient(this.inst, this.brokerAddrs(), { consumerGroup: this.group });
    }
    this.state = 'stopped';
    await this.trace?.shutdown();
    this.inst.close();
    await Promise.allSettled([...this.loops]);
  }

  private runtime(consume: ConsumeFunction): ConsumerRuntime {
    return {
      inst: this.inst,
      group: this.group,
      opts: this.opts,
      offsets: this.offsets,
      sender: this.sender,
      subscriptions: this.subscriptions,
      consume,
      running: () => this.state === 'running',
      reportError: (err) => this.fail(err),
    };
  }

  private startPulling(rt: ConsumerRuntime, pq: ProcessQueue): void {
    const deliver = (p: ProcessQueue, msgs: ReceivedMessage[]): void => {
      if (this.orderly) this.orderlyService!.wake(p);
      else this.concurrent!.submit(p, msgs);
    };
    // Orderly clustering pulls only while holding the broker lock (another client may own the queue).
    const mayPull = this.orderly && this.opts.messageModel === 'CLUSTERING' ? () => pq.lockValid() : () => true;
    const loop = runPullLoop(rt, pq, deliver, mayPull)
      .catch((err) => this.fail(err))
      .finally(() => this.loops.delete(loop));
    this.loops.add(loop);
  }

  /** Routes of every subscribed topic, heartbeat, then rebalance. */
  private async refreshAll(): Promise<void> {
    await Promise.all([...this.subscriptions.keys()].map((t) => this.inst.getRoute(t, { force: true }).catch((err) => this.fail(err))));
    await this.heartbeat();
    await this.rebalancer?.request();
  }

  private brokerAddrs(): string[] {
    return this.inst.brokerAddrs({ mastersOnly: false, topics: [...this.subscriptions.keys()] });
  }

  private async heartbeat(): Promise<void> {
    const body = heartbeatBody(
      this.inst.clientId,
      [],
      [
        {
          groupName: this.group,
          consumeType: 'CONSUME_PASSIVELY',
          messageModel: this.opts.messageModel,
          consumeFromWhere: this.opts.consumeFromWhere,
          subscriptionDataSet: [...this.subscriptions.values()].map(subscriptionData),
        },
      ],
    );
    await sendHeartbeats(this.inst, this.brokerAddrs(), body);
  }

  private fail(err: unknown): void {
    this.reportError(err, this.inst.logger);
  }
}
