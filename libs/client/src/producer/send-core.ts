import { PropertyKey, encodeBatchBody, encodeProperties, UniqueIdGenerator, isRetryTopic } from '@apogee/message';
import { type RemotingCommand, RequestCode, makeRequest } from '@apogee/remoting';
import type { ClientInstance } from '../client/instance.js';
import { ipv4Bytes, localIPv4 } from '../client/local-ip.js';
import { ClientError, ClientErrorCode } from '../errors.js';
import type { Message } from '../message.js';
import type { MessageQueue } from '../message-queue.js';
import { sendMessageV2Header } from '../protocol/headers.js';
import { publishQueues } from '../route/topic-route.js';
import { type OutgoingMessage, buildOutgoing } from './build-message.js';
import { RoundRobinSelector, selectByShardingKey } from './queue-selector.js';
import { isRetryableSendError } from './retry.js';
import { type SendResult, parseSendResponse } from './send-result.js';

/** Picks the queue of an ordered send from the topic's writable queues. */
export type QueueSelectorFn = (queues: readonly MessageQueue[], msg: Message) => MessageQueue;

/** Per-send options. A shardingKey, selector or queue makes the send ordered: one queue, no retry elsewhere. */
export interface SendOptions {
  /** Queue = |hashCode(shardingKey)| mod writable queue count. */
  shardingKey?: string;
  selector?: QueueSelectorFn;
  /** Send to exactly this queue. */
  queue?: MessageQueue;
  /** Overrides the producer's sendTimeoutMs for this send (per attempt). */
  timeoutMs?: number;
}

export interface SendCoreOptions {
  group: string;
  sendTimeoutMs: number;
  retryTimes: number;
  compressOverBytes: number;
  maxMessageSize: number;
}

/** Extra send-header fields for messages re-sent to a retry topic. */
export interface ResendFields {
  reconsumeTimes?: number;
  maxReconsumeTimes?: number;
  extraProperties?: Record<string, string>;
}

/**
 * The send path shared by Producer and the consumers' retry fallback: queue selection, the
 * SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE request, and retries on another broker.
 */
export class SendCore {
  private readonly selectors = new Map<string, RoundRobinSelector>();
  private readonly ids = new UniqueIdGenerator(ipv4Bytes(localIPv4()));

  constructor(
    private readonly inst: ClientInstance,
    private readonly opts: SendCoreOptions,
  ) {}

  async send(msg: Message, sendOpts: SendOptions = {}, resend: ResendFields = {}): Promise<SendResult> {
    const out = this.build(msg, this.opts.compressOverBytes, resend.extraProperties);
    return this.dispatch(out, RequestCode.SEND_MESSAGE_V2, msg, sendOpts, resend);
  }

  /** Fire and forget: one attempt, no response awaited beyond the socket write. */
  async sendOneway(msg: Message): Promise<void> {
    const out = this.build(msg, this.opts.compressOverBytes);
    const queues = await this.queuesOf(out.topic, false);
    const q = this.selector(out.topic).select(queues);
    if (!q) throw noQueue(out.topic);
    const addr = this.addrOf(q);
    await this.inst.oneway(addr, this.request(RequestCode.SEND_MESSAGE_V2, out, q, {}, false));
  }

  /** One SEND_BATCH_MESSAGE with every message (same topic, no delay); atomic per queue. */
  async sendBatch(msgs: readonly Message[], sendOpts: SendOptions = {}): Promise<SendResult> {
    if (!Array.isArray(msgs) || msgs.length === 0) throw new ClientError(ClientErrorCode.ILLEGAL_ARGUMENT, 'a batch needs at least one message');
    const topic = msgs[0]!.topic;
    const items: OutgoingMessage[] = [];
    for (const m of msgs) {
      if (m.topic !== topic) throw new ClientError(ClientErrorCode.ILLEGAL_ARGUMENT, 'all messages of a batch must have the same topic');
      if ((m.delayLevel ?? 0) > 0 || m.deliverTimeMs !== undefined) throw new ClientError(ClientErrorCode.ILLEGAL_ARGUMENT, 'batch messages cannot be delayed');
      if (isRetryTopic(topic)) throw new ClientError(ClientErrorCode.ILLEGAL_ARGUMENT, 'batches cannot go to retry topics');
      // Java does not compress batch members.
      items.push(this.build(m, Infinity));
    }
    const body = encodeBatchBody(items);
    if (body.length > this.opts.maxMessageSize) {
      throw new ClientError(ClientErrorCode.ILLEGAL_ARGUMENT, `batch body is ${body.length} bytes; the limit is ${this.opts.maxMessageSize}`);
    }
    const batch: OutgoingMessage = {
      topic,
      body,
      sysFlag: 0,
      flag: 0,
      properties: encodeProperties({ [PropertyKey.WAIT_STORE_MSG_OK]: msgs[0]!.waitStoreMsgOK === false ? 'false' : 'true' }),
      uniqId: items.map((i) => i.uniqId).join(','),
    };
    return this.dispatch(batch, RequestCode.SEND_BATCH_MESSAGE, msgs[0]!, sendOpts, {});
  }

