import { type Appended, type Engine, type SendRequest, type TopicFilterRegistry, topicConfigOf } from '@apogee/broker';
import { type FrozenProperties, type HostAddress, PropertyKey, UniqueIdGenerator, javaStringHashCode } from '@apogee/message';
import type { IPublishPacket } from 'mqtt-packet';
import type { MqttConfig } from '../config.js';
import { putTimerProperties } from './timer-properties.js';
import { putV5Properties } from './v5-properties.js';
import { MQTT_TAG, storeTopicOf, TopicProperty } from '@apogee/topics';

export interface PublishInput {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  clientId: string;
  bornHost?: HostAddress;
  /** MQTT 5 PUBLISH properties to keep with the message. */
  v5?: IPublishPacket['properties'];
  /**
   * UNIQ_KEY to store under (QoS 2 dedup across crashes); a QoS 2 publish without one gets a fresh
   * key. QoS 0/1 messages carry none: nothing looks them up by it, and indexing a key per message
   * is a cost on the hot path (native consumers see the offset message id instead).
   */
  uniqKey?: string;
}

/**
 * Stores an MQTT publish once, under its first level's store topic, dispatched into the LMQ of
 * every registered filter that matches it and of the topic itself (rocketmq-mqtt's scheme).
 */
/** Where a publish on one MQTT topic goes, cached per topic while the registered filters stay the same. */
interface TopicRoute {
  storeTopic: string;
  queueId: number;
  /** INNER_MULTI_DISPATCH value: the LMQs, comma-separated. */
  dispatch: string;
  /** The same LMQs, in the same order (the store's lmqOffsets follow it). */
  lmqs: string[];
  /** The filter registry's version the dispatch was computed at. */
  version: number;
  /**
   * Properties of plain publishes (no v5 properties, no UNIQ_KEY) by QoS × retain, for the last
   * client seen publishing that way: frozen from its second publish on and sent with every
   * message after, so they are neither built nor serialised per message.
   */
  frozen: Array<FrozenSlot | undefined>;
}

interface FrozenSlot {
  clientId: string;
  /** null after the first publish: a topic published to once is not worth freezing for. */
  props: FrozenProperties | null;
}

/** mqttQos property values by QoS. */
const QOS_TEXT = ['0', '1', '2'];

/** Topics whose route is cached at most (the cache starts over when full). */
const ROUTE_CACHE_TOPICS = 100_000;

export class Publisher {
  private readonly ids = new UniqueIdGenerator();
  private readonly knownTopics = new Set<string>();
  private readonly filters: TopicFilterRegistry;
  private readonly routes = new Map<string, TopicRoute>();
  /** Store topics being created, with the creation every publish meanwhile waits for. */
  private readonly creating = new Map<string, Promise<void>>();

  constructor(
    private readonly engine: Engine,
    private readonly cfg: MqttConfig,
  ) {
    this.filters = engine.topicFilters;
  }

  /** Stores the publish; resolves to its commit-log offset. */
  publish(p: PublishInput): Promise<number> {
    const route = this.routeOf(p.topic);
    if (!this.knownTopics.has(route.storeTopic)) return this.ensureStoreTopic(route.storeTopic).then(() => this.put(p, route));
    return this.put(p, route);
  }

  /**
   * Stores a QoS 0/1 publish without a per-message promise: appended now, handed to caught-up
   * readers from memory by the engine, written shortly after (`engine.whenConfirmed` waits for
   * that). Null when it has to go through `publish` (QoS 2, a store topic not created yet).
   * Throws on refusal.
   */
  publishNow(p: PublishInput): Appended | null {
    if (p.qos === 2 || p.uniqKey !== undefined) return null;
    const route = this.routeOf(p.topic);
    if (!this.knownTopics.has(route.storeTopic)) return null;
    const req = this.request(p, route, Date.now(), undefined);
    const sent = this.engine.sendUnconfirmed(req);
    return sent === null ? null : sent.result;
  }

  private put(p: PublishInput, route: TopicRoute): Promise<number> {
    const uniqKey = p.uniqKey ?? (p.qos === 2 ? this.ids.next() : undefined);
    const req = this.request(p, route, Date.now(), uniqKey);
    // QoS 0/1 may reach subscribers before the write: a crash then loses a message its publisher
    // was never acknowledged for (it re-sends QoS 1). QoS 2 waits for the store: a re-sent copy
    // must never reach a subscriber that already had the first.
    return this.engine.send(req).then((r) => r.commitLogOffsets[0]!);
  }

