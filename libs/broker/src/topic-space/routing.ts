import { PropertyKey } from '@apogee/message';
import { TopicProperty, validateMqttTopicName } from '@apogee/topics';
import type { TopicFilters } from './topic-filters.js';

interface Route {
  version: number;
  lmqs: string[];
  dispatch: string;
}

/** Topics whose route is cached at most (the cache starts over when full). */
const ROUTE_CACHE_TOPICS = 100_000;

/**
 * Dispatch of the topic space in the engine's send path: a message carrying a topic
 * (TopicProperty.TOPIC) and no INNER_MULTI_DISPATCH of its own — sent over AMQP `topic/…`, over
 * remoting with the topic property, or by any other endpoint — is dispatched into the LMQ of its
 * topic and of every registered matching filter, so it reaches every matching subscription
 * whichever endpoints run in the process. A property that is not a valid topic name leaves the
 * message to native consumers of its store topic.
 */
export class TopicSpaceRouting {
  private readonly routes = new Map<string, Route>();

  constructor(private readonly filters: TopicFilters) {}

  /** Sets INNER_MULTI_DISPATCH (and a default QoS) when the message belongs to the topic space; returns its LMQs in dispatch order, or null. */
  route(properties: Map<string, string>): readonly string[] | null {
    const topic = properties.get(TopicProperty.TOPIC);
    if (topic === undefined || properties.has(PropertyKey.INNER_MULTI_DISPATCH)) return null;
    const r = this.routeOf(topic);
    if (r === null) return null;
    properties.set(PropertyKey.INNER_MULTI_DISPATCH, r.dispatch);
    if (!properties.has(TopicProperty.QOS)) properties.set(TopicProperty.QOS, '1');
    return r.lmqs;
  }

  private routeOf(topic: string): Route | null {
    const version = this.filters.version;
    const cached = this.routes.get(topic);
    if (cached !== undefined && cached.version === version) return cached;
    try {
      validateMqttTopicName(topic, this.filters.limits);
    } catch {
      return null; // not a topic of the topic space: stored for native consumers only
    }
    const lmqs = this.filters.lmqsFor(topic);
    const r: Route = { version, lmqs, dispatch: lmqs.join(',') };
    if (cached === undefined && this.routes.size >= ROUTE_CACHE_TOPICS) this.routes.clear();
    this.routes.set(topic, r);
    return r;
  }
}
