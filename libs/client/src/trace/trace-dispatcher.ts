import { type ClientTraceRecord, TRACE_TOPIC, encodeTraceRecord } from '@apogee/message';
import { ClientInstance } from '../client/instance.js';
import type { ClientOptions } from '../client/options.js';
import { SendCore } from '../producer/send-core.js';

/** Client tracing (RocketMQ enableMsgTrace): true for the default trace topic, or a customized one. */
export type TraceOption = boolean | { topic?: string };

/** Records per trace message at most. */
const BATCH_RECORDS = 100;
/** Bytes of a trace message body at most (the Java dispatcher's maxMsgSize is 128,000). */
const BATCH_BYTES = 128_000;
/** A partial batch waits at most this long. */
const BATCH_DELAY_MS = 100;
/** Records waiting at most; past it new ones are dropped (counted in `dropped`). */
const MAX_PENDING = 2048 * 20;

/** The trace topic of an option, or undefined when tracing is off. */
export function traceTopicOf(t: TraceOption | undefined): string | undefined {
  if (t === undefined || t === false) return undefined;
  return t === true ? TRACE_TOPIC : (t.topic ?? TRACE_TOPIC);
}

/** Where the producer and consumer hooks put their records (a TraceDispatcher; a plain object in specs). */
export interface TraceSink {
  /** The trace topic: sends to it and messages of it are never traced. */
  readonly topic: string;
  add(record: ClientTraceRecord, keys: readonly string[]): void;
  shutdown(): Promise<void>;
}

/**
 * Sends trace records to the trace topic through an internal sender of its own (group
 * `_INNER_TRACE_PRODUCER-<group>`, its own connections), like the Java AsyncTraceDispatcher:
 * records are batched (≤ 100 records, ≤ 128,000 bytes, ≤ 100 ms), one send at a time; the trace
 * message's KEYS are the message ids and user keys the records cover. It never fails the
 * caller: a full queue drops records and a failed send loses its batch, both counted.
 */
export class TraceDispatcher implements TraceSink {
  readonly counts = { sent: 0, dropped: 0, failed: 0 };
  private readonly inst: ClientInstance;
  private readonly core: SendCore;
  private pending: Array<{ line: string; keys: readonly string[] }> = [];
  private timer: NodeJS.Timeout | null = null;
  private sending: Promise<void> | null = null;
  private closed = false;

  constructor(
    opts: ClientOptions,
    ownerGroup: string,
    readonly topic: string,
  ) {
    this.inst = new ClientInstance({ ...opts, instanceName: `TRACE_${opts.instanceName ?? ownerGroup}_${process.pid}` });
    this.inst.onError = () => {}; // a failing trace send must not surface as the owner's error
    this.core = new SendCore(this.inst, {
      group: `_INNER_TRACE_PRODUCER-${ownerGroup}`,
      sendTimeoutMs: 5000,
      retryTimes: 1,
      compressOverBytes: Infinity,
      maxMessageSize: BATCH_BYTES * 2,
    });
  }

  /** Queues a record; `keys` are what it is found by (message id, user keys). */
  add(record: ClientTraceRecord, keys: readonly string[]): void {
    if (this.closed) return;
    if (this.pending.length >= MAX_PENDING) {
      this.counts.dropped++;
      return;
    }
    this.pending.push({ line: encodeTraceRecord(record), keys });
    if (this.sending === null) this.schedule();
  }

  /** Sends what is queued; resolves when done (failures are counted, not thrown). */
  async flush(): Promise<void> {
    while (this.sending !== null || this.pending.length > 0) {
      if (this.sending === null) this.startSend();
      await this.sending;
    }
  }

  /** Flushes, then closes the internal sender's connections. */
  async shutdown(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
    this.closed = true;
    this.inst.close();
  }

  private schedule(): void {
    if (this.pending.length >= BATCH_RECORDS) this.startSend();
    else if (this.pending.length > 0 && this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.sending === null) this.startSend();
      }, BATCH_DELAY_MS);
      this.timer.unref();
    }
  }

  /** Sends the next batch (up to the record and byte bounds). */
  private startSend(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    let body = '';
    const keys = new Set<string>();
    let n = 0;
    while (n < this.pending.length && n < BATCH_RECORDS) {
      const p = this.pending[n]!;
      if (n > 0 && Buffer.byteLength(body) + Buffer.byteLength(p.line) > BATCH_BYTES) break;
      body += p.line;
      for (const k of p.keys) if (k) keys.add(k);
      n++;
    }
    this.pending = this.pending.slice(n);
    if (n === 0) return;
    this.sending = this.core
      .send({ topic: this.topic, body, keys: [...keys] })
      .then(
        () => void (this.counts.sent += n),
        () => void (this.counts.failed += n),
      )
      .finally(() => {
        this.sending = null;
        this.schedule();
      });
  }
}
