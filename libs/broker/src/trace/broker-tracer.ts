import {
  BROKER_TRACE_TOPIC,
  type BrokerTraceRecord,
  type BrokerTraceType,
  type MessageExt,
  Perm,
  PropertyKey,
  decodeRecord,
  encodeTraceRecords,
  formatHost,
  isDlqTopic,
  isRetryTopic,
  RETRY_GROUP_TOPIC_PREFIX,
} from '@apogee/message';
import type { PutMessage, PutResult, StoredMessage } from '@apogee/store';
import type { BrokerConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { SendRequest, SendResult } from '../send/send-types.js';
import { type TopicManager, topicConfigOf } from '../topic/topic-manager.js';

/** The protocol a delivery went out on. */
export type TraceProtocol = 'remoting' | 'mqtt' | 'amqp';

/** A delivery as an endpoint reports it. Build one only when `tracer.deliveries` is true. */
export interface DeliveryEvent {
  protocol: TraceProtocol;
  /** Consumer group; MQTT: the LMQ or shared group the message was read from. */
  group: string;
  /** Client id, MQTT client identifier, AMQP container id. */
  client: string;
  remoteAddress: string;
  /** The queue it was read from. */
  topic: string;
  queueId: number;
  queueOffset: number;
  /** Where the record is: names the message by its offset message id unless `offsetMsgId` is given. */
  commitLogOffset: number;
  offsetMsgId?: string;
  properties: ReadonlyMap<string, string>;
  reconsumeTimes: number;
}

/** Records per trace message (like the Java AsyncTraceDispatcher's batches). */
const BATCH_RECORDS = 100;
/** A partial batch waits at most this long. */
const BATCH_DELAY_MS = 100;

/**
 * The broker's own trace records (docs/trace.md): what it saw happen to a message — stored,
 * delivered, retried, dead-lettered — written as messages of rmq_sys_broker_trace whose KEYS are
 * the message ids (UNIQ_KEY, else offset id) they cover, so a key query finds them. Never in a send's or a delivery's way:
 * records are queued and written in batches of up to BATCH_RECORDS, one write at a time, at most
 * BATCH_DELAY_MS late; past brokerTraceMaxPending queued records new ones are dropped (counted).
 */
export class BrokerTracer {
  /** Whether broker records are written at all (retries and dead letters). */
  readonly enabled: boolean;
  /** Whether per-message records (stored, delivered) are written: endpoints check it before building an event. */
  readonly deliveries: boolean;
  /** Records written, dropped (queue full) and lost to failed writes. */
  readonly counts = { written: 0, dropped: 0, failed: 0 };
  private pending: BrokerTraceRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private readonly untraced: ReadonlySet<string>;

  constructor(
    private readonly cfg: BrokerConfig,
    private readonly offsetMessageId: (commitLogOffset: number) => string,
    private readonly put: (puts: PutMessage[]) => Promise<PutResult[]>,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.enabled = cfg.brokerTraceEnable;
    this.deliveries = cfg.brokerTraceEnable && cfg.brokerTraceDeliveries;
    this.untraced = new Set([BROKER_TRACE_TOPIC, cfg.msgTraceTopicName]);
  }

  /** Creates the trace topics (each 1 queue, read-write) that are switched on and missing. */
  async init(topics: TopicManager): Promise<void> {
    const wanted = [...(this.cfg.traceTopicEnable ? [this.cfg.msgTraceTopicName] : []), ...(this.enabled ? [BROKER_TRACE_TOPIC] : [])];
    for (const name of wanted) if (!topics.get(name)) await topics.createOrUpdate(topicConfigOf(name, 1, Perm.READ | Perm.WRITE));
  }

  /**
   * Whether a send to `topic` gets a record once stored (afterSend): every send with the deliveries
   * switch on, else only consumers' copies to their retry topics; never a send to a trace topic.
   */
  watchesSend(topic: string): boolean {
    return this.enabled && (this.deliveries || isRetryTopic(topic)) && !this.untraced.has(topic);
  }

  /** A send that watchesSend picked out was stored. */
  afterSend(req: SendRequest, r: SendResult): void {
    if (isRetryTopic(req.topic)) this.resent(req, r);
    else this.stored(req, r);
  }

  /** A message of sendUnconfirmed appended (deliveries switch). */
  appended(req: SendRequest, topic: string, queueId: number, r: PutResult): void {
    if (!this.deliveries || this.untraced.has(topic)) return;
    const uniq = req.properties.get(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? r.msgId;
    const remote = req.bornHost ? formatHost(req.bornHost) : '';
    this.add('Store', topic, queueId, r.queueOffset, uniq, r.msgId, req.producerGroup ?? '', '', '', remote, req.reconsumeTimes ?? 0, '');
  }

  /** A send stored: one Store record per message (deliveries switch). */
  private stored(req: SendRequest, r: SendResult): void {
    if (!this.deliveries || this.untraced.has(r.topic)) return;
    const remote = req.bornHost ? formatHost(req.bornHost) : '';
    for (let i = 0; i < r.msgIds.length; i++) {
      const offsetMsgId = r.msgIds[i]!;
      this.add(
        'Store',
        r.topic,
        r.queueId,
        r.queueOffset + i,
        r.uniqKeys[i] ?? offsetMsgId,
        offsetMsgId,
        req.producerGroup ?? '',
        '',
        '',
        remote,
        req.reconsumeTimes ?? 0,
        '',
      );
    }
  }

  /**
   * A copy sent by a consumer to its retry topic itself (the Java fallback when
   * CONSUMER_SEND_MSG_BACK fails): Retry, or DeadLetter when the broker moved it to the DLQ.
   */
  private resent(req: SendRequest, r: SendResult): void {
    if (!this.enabled) return;
    const dead = isDlqTopic(r.topic);
    const group = req.topic.slice(RETRY_GROUP_TOPIC_PREFIX.length);
    const origin = req.properties.get(PropertyKey.ORIGIN_MESSAGE_ID) ?? '';
    const uniq = r.uniqKeys[0] ?? r.msgIds[0]!;
    const remote = req.bornHost ? formatHost(req.bornHost) : '';
    this.add(
      dead ? 'DeadLetter' : 'Retry',
      req.properties.get(PropertyKey.RETRY_TOPIC) ?? '',
      -1,
      -1,
      uniq,
      origin,
      group,
      '',
      'remoting',
      remote,
      req.reconsumeTimes ?? 0,
      r.topic,
    );
  }

  /** CONSUMER_SEND_MSG_BACK moved `m` to `target` (retry topic, or DLQ when dead-lettered). */
  sentBack(group: string, m: MessageExt, target: string, deadLettered: boolean, remoteAddress = ''): void {
    if (!this.enabled) return;
    const uniq = m.properties.get(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? m.msgId;
    this.add(
      deadLettered ? 'DeadLetter' : 'Retry',
      m.topic,
      m.queueId,
      m.queueOffset,
      uniq,
      m.msgId,
      group,
      '',
      'remoting',
      remoteAddress,
      m.reconsumeTimes + 1,
      target,
    );
  }

  /** Records pulled by a remoting consumer (deliveries switch; decodes each record's header). */
  pulled(group: string, topic: string, queueId: number, messages: readonly StoredMessage[], client: string, remoteAddress: string): void {
    if (!this.deliveries || this.untraced.has(topic)) return;
    for (const s of messages) {
      let m: MessageExt;
      try {
        m = decodeRecord(s.record);
      } catch {
        continue; // the consumer gets the same bytes and reports them; the trace just has no record
      }
      const uniq = m.properties.get(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? m.msgId;
      this.add('Deliver', topic, queueId, s.queueOffset, uniq, m.msgId, group, client, 'remoting', remoteAddress, m.reconsumeTimes, '');
    }
  }

  /** A delivery over MQTT or AMQP (deliveries switch; callers check `deliveries` first). */
  delivered(e: DeliveryEvent): void {
    if (!this.deliveries || this.untraced.has(e.topic)) return;
    const offsetMsgId = e.offsetMsgId ?? this.offsetMessageId(e.commitLogOffset);
    const uniq = e.properties.get(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? offsetMsgId;
    this.add('Deliver', e.topic, e.queueId, e.queueOffset, uniq, offsetMsgId, e.group, e.client, e.protocol, e.remoteAddress, e.reconsumeTimes, '');
  }

  /** Writes what is queued; resolves when it is stored (or failed, counted). */
  async flush(): Promise<void> {
    while (this.writing !== null || this.pending.length > 0) {
      if (this.writing === null) this.startWrite();
      await this.writing;
    }
  }

  /** Stops the timer and writes what is queued. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
  }

  private add(
    type: BrokerTraceType,
    topic: string,
    queueId: number,
    queueOffset: number,
    msgId: string,
    offsetMsgId: string,
    group: string,
    client: string,
    protocol: string,
    remoteAddress: string,
    reconsumeTimes: number,
    target: string,
  ): void {
    if (this.pending.length >= this.cfg.brokerTraceMaxPending) {
      this.counts.dropped++;
      return;
    }
    const brokerName = this.cfg.brokerName;
    this.pending.push({
      type,
      timestamp: this.now(),
      brokerName,
      topic,
      queueId,
      queueOffset,
      msgId,
      offsetMsgId,
      group,
      client,
      protocol,
      remoteAddress,
      reconsumeTimes,
      target,
    });
    if (this.writing === null) this.schedule(); // else the write in progress schedules the next
  }

  /** A full batch is written now, a partial one BATCH_DELAY_MS later. */
  private schedule(): void {
    if (this.pending.length >= BATCH_RECORDS) this.startWrite();
    else if (this.pending.length > 0 && this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.writing === null) this.startWrite();
      }, BATCH_DELAY_MS);
      this.timer.unref();
    }
  }

  private startWrite(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    const puts: PutMessage[] = [];
    for (let i = 0; i < batch.length; i += BATCH_RECORDS) puts.push(this.messageOf(batch.slice(i, i + BATCH_RECORDS)));
    this.writing = (puts.length === 0 ? Promise.resolve() : this.put(puts).then(() => void (this.counts.written += batch.length)))
      .catch((err: unknown) => {
        this.counts.failed += batch.length;
        this.log.warn({ err: (err as Error).message, records: batch.length }, 'broker trace: records could not be written');
      })
      .finally(() => {
        this.writing = null;
        this.schedule();
      });
  }

  private messageOf(records: readonly BrokerTraceRecord[]): PutMessage {
    // Keyed by msgId only (the UNIQ_KEY, or the offset id when there is none): one index entry per
    // record. A query by offset id finds the message first and then its records by its UNIQ_KEY.
    const keys = new Set<string>();
    for (const r of records) if (r.msgId) keys.add(r.msgId);
    return {
      topic: BROKER_TRACE_TOPIC,
      queueId: 0,
      body: Buffer.from(encodeTraceRecords(records), 'utf8'),
      flag: 0,
      properties: new Map([[PropertyKey.KEYS, [...keys].join(' ')]]),
      sysFlag: 0,
      bornTimestamp: this.now(),
      reconsumeTimes: 0,
    };
  }
}
