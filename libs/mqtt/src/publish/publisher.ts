import type { Broker } from '@apogee/broker';
import { type HostAddress, PropertyKey, UniqueIdGenerator, javaStringHashCode } from '@apogee/message';
import type { IPublishPacket } from 'mqtt-packet';
import type { MqttConfig } from '../config.js';
import type { FilterTrie } from '../topic/filter-trie.js';
import { lmqOf } from '../topic/lmq.js';
import { storeTopicOf } from '../topic/store-topic.js';
import { MQTT_TAG, MqttProperty } from './message-properties.js';
import { putV5Properties } from './v5-properties.js';

export interface PublishInput {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  clientId: string;
  bornHost?: HostAddress;
  /** MQTT 5 PUBLISH properties to keep with the message. */
  v5?: IPublishPacket['properties'];
  /** UNIQ_KEY to store under (QoS 2 dedup across crashes); fresh when absent. */
  uniqKey?: string;
}

/**
 * Stores an MQTT publish once, under its first level's store topic, dispatched into the LMQ of
 * every registered filter that matches it and of the topic itself (rocketmq-mqtt's scheme).
 */
export class Publisher {
  private readonly ids = new UniqueIdGenerator();
  private readonly knownTopics = new Set<string>();
  private readonly lmqCache = new Map<string, string>();

  constructor(
    private readonly broker: Broker,
    private readonly filters: FilterTrie,
    private readonly cfg: MqttConfig,
  ) {}

  /** Stores the publish; resolves to its commit-log offset. */
  async publish(p: PublishInput): Promise<number> {
    const storeTopic = storeTopicOf(p.topic);
    await this.ensureStoreTopic(storeTopic);
    const lmqs = this.lmqsFor(p.topic);
    const props = new Map<string, string>([
      [PropertyKey.TAGS, MQTT_TAG],
      [PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX, p.uniqKey ?? this.ids.next()],
      [PropertyKey.INNER_MULTI_DISPATCH, lmqs.join(',')],
      [MqttProperty.TOPIC, p.topic],
      [MqttProperty.QOS, String(p.qos)],
      [MqttProperty.CLIENT_ID, p.clientId],
    ]);
    if (p.retain) props.set(MqttProperty.RETAIN, 'true');
    putV5Properties(props, p.v5, Date.now());
    const queueId = (javaStringHashCode(p.topic) >>> 0) % this.cfg.storeTopicQueues;
    const req = { producerGroup: 'GID_MQTT', topic: storeTopic, queueId, properties: props, body: p.payload, bornTimestamp: Date.now() };
    const r = await this.broker.sender.send(p.bornHost ? { ...req, bornHost: p.bornHost } : req);
    return r.commitLogOffsets[0]!;
  }

  /** The LMQs a message on `topic` goes into: the topic's own and every registered matching filter's. */
  /** A fresh UNIQ_KEY. */
  newUniqKey(): string {
    return this.ids.next();
  }

  /** Was a message with this UNIQ_KEY stored for this MQTT topic (within the last `windowMs`)? */
  async wasStored(topic: string, uniqKey: string, windowMs = 7 * 24 * 3600_000): Promise<boolean> {
    const now = Date.now();
    const hits = await this.broker.store.queryByUniqueKey(storeTopicOf(topic), uniqKey, now - windowMs, now + 60_000);
    return hits.length > 0;
  }

  lmqsFor(topic: string): string[] {
    const lmqs = new Set<string>([this.lmq(topic)]);
    for (const f of this.filters.match(topic)) lmqs.add(this.lmq(f));
    return [...lmqs];
  }

  private lmq(filterOrTopic: string): string {
    let l = this.lmqCache.get(filterOrTopic);
    if (l === undefined) {
      l = lmqOf(filterOrTopic);
      if (this.lmqCache.size > 100_000) this.lmqCache.clear();
      this.lmqCache.set(filterOrTopic, l);
    }
    return l;
  }

  /** MQTT first levels need no declaration: their store topic is created on first publish. */
  private async ensureStoreTopic(topic: string): Promise<void> {
    if (this.knownTopics.has(topic)) return;
    if (!this.broker.topics.get(topic)) {
      const n = this.cfg.storeTopicQueues;
      await this.broker.topics.createOrUpdate({ topicName: topic, readQueueNums: n, writeQueueNums: n, perm: 6, topicFilterType: 'SINGLE_TAG', topicSysFlag: 0, order: false, attributes: {} });
    }
    this.knownTopics.add(topic);
  }
}
