import { randomUUID } from 'node:crypto';
import { type Broker, type Logger, DLQ_GROUP_TOPIC_PREFIX } from '@apogee/broker';
import { PropertyKey } from '@apogee/message';
import type { TopicConfig } from '@apogee/store';
import { type AmqpAddress, deadLetterTopicOf } from './address.js';
import type { AmqpConfig } from './config.js';
import { type Entry, type OfferedMessage, QueueReader, type ReadMessage } from './delivery/queue-reader.js';
import { fitRocketName, matches, TopicProperty } from '@apogee/topics';

/** Prefixes of the consumer groups of topic subscriptions (durable: named by container id and link name). */
const DURABLE_SUB_PREFIX = 'AMQP_SUB_';
const VOLATILE_SUB_PREFIX = 'AMQP_TMP_';

/** A reader shared by the links that consume the same thing. */
export interface ReaderHandle {
  readonly key: string;
  readonly reader: QueueReader;
  readonly durable: boolean;
  /** The store topic it reads. */
  readonly topic: string;
  refs: number;
}

export interface ReaderRequest {
  address: AmqpAddress;
  /** For topic addresses: a durable subscription's identity (container id and link name), or null. */
  subscription: { containerId: string; linkName: string } | null;
  /** Whether a delivered message on this MQTT-style topic may be read by the link's principal. */
  canRead: (topic: string) => boolean;
}

export interface ReaderCounters {
  deadLettered: number;
}

/**
 * The QueueReaders of the gateway: one per queue address (its consumers compete), one per durable
 * topic subscription (shared by links attaching with the same container id and name), one per
 * non-durable subscription link. Creates store topics on first use when autoCreate is on.
 */
export class Readers {
  private readonly handles = new Map<string, Promise<ReaderHandle>>();
  /** Open readers by store topic, for messages offered from memory. */
  private readonly byTopic = new Map<string, Set<ReaderHandle>>();

  constructor(
    private readonly broker: Broker,
    private readonly cfg: AmqpConfig,
    private readonly log: Logger,
    private readonly counters: ReaderCounters,
  ) {}

  get size(): number {
    return this.handles.size;
  }

  /** The store topic of an address, created if missing and allowed; null when it does not exist. */
  async ensureTopic(address: AmqpAddress): Promise<TopicConfig | null> {
    const topics = this.broker.topics;
    if (address.kind === 'dlq') return topics.ensureDlqTopic(address.storeTopic.slice(DLQ_GROUP_TOPIC_PREFIX.length));
    const existing = topics.get(address.storeTopic);
    if (existing) return existing;
    if (!this.cfg.autoCreate) return null;
    const n = address.kind === 'queue' ? this.cfg.queueAddressQueues : this.cfg.topicAddressQueues;
    return topics.createOrUpdate({ topicName: address.storeTopic, readQueueNums: n, writeQueueNums: n, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false, attributes: {} });
  }

  /** Takes a reference on the reader for a request (opening it on first use). */
  async acquire(req: ReaderRequest, topic: TopicConfig): Promise<ReaderHandle> {
    const { address } = req;
    let group: string;
    let durable = true;
    let accept: ((m: ReadMessage) => boolean) | undefined;
    if (address.kind === 'topic') {
      const filter = address.name;
      accept = (m) => {
        const t = m.properties.get(TopicProperty.TOPIC) ?? m.topic;
        return matches(filter, t) && req.canRead(t);
      };
      if (req.subscription) group = fitRocketName(DURABLE_SUB_PREFIX, `${req.subscription.containerId}/${req.subscription.linkName}`, 255);
      else {
        group = VOLATILE_SUB_PREFIX + randomUUID().replace(/-/g, '');
        durable = false;
      }
    } else group = address.group;
    const key = `${group}\u0000${address.storeTopic}`;
    let p = this.handles.get(key);
    if (!p) {
      const reader = new QueueReader({
        store: this.broker.store,
        group,
        topic: address.storeTopic,
        queueCount: topic.readQueueNums,
        readBatch: this.cfg.readBatch,
        start: address.kind === 'topic' ? 'newest' : 'oldest',
        durable,
        accept,
        deadLetter: (e, condition, description) => this.deadLetter(address, e, condition, description),
        onError: (err) => this.log.warn({ address: address.address, err: (err as Error).message }, 'amqp: delivery error'),
      });
      p = reader.open().then(() => {
        const h: ReaderHandle = { key, reader, durable, refs: 0, topic: address.storeTopic };
        let set = this.byTopic.get(h.topic);
        if (!set) this.byTopic.set(h.topic, (set = new Set()));
        set.add(h);
        return h;
      });
      this.handles.set(key, p);
      p.catch(() => this.handles.delete(key));
    }
    const h = await p;
    h.refs++;
    return h;
  }

  /** Drops a reference; the last one closes the reader (and `forget` deletes a durable subscription's position). */
  async release(h: ReaderHandle, forget = false): Promise<void> {
    h.refs--;
    if (h.refs > 0 && !forget) return;
    this.handles.delete(h.key);
    this.unindex(h);
    if (forget || !h.durable) await h.reader.destroy();
    else await h.reader.close();
  }

  /** Closes every reader, committing positions. */
  async closeAll(): Promise<void> {
    const all = await Promise.allSettled([...this.handles.values()]);
    this.handles.clear();
    this.byTopic.clear();
    // Positions are committed only up to what is written: write everything first, so a clean
    // shutdown commits every accepted message.
    await this.broker.store.flush().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'amqp: store flush before closing readers failed'));
    await Promise.all(all.map((r) => (r.status === 'fulfilled' ? (r.value.durable ? r.value.reader.close() : r.value.reader.destroy()) : undefined)));
  }

  /**
   * Offers a message just appended to `topic`/`queueId` at `offset` to the readers of that topic
   * (see QueueReader.offer); `message` is built at most once, when some reader takes it.
   */
  offer(topic: string, queueId: number, offset: number, message: OfferedMessage): void {
    const set = this.byTopic.get(topic);
    if (set === undefined) return;
    for (const h of set) h.reader.offer(queueId, offset, message);
  }

  private unindex(h: ReaderHandle): void {
    const set = this.byTopic.get(h.topic);
    if (!set) return;
    set.delete(h);
    if (set.size === 0) this.byTopic.delete(h.topic);
  }

  /** Moves a rejected message to its address's dead-letter queue (`$dlq/<address>`). */
  private async deadLetter(address: AmqpAddress, e: Entry, condition: string | undefined, description: string | undefined): Promise<void> {
    if (address.kind === 'dlq') {
      // Nothing is below a dead-letter queue: a message rejected there is dropped.
      this.log.warn({ address: address.address, offset: e.offset, condition }, 'amqp: message rejected from a dead-letter queue is dropped');
      return;
    }
    const m = e.message;
    const props = new Map(m.properties);
    props.delete(PropertyKey.INNER_MULTI_DISPATCH);
    props.delete(PropertyKey.INNER_MULTI_QUEUE_OFFSET);
    props.set(PropertyKey.DLQ_ORIGIN_TOPIC, m.topic);
    props.set(PropertyKey.DLQ_ORIGIN_MESSAGE_ID, m.msgId);
    if (condition) props.set('amqpRejectCondition', condition);
    if (description) props.set('amqpRejectDescription', description.replace(/[\u0001\u0002]/g, ' '));
    await this.broker.sender.send({ producerGroup: 'AMQP', topic: deadLetterTopicOf(address.address), queueId: 0, properties: props, body: m.body, sysFlag: m.sysFlag, bornTimestamp: m.bornTimestamp });
    this.counters.deadLettered++;
  }
}