  private build(msg: Message, compressOverBytes: number, extraProperties?: Record<string, string>): OutgoingMessage {
    const opts = { ids: this.ids, compressOverBytes, maxMessageSize: this.opts.maxMessageSize };
    return buildOutgoing(msg, extraProperties ? { ...opts, extraProperties } : opts);
  }

  private dispatch(out: OutgoingMessage, code: number, msg: Message, sendOpts: SendOptions, resend: ResendFields): Promise<SendResult> {
    const timeoutMs = sendOpts.timeoutMs ?? this.opts.sendTimeoutMs;
    const ordered = isOrdered(sendOpts);
    // The per-message path: a cached route and an unordered send make one attempt without an
    // async frame; a failed attempt (or anything else) goes through the general path.
    const cached = ordered ? undefined : this.cachedQueues(out.topic);
    if (cached) {
      const q = this.selector(out.topic).select(cached, NO_FAILED);
      if (q) {
        let first: Promise<SendResult>;
        try {
          first = this.attempt(code, out, q, resend, timeoutMs);
        } catch (err) {
          first = Promise.reject(err);
        }
        return first.catch((err: unknown) => {
          if (!isRetryableSendError(err)) throw err;
          this.inst.logger.warn?.('send attempt failed; retrying on another queue', { topic: out.topic, brokerName: q.brokerName, error: String(err) });
          const attempts = 1 + Math.max(0, this.opts.retryTimes);
          if (attempts <= 1) throw finalError(err, attempts);
          return this.dispatchWithRetries(out, code, msg, sendOpts, resend, timeoutMs, new Set([q.brokerName]), 1, err);
        });
      }
    }
    return this.dispatchWithRetries(out, code, msg, sendOpts, resend, timeoutMs, new Set<string>(), 0, undefined);
  }

  private async dispatchWithRetries(
    out: OutgoingMessage,
    code: number,
    msg: Message,
    sendOpts: SendOptions,
    resend: ResendFields,
    timeoutMs: number,
    failedBrokers: Set<string>,
    done: number,
    previous: unknown,
  ): Promise<SendResult> {
    const ordered = isOrdered(sendOpts);
    // After a failed first attempt the route is re-read, keeping the old one if that fails.
    let queues = done > 0 ? await this.queuesOf(out.topic, true).catch(() => this.queuesOf(out.topic, false)) : await this.queuesOf(out.topic, false);
    if (ordered) {
      const q = this.orderedQueue(queues, msg, sendOpts);
      return this.attempt(code, out, q, resend, timeoutMs);
    }
    const selector = this.selector(out.topic);
    const attempts = 1 + Math.max(0, this.opts.retryTimes);
    let lastErr: unknown = previous;
    for (let i = done; i < attempts; i++) {
      if (i > done) queues = await this.queuesOf(out.topic, true).catch(() => queues);
      const q = selector.select(queues, failedBrokers);
      if (!q) throw noQueue(out.topic);
      try {
        return await this.attempt(code, out, q, resend, timeoutMs);
      } catch (err) {
        if (!isRetryableSendError(err)) throw err;
        lastErr = err;
        failedBrokers.add(q.brokerName);
        this.inst.logger.warn?.('send attempt failed; retrying on another queue', { topic: out.topic, brokerName: q.brokerName, error: String(err) });
      }
    }
    throw finalError(lastErr, attempts);
  }

  private orderedQueue(queues: readonly MessageQueue[], msg: Message, o: SendOptions): MessageQueue {
    let q: MessageQueue | undefined;
    if (o.queue) q = o.queue;
    else if (o.selector) q = o.selector(queues, msg);
    else if (o.shardingKey !== undefined) q = selectByShardingKey(queues, o.shardingKey);
    if (!q) throw noQueue(msg.topic);
    return q;
  }

