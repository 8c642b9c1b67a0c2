import { ClientEmitter } from '../client/emitter.js';
import { sendHeartbeats, unregisterClient } from '../client/heartbeat.js';
import { ClientInstance } from '../client/instance.js';
import { getMaxOffset, getMinOffset, queryConsumerOffset, searchOffset, updateConsumerOffset } from '../client/offset-requests.js';
import type { ClientOptions } from '../client/options.js';
import { ClientError, ClientErrorCode } from '../errors.js';
import { type MessageQueue, queueKey } from '../message-queue.js';
import { heartbeatBody } from '../protocol/bodies.js';
import { PullSysFlag } from '../protocol/codes.js';
import { subscribeQueues } from '../route/topic-route.js';
import { type PullResult, pullMessage } from './pull-api.js';
import { type MessageSelector, buildSubscription } from './subscription.js';

export interface PullConsumerOptions extends ClientOptions {
  /** Consumer group (required). */
  group: string;
  /** Period of committing offsets set with updateOffset(). Default 5,000 ms. */
  persistOffsetMs?: number;
}

export interface PullOptions {
  /** Let the broker hold the request this long when nothing is there (long poll). Default 0. */
  suspendMs?: number;
  /** Request timeout. Default suspendMs + requestTimeoutMs. */
  timeoutMs?: number;
}

type State = 'created' | 'running' | 'stopped';

/** A pull consumer: the application picks queues and offsets. Emits 'error' for background failures. */
export class PullConsumer extends ClientEmitter {
  readonly group: string;
  private readonly inst: ClientInstance;
  private state: State = 'created';
  private readonly pending = new Map<string, { queue: MessageQueue; offset: number }>();
  private readonly topics = new Set<string>();
  private readonly persistOffsetMs: number;
  private readonly heartbeatMs: number;

  constructor(opts: PullConsumerOptions) {
    super();
    if (!opts || typeof opts.group !== 'string' || opts.group.length === 0)
      throw new ClientError(ClientErrorCode.ILLEGAL_ARGUMENT, 'PullConsumer needs a group');
    this.group = opts.group;
    this.inst = new ClientInstance(opts);
    this.inst.onError = (err) => this.reportError(err, this.inst.logger);
    this.persistOffsetMs = opts.persistOffsetMs ?? 5000;
    this.heartbeatMs = opts.heartbeatMs ?? 30_000;
  }

  get clientId(): string {
    return this.inst.clientId;
  }

  async start(): Promise<void> {
    if (this.state !== 'created') throw new ClientError(ClientErrorCode.STATE, `consumer cannot start: it is ${this.state}`);
    this.state = 'running';
    this.inst.every(this.heartbeatMs, () => this.heartbeat());
    this.inst.every(this.persistOffsetMs, () => this.persist());
  }

  /** Readable queues of `topic` (fresh from the NameServer). */
  async fetchSubscribeQueues(topic: string): Promise<MessageQueue[]> {
    this.check();
    const { route } = await this.inst.getRoute(topic, { force: true });
    if (!this.topics.has(topic)) {
      this.topics.add(topic);
      void this.heartbeat();
    }
    return subscribeQueues(topic, route);
  }

  /** One PULL_MESSAGE from `offset`; messages not matching `expression` (tags, or an SQL92 selector) are filtered out. */
  async pull(queue: MessageQueue, expression: MessageSelector, offset: number, maxNums: number, opts: PullOptions = {}): Promise<PullResult> {
    this.check();
    const suspendMs = opts.suspendMs ?? 0;
    const sub = buildSubscription(queue.topic, expression);
    const addr = await this.inst.requireMasterAddr(queue.brokerName, queue.topic);
    return pullMessage(
      this.inst,
      addr,
      {
        consumerGroup: this.group,
        queue,
        queueOffset: offset,
        maxMsgNums: maxNums,
        sysFlag: PullSysFlag.SUBSCRIPTION | (suspendMs > 0 ? PullSysFlag.SUSPEND : 0),
        commitOffset: 0,
        suspendTimeoutMillis: suspendMs,
        subscription: sub.expression,
        expressionType: sub.expressionType,
        subVersion: sub.subVersion,
      },
      sub,
      opts.timeoutMs ?? suspendMs + this.inst.requestTimeoutMs,
    );
  }

  /** Remembers an offset; it is committed within persistOffsetMs and on shutdown. */
  updateOffset(queue: MessageQueue, offset: number): void {
    this.check();
    this.pending.set(queueKey(queue), { queue, offset });
  }

  /** Commits an offset to the broker now (UPDATE_CONSUMER_OFFSET). */
  async commitOffset(queue: MessageQueue, offset: number): Promise<void> {
    this.check();
    this.pending.delete(queueKey(queue));
    await updateConsumerOffset(this.inst, this.group, queue, offset);
  }

  /** The group's committed offset of `queue`, or −1 when none is stored. */
  async fetchConsumeOffset(queue: MessageQueue): Promise<number> {
    this.check();
    return (await queryConsumerOffset(this.inst, this.group, queue)) ?? -1;
  }

  async minOffset(queue: MessageQueue): Promise<number> {
    this.check();
    return getMinOffset(this.inst, queue);
  }

  async maxOffset(queue: MessageQueue): Promise<number> {
    this.check();
    return getMaxOffset(this.inst, queue);
  }

  /** First offset stored at or after `timestamp` (epoch ms). */
  async searchOffset(queue: MessageQueue, timestamp: number): Promise<number> {
    this.check();
    return searchOffset(this.inst, queue, timestamp);
  }

  /** Commits pending offsets, unregisters and closes connections. */
  async shutdown(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    if (wasRunning) {
      await this.persist().catch((err) => this.reportError(err, this.inst.logger));
      await unregisterClient(this.inst, this.inst.brokerAddrs({ mastersOnly: false }), { consumerGroup: this.group });
    }
    this.inst.close();
  }

  private async persist(): Promise<void> {
    const batch = [...this.pending.entries()];
    const errors: unknown[] = [];
    await Promise.all(
      batch.map(async ([key, e]) => {
        try {
          await updateConsumerOffset(this.inst, this.group, e.queue, e.offset);
          if (this.pending.get(key) === e) this.pending.delete(key);
        } catch (err) {
          errors.push(err);
        }
      }),
    );
    if (errors.length > 0) throw errors[0];
  }

  private async heartbeat(): Promise<void> {
    if (this.state !== 'running') return;
    const body = heartbeatBody(
      this.inst.clientId,
      [],
      [
        {
          groupName: this.group,
          consumeType: 'CONSUME_ACTIVELY',
          messageModel: 'CLUSTERING',
          consumeFromWhere: 'LAST',
          subscriptionDataSet: [...this.topics].map((t) => ({
            classFilterMode: false,
            topic: t,
            subString: '*',
            tagsSet: [],
            codeSet: [],
            subVersion: Date.now(),
            expressionType: 'TAG',
          })),
        },
      ],
    );
    await sendHeartbeats(this.inst, this.inst.brokerAddrs({ mastersOnly: false }), body);
  }

  private check(): void {
    if (this.state !== 'running') throw new ClientError(ClientErrorCode.STATE, `pull consumer is ${this.state === 'created' ? 'not started' : 'shut down'}`);
  }
}