  private request(p: PublishInput, route: TopicRoute, now: number, uniqKey: string | undefined): SendRequest {
    const props = uniqKey === undefined && !p.v5 ? this.plainProperties(p, route) : this.properties(p, route, uniqKey, now);
    const req: SendRequest = {
      producerGroup: 'GID_MQTT',
      topic: route.storeTopic,
      queueId: route.queueId,
      properties: props,
      body: p.payload,
      bornTimestamp: now,
      live: p.qos < 2,
      lmqs: route.lmqs,
    };
    if (p.bornHost) req.bornHost = p.bornHost;
    return req;
  }

  /** The message properties of a publish. */
  private properties(p: PublishInput, route: TopicRoute, uniqKey: string | undefined, now: number): Map<string, string> {
    const props = new Map<string, string>();
    props.set(PropertyKey.TAGS, MQTT_TAG);
    if (uniqKey !== undefined) props.set(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX, uniqKey);
    props.set(PropertyKey.INNER_MULTI_DISPATCH, route.dispatch);
    props.set(TopicProperty.TOPIC, p.topic);
    props.set(TopicProperty.QOS, QOS_TEXT[p.qos]!);
    props.set(TopicProperty.CLIENT_ID, p.clientId);
    if (p.retain) props.set(TopicProperty.RETAIN, 'true');
    if (p.v5) putV5Properties(props, p.v5, now);
    // A retained publish ignores timer properties: the retained message points at the stored
    // record, which must be the one in its real topic.
    if (p.v5 && !p.retain) putTimerProperties(props, p.v5.userProperties);
    return props;
  }

  /** The properties of a plain publish: the route's frozen ones when the same client published so before. */
  private plainProperties(p: PublishInput, route: TopicRoute): Map<string, string> {
    const i = (p.qos << 1) | (p.retain ? 1 : 0);
    const slot = route.frozen[i];
    if (slot === undefined || slot.clientId !== p.clientId) {
      route.frozen[i] = { clientId: p.clientId, props: null };
      return this.properties(p, route, undefined, 0);
    }
    return (slot.props ??= this.engine.freeze(this.properties(p, route, undefined, 0)));
  }

  /** Store topic, queue and LMQ list of `topic`; recomputed only when the filters changed. */
  private routeOf(topic: string): TopicRoute {
    const version = this.filters.version;
    let r = this.routes.get(topic);
    if (r !== undefined && r.version === version) return r;
    if (r === undefined) {
      if (this.routes.size >= ROUTE_CACHE_TOPICS) this.routes.clear();
      r = {
        storeTopic: storeTopicOf(topic),
        queueId: (javaStringHashCode(topic) >>> 0) % this.cfg.storeTopicQueues,
        dispatch: '',
        lmqs: [],
        version,
        frozen: [],
      };
      this.routes.set(topic, r);
    }
    r.lmqs = this.lmqsFor(topic);
    r.dispatch = r.lmqs.join(',');
    r.frozen = [];
    r.version = version;
    return r;
  }

  /** A fresh UNIQ_KEY. */
  newUniqKey(): string {
    return this.ids.next();
  }

  /** Was a message with this UNIQ_KEY stored for this MQTT topic (within the last `windowMs`)? */
  async wasStored(topic: string, uniqKey: string, windowMs = 7 * 24 * 3600_000): Promise<boolean> {
    const now = Date.now();
    const hits = await this.engine.findByUniqueKey(storeTopicOf(topic), uniqKey, now - windowMs, now + 60_000);
    return hits.length > 0;
  }

  /** The LMQs a message on `topic` goes into: the topic's own and every registered matching filter's. */
  lmqsFor(topic: string): string[] {
    return this.filters.lmqsFor(topic);
  }

  /** MQTT first levels need no declaration: their store topic is created on first publish. */
  /**
   * One creation per store topic; publishes that arrive meanwhile wait on the same promise, in
   * order, so the first messages of a new first level keep their publish order.
   */
  private ensureStoreTopic(topic: string): Promise<void> {
    let p = this.creating.get(topic);
    if (!p) {
      p = this.createStoreTopic(topic).finally(() => this.creating.delete(topic));
      this.creating.set(topic, p);
    }
    return p;
  }

  private async createStoreTopic(topic: string): Promise<void> {
    if (!this.engine.topics.get(topic)) {
      const n = this.cfg.storeTopicQueues;
      await this.engine.topics.createOrUpdate(topicConfigOf(topic, n));
    }
    this.knownTopics.add(topic);
  }
}