  /** One attempt on queue `q`; throws synchronously when the broker has no address. */
  private attempt(code: number, out: OutgoingMessage, q: MessageQueue, resend: ResendFields, timeoutMs: number): Promise<SendResult> {
    const addr = this.addrOf(q);
    return this.inst.invoke(addr, this.request(code, out, q, resend, code === RequestCode.SEND_BATCH_MESSAGE), timeoutMs).then((res) => {
      try {
        return parseSendResponse(res, q, out.uniqId, addr);
      } catch (err) {
        if (err instanceof ClientError) throw err;
        throw new ClientError(ClientErrorCode.BROKER, `malformed send response from ${addr}: ${(err as Error).message}`, {
          addr,
          responseCode: res.code,
          cause: err,
        });
      }
    });
  }

  private request(code: number, out: OutgoingMessage, q: MessageQueue, resend: ResendFields, batch: boolean): RemotingCommand {
    const header: Parameters<typeof sendMessageV2Header>[0] = {
      producerGroup: this.opts.group,
      topic: out.topic,
      queueId: q.queueId,
      sysFlag: out.sysFlag,
      bornTimestamp: Date.now(),
      flag: out.flag,
      properties: out.properties,
      batch,
      brokerName: q.brokerName,
    };
    if (resend.reconsumeTimes !== undefined) header.reconsumeTimes = resend.reconsumeTimes;
    if (resend.maxReconsumeTimes !== undefined) header.maxReconsumeTimes = resend.maxReconsumeTimes;
    return makeRequest(code, { extFields: sendMessageV2Header(header), body: out.body });
  }

  private addrOf(q: MessageQueue): string {
    const addr = this.inst.masterAddr(q.brokerName);
    // Retryable: another broker may still take the message.
    if (addr === undefined) throw new ClientError(ClientErrorCode.NETWORK, `broker ${q.brokerName} has no master address`);
    return addr;
  }

  /** Publish queues per route object: recomputed only when the route is refreshed (not per send). */
  private readonly queueCache = new WeakMap<object, { topic: string; queues: MessageQueue[] }>();

  /** Publish queues of a cached route, or undefined (not cached yet: the async path fetches it). */
  private cachedQueues(topic: string): MessageQueue[] | undefined {
    const route = this.inst.cachedRoute(topic);
    if (!route) return undefined;
    let c = this.queueCache.get(route);
    if (!c || c.topic !== topic) {
      c = { topic, queues: publishQueues(topic, route) };
      this.queueCache.set(route, c);
    }
    return c.queues;
  }

  private async queuesOf(topic: string, force: boolean): Promise<MessageQueue[]> {
    const { route } = await this.inst.getRoute(topic, { force, allowDefault: true });
    let c = this.queueCache.get(route);
    if (!c || c.topic !== topic) {
      c = { topic, queues: publishQueues(topic, route) };
      this.queueCache.set(route, c);
    }
    return c.queues;
  }

  private selector(topic: string): RoundRobinSelector {
    let s = this.selectors.get(topic);
    if (!s) {
      s = new RoundRobinSelector();
      this.selectors.set(topic, s);
    }
    return s;
  }
}

const NO_FAILED: ReadonlySet<string> = new Set();

/** A sharding key, selector or fixed queue makes a send ordered: one queue, no retry elsewhere. */
function isOrdered(o: SendOptions): boolean {
  return o.shardingKey !== undefined || o.selector !== undefined || o.queue !== undefined;
}

function noQueue(topic: string): ClientError {
  return new ClientError(ClientErrorCode.NO_ROUTE, `topic ${topic} has no writable queue with a master broker`);
}

/** The last attempt's error, re-labelled, keeping the broker's code and remark. */
function finalError(lastErr: unknown, attempts: number): ClientError {
  if (!(lastErr instanceof ClientError)) return new ClientError(ClientErrorCode.NETWORK, `send failed after ${attempts} attempts`, { cause: lastErr });
  const details: ConstructorParameters<typeof ClientError>[2] = { cause: lastErr };
  if (lastErr.responseCode !== undefined) details.responseCode = lastErr.responseCode;
  if (lastErr.remark !== undefined) details.remark = lastErr.remark;
  if (lastErr.addr !== undefined) details.addr = lastErr.addr;
  return new ClientError(lastErr.code, `send failed after ${attempts} attempts; last: ${lastErr.message}`, details);
}
