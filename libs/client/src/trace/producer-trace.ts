import { DEFAULT_TRACE_REGION, type PubRecord, TraceMessageType, decodeOffsetMessageId, formatHost } from '@apogee/message';
import type { Message } from '../message.js';
import type { SendOptions } from '../producer/send-core.js';
import type { SendResult } from '../producer/send-result.js';
import type { TraceSink } from './trace-dispatcher.js';

/** The user keys of a message as one space-separated string (as KEYS stores them). */
export function keysOf(msg: Pick<Message, 'keys'>): string {
  const k = msg.keys;
  if (k === undefined) return '';
  return typeof k === 'string' ? k : k.join(' ');
}

/** The store host an offset message id names ("ip:port"), '' when it is not one. */
function storeHostOf(offsetMsgId: string): string {
  try {
    return formatHost(decodeOffsetMessageId(offsetMsgId.split(',')[0]!).storeHost);
  } catch {
    return '';
  }
}

/**
 * A producer's Pub records (the Java SendMessageTraceHookImpl): one per successful send, unless
 * the broker answered TRACE_ON=false. Sends to the trace topic itself are never traced.
 */
export class ProducerTrace {
  constructor(
    private readonly dispatcher: TraceSink,
    private readonly group: string,
  ) {}

  /** Runs `send` and records it; the send's own result or error is passed on unchanged. */
  async send(msg: Message, opts: SendOptions | undefined, send: () => Promise<SendResult>): Promise<SendResult> {
    if (msg.topic === this.dispatcher.topic) return send();
    const start = Date.now();
    const r = await send();
    if (r.traceOn !== false) this.dispatcher.add(this.pubOf(msg, opts, r, start), [r.msgId, keysOf(msg)]);
    return r;
  }

  shutdown(): Promise<void> {
    return this.dispatcher.shutdown();
  }

  private pubOf(msg: Message, opts: SendOptions | undefined, r: SendResult, start: number): PubRecord {
    const delayed = (msg.delayLevel ?? 0) > 0 || msg.deliverTimeMs !== undefined;
    const ordered = opts !== undefined && (opts.shardingKey !== undefined || opts.selector !== undefined || opts.queue !== undefined);
    return {
      type: 'Pub',
      timestamp: start,
      regionId: r.regionId || DEFAULT_TRACE_REGION,
      group: this.group,
      topic: msg.topic,
      msgId: r.msgId,
      tags: msg.tags ?? '',
      keys: keysOf(msg),
      storeHost: storeHostOf(r.offsetMsgId),
      bodyLength: typeof msg.body === 'string' ? Buffer.byteLength(msg.body) : msg.body.length,
      costTime: Date.now() - start,
      msgType: delayed ? TraceMessageType.Delay : ordered ? TraceMessageType.Order : TraceMessageType.Normal,
      offsetMsgId: r.offsetMsgId,
      success: r.status === 'SEND_OK',
    };
  }
}
