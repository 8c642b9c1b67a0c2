import { DEFAULT_TRACE_REGION, UniqueIdGenerator } from '@apogee/message';
import { ipv4Bytes, localIPv4 } from '../client/local-ip.js';
import type { ConsumeFunction } from '../consumer/listener.js';
import type { ReceivedMessage } from '../message.js';
import type { TraceSink } from './trace-dispatcher.js';

/** ConsumeReturnType ordinals of the SubAfter record's contextCode. */
const SUCCESS = 0;
const EXCEPTION = 2;
const FAILED = 4;

/**
 * A push consumer's SubBefore / SubAfter records (the Java ConsumeMessageTraceHookImpl): one
 * SubBefore per message before the listener runs and one SubAfter per message after, sharing a
 * request id. Messages whose TRACE_ON property is "false" and messages of the trace topic are not
 * traced. The listener's result or throw is passed on unchanged.
 */
export class ConsumerTrace {
  private readonly ids = new UniqueIdGenerator(ipv4Bytes(localIPv4()));

  constructor(
    private readonly dispatcher: TraceSink,
    private readonly group: string,
  ) {}

  wrap(consume: ConsumeFunction): ConsumeFunction {
    return async (msgs, ctx) => {
      const traced = msgs.filter((m) => m.properties['TRACE_ON'] !== 'false' && m.topic !== this.dispatcher.topic);
      if (traced.length === 0) return consume(msgs, ctx);
      const requestId = this.ids.next();
      const start = Date.now();
      for (const m of traced) this.before(m, requestId, start);
      let status: Awaited<ReturnType<ConsumeFunction>>;
      try {
        status = await consume(msgs, ctx);
      } catch (err) {
        this.after(traced, requestId, start, false, EXCEPTION);
        throw err;
      }
      const ok = status === undefined || status === 'SUCCESS';
      this.after(traced, requestId, start, ok, ok ? SUCCESS : FAILED);
      return status;
    };
  }

  shutdown(): Promise<void> {
    return this.dispatcher.shutdown();
  }

  private before(m: ReceivedMessage, requestId: string, now: number): void {
    const keys = m.keys.join(' ');
    this.dispatcher.add(
      {
        type: 'SubBefore',
        timestamp: now,
        regionId: m.properties['MSG_REGION'] ?? DEFAULT_TRACE_REGION,
        group: this.group,
        requestId,
        msgId: m.msgId,
        retryTimes: m.reconsumeTimes,
        keys,
      },
      [m.msgId, keys],
    );
  }

  private after(msgs: readonly ReceivedMessage[], requestId: string, start: number, success: boolean, contextCode: number): void {
    const now = Date.now();
    for (const m of msgs) {
      const keys = m.keys.join(' ');
      this.dispatcher.add(
        { type: 'SubAfter', requestId, msgId: m.msgId, costTime: now - start, success, keys, contextCode, timestamp: now, group: this.group },
        [m.msgId, keys],
      );
    }
  }
}
