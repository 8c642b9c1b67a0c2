import { randomUUID } from 'node:crypto';
import { type Engine, type Entry, resendProperties, GroupReader, topicConfigOf, type Logger, type ReadMessage, type TopicConfig } from '@apogee/broker';
import { DLQ_GROUP_TOPIC_PREFIX, PropertyKey } from '@apogee/message';
import { type AmqpAddress, deadLetterTopicOf } from './address.js';
import type { AmqpConfig } from './config.js';
import { fitRocketName, TopicProperty } from '@apogee/topics';

/** Prefixes of the consumer groups of topic subscriptions (durable: named by container id and link name). */
const DURABLE_SUB_PREFIX = 'AMQP_SUB_';
const VOLATILE_SUB_PREFIX = 'AMQP_TMP_';

/** A reader shared by the links that consume the same thing. */
export interface ReaderHandle {
  readonly key: string;
  readonly reader: GroupReader;
  readonly durable: boolean;
  /** The queue it reads: a store topic, or (topic addresses) the LMQ of the filter. */
  readonly topic: string;
  /** Lets go of what the reader holds in the engine's filter registry (topic addresses). */
  readonly unregister: (forget: boolean) => Promise<void>;
  refs: number;
}

/** A topic subscription's filter in the engine's registry. */
interface RegisteredFilter {
  /** Resolves once a durable subscription's filter is on disk. */
  readonly durable: Promise<void>;
  readonly release: (forget: boolean) => Promise<void>;
}

const NOT_REGISTERED: RegisteredFilter = { durable: Promise.resolve(), release: async () => {} };

/** The engine's durable filter holder of an AMQP durable subscription group. */
export const subscriptionHolderOf = (group: string): string => `amqp:${group}`;

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
 * The GroupReaders of the gateway: one per queue address (its consumers compete), one per durable
 * topic subscription (shared by links attaching with the same container id and name), one per
 * non-durable subscription link. A topic subscription reads its filter's LMQ, as an MQTT
 * subscription does: its filter is registered in the engine (durably for a durable one), so
 * messages sent on matching topics over any endpoint are dispatched into it. Creates store
 * topics on first use when autoCreate is on.
 */
export class Readers {
  private readonly handles = new Map<string, Promise<ReaderHandle>>();

  constructor(
    private readonly broker: Engine,
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
    return topics.createOrUpdate(topicConfigOf(address.storeTopic, n));
  }

  /** Takes a reference on the reader for a request (opening it on first use); `topic` is the store topic's config (null for topic addresses, which read an LMQ). */
  async acquire(req: ReaderRequest, topic: TopicConfig | null): Promise<ReaderHandle> {
    const { address } = req;
    let group: string;
    let durable = true;
    let accept: ((m: ReadMessage) => boolean) | undefined;
    let queue = address.storeTopic;
    let queueCount = topic?.readQueueNums ?? 1;
    if (address.kind === 'topic') {
      // The filter's LMQ holds exactly the messages on matching topics; the principal's read
      // permission is checked per message (an ACL may be narrower than the filter).
      accept = (m) => req.canRead(m.properties.get(TopicProperty.TOPIC) ?? m.topic);
      queue = this.broker.topicFilters.lmq(address.name);
      queueCount = 1;
      if (req.subscription) group = fitRocketName(DURABLE_SUB_PREFIX, `${req.subscription.containerId}/${req.subscription.linkName}`, 255);
      else {
        group = VOLATILE_SUB_PREFIX + randomUUID().replace(/-/g, '');
        durable = false;
      }
    } else group = address.group;
    const key = `${group}\u0000${queue}`;
    let p = this.handles.get(key);
    if (!p) {
      const open = async (): Promise<ReaderHandle> => {
        // The filter is registered (synchronously) before the reader takes its start position,
        // also synchronously, in open(): nothing sent after the position is missed.
        const registered = address.kind === 'topic' ? this.registerFilter(address.name, group, durable) : NOT_REGISTERED;
        const unregister = registered.release;
        const reader = new GroupReader({
          engine: this.broker,
          group,
          topic: queue,
          queueCount,
          readBatch: this.cfg.readBatch,
          start: address.kind === 'topic' ? 'newest' : 'oldest',
          durable,
          accept,
          deadLetter: (e, condition, description) => this.deadLetter(address, e, condition, description),
          onError: (err) => this.log.warn({ address: address.address, err: (err as Error).message }, 'amqp: delivery error'),
        });
        try {
          await Promise.all([reader.open(), registered.durable]);
        } catch (err) {
          await unregister(false).catch(() => {});
          throw err;
        }
        return { key, reader, durable, refs: 0, topic: queue, unregister };
      };
      p = open();
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
    if (forget || !h.durable) await h.reader.destroy();
    else await h.reader.close();
    await h.unregister(forget);
  }

  /**
   * Registers a topic subscription's filter in the engine, at once: a durable subscription as a
   * durable holder (its filter keeps receiving while no link is attached, across restarts, until
   * the subscription is closed for good; `durable` resolves once that is on disk), a volatile one
   * as a live reference. `release` undoes it.
   */
  private registerFilter(filter: string, group: string, durable: boolean): RegisteredFilter {
    const filters = this.broker.topicFilters;
    filters.add(filter);
    if (!durable) return { durable: Promise.resolve(), release: async () => void filters.remove(filter) };
    const holder = subscriptionHolderOf(group);
    return {
      durable: filters.hold(holder, { filters: [filter], expirySeconds: -1, disconnectedAt: 0 }),
      release: async (forget) => {
        filters.remove(filter);
        if (forget) await filters.release(holder);
      },
    };
  }

  /** Closes every reader, committing positions. */
  async closeAll(): Promise<void> {
    const all = await Promise.allSettled([...this.handles.values()]);
    this.handles.clear();
    // Positions are committed only up to what is written: write everything first, so a clean
    // shutdown commits every accepted message.
    await this.broker.flush().catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'amqp: store flush before closing readers failed'));
    await Promise.all(
      all.map((r) =>
        r.status === 'fulfilled' ? (r.value.durable ? r.value.reader.close() : r.value.reader.destroy()).then(() => r.value.unregister(false)) : undefined,
      ),
    );
  }

  /** Moves a rejected message to its address's dead-letter queue (`$dlq/<address>`). */
  private async deadLetter(address: AmqpAddress, e: Entry, condition: string | undefined, description: string | undefined): Promise<void> {
    if (address.kind === 'dlq') {
      // Nothing is below a dead-letter queue: a message rejected there is dropped.
      this.log.warn({ address: address.address, offset: e.offset, condition }, 'amqp: message rejected from a dead-letter queue is dropped');
      return;
    }
    const m = e.message;
    const props = resendProperties(m.properties);
    props.set(PropertyKey.DLQ_ORIGIN_TOPIC, m.topic);
    props.set(PropertyKey.DLQ_ORIGIN_MESSAGE_ID, m.msgId);
    if (condition) props.set('amqpRejectCondition', condition);
    if (description) props.set('amqpRejectDescription', description.replace(/[\u0001\u0002]/g, ' '));
    await this.broker.send({
      producerGroup: 'AMQP',
      topic: deadLetterTopicOf(address.address),
      queueId: 0,
      properties: props,
      body: m.body,
      sysFlag: m.sysFlag,
      bornTimestamp: m.bornTimestamp,
    });
    this.counters.deadLettered++;
  }
}
