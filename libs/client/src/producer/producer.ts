import { ClientEmitter } from '../client/emitter.js';
import { sendHeartbeats, unregisterClient } from '../client/heartbeat.js';
import { ClientInstance } from '../client/instance.js';
import type { ClientOptions } from '../client/options.js';
import { ClientError, ClientErrorCode } from '../errors.js';
import type { Message } from '../message.js';
import { heartbeatBody } from '../protocol/bodies.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from './build-message.js';
import { SendCore, type SendOptions } from './send-core.js';
import type { SendResult } from './send-result.js';
import { ProducerTrace } from '../trace/producer-trace.js';
import { type TraceOption, TraceDispatcher, traceTopicOf } from '../trace/trace-dispatcher.js';

export interface ProducerOptions extends ClientOptions {
  /** Producer group. Default "DEFAULT_PRODUCER". */
  group?: string;
  /** Timeout of each send attempt. Default 3,000 ms. */
  sendTimeoutMs?: number;
  /** Extra attempts after a retryable failure (codes 1, 2, 14, 17, timeouts, connection errors). Default 2. */
  retryTimes?: number;
  /** zlib-compress bodies of at least this many bytes. Default 4,096. */
  compressOverBytes?: number;
  /** Largest body accepted. Default 4 MiB. */
  maxMessageSize?: number;
  /** Write a Pub trace record per send to the trace topic (RocketMQ enableMsgTrace; docs/trace.md). Default off. */
  trace?: TraceOption;
}

type State = 'created' | 'running' | 'stopped';

/**
 * A RocketMQ producer. `await send(msg)` is a sync send; many un-awaited sends pipeline on one
 * connection per broker. Emits 'error' for background failures (heartbeat, route refresh) when
 * listened to.
 */
export class Producer extends ClientEmitter {
  readonly group: string;
  /** Shared with subclasses (TransactionProducer) that add requests of their own. */
  protected readonly inst: ClientInstance;
  protected readonly core: SendCore;
  private state: State = 'created';
  private readonly heartbeatMs: number;
  private readonly routeRefreshMs: number;
  private readonly trace: ProducerTrace | undefined;

  constructor(opts: ProducerOptions) {
    super();
    this.group = opts.group ?? 'DEFAULT_PRODUCER';
    this.inst = new ClientInstance(opts);
    this.inst.onError = (err) => this.reportError(err, this.inst.logger);
    this.heartbeatMs = opts.heartbeatMs ?? 30_000;
    this.routeRefreshMs = opts.routeRefreshMs ?? 30_000;
    this.core = new SendCore(this.inst, {
      group: this.group,
      sendTimeoutMs: opts.sendTimeoutMs ?? 3000,
      retryTimes: opts.retryTimes ?? 2,
      compressOverBytes: opts.compressOverBytes ?? 4096,
      maxMessageSize: opts.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
    });
    const traceTopic = traceTopicOf(opts.trace);
    if (traceTopic !== undefined) this.trace = new ProducerTrace(new TraceDispatcher(opts, this.group, traceTopic), this.group);
  }

  /** The id this producer registers with brokers ("ip@instance"). */
  get clientId(): string {
    return this.inst.clientId;
  }

  /** Starts the periodic heartbeat and route refresh. Sends nothing until the first message. */
  async start(): Promise<void> {
    if (this.state !== 'created') throw new ClientError(ClientErrorCode.STATE, `producer cannot start: it is ${this.state}`);
    this.state = 'running';
    // A broker learns about the producer as soon as a route names it.
    this.inst.onNewBrokerAddr = () => void this.heartbeat();
    this.inst.every(this.heartbeatMs, () => this.heartbeat());
    this.inst.every(this.routeRefreshMs, () => this.inst.refreshRoutes());
  }

  /** Sends one message and resolves with the broker's answer; retries on another broker unless ordered. */
  send(msg: Message, opts?: SendOptions): Promise<SendResult> {
    return this.running().then(() => (this.trace ? this.trace.send(msg, opts, () => this.core.send(msg, opts)) : this.core.send(msg, opts)));
  }

  /** Sends without waiting for the broker (oneway request); one attempt. */
  sendOneway(msg: Message): Promise<void> {
    return this.running().then(() => this.core.sendOneway(msg));
  }

  /** Sends messages of one topic as one SEND_BATCH_MESSAGE (stored in one queue). */
  sendBatch(msgs: readonly Message[], opts?: SendOptions): Promise<SendResult> {
    return this.running().then(() => this.core.sendBatch(msgs, opts));
  }

  /** Unregisters from brokers, then stops timers and closes connections. */
  async shutdown(): Promise<void> {
    if (this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopped';
    if (wasRunning) await unregisterClient(this.inst, this.inst.brokerAddrs({ mastersOnly: false }), { producerGroup: this.group });
    await this.trace?.shutdown();
    this.inst.close();
  }

  private async heartbeat(): Promise<void> {
    if (this.state !== 'running') return;
    await sendHeartbeats(this.inst, this.inst.brokerAddrs({ mastersOnly: true }), heartbeatBody(this.inst.clientId, [this.group], []));
  }

  protected async running(): Promise<void> {
    if (this.state !== 'running') throw new ClientError(ClientErrorCode.STATE, `producer is ${this.state === 'created' ? 'not started' : 'shut down'}`);
  }
}
