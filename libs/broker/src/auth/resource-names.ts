import { DLQ_GROUP_TOPIC_PREFIX, LMQ_PREFIX, RETRY_GROUP_TOPIC_PREFIX, TRACE_TOPIC, hasSystemTopicPrefixIgnoringCase, SYSTEM_TOPICS } from '@apogee/message';
import { ESCAPED_STORE_TOPIC_PREFIX, SHARE_GROUP_PREFIX, filterOfLmq, unescapeRocketName } from '@apogee/topics';

/*
 * What a store topic or consumer group is in user-visible names, so one rule over those names
 * decides a raw remoting request too (docs/security.md). Names are MQTT topics / filters and AMQP
 * queue addresses (one name space: queue `bob/inbox` is checked like topic `bob/inbox`).
 *
 *   store topic                 publish needs (covering)   read needs (covering)
 *   T (plain)                   T (AMQP queue T)           T/# (queue T, MQTT T and T/…)
 *   MQTT_<escape of level L>    L/#                        L/#
 *   AMQP_<escape of queue q>    q                          q
 *   %LMQ%<levels of filter f>   f                          f
 *   %RETRY%g, %DLQ%g            the group g                the group g
 *   RMQ_SYS_TRACE_TOPIC         allowed (as in RocketMQ)   reserved
 *   any other %…, system topic  reserved: admin accounts only
 *
 *   consumer group              needs
 *   AMQP_DLQ_<escape of a>      read of `$dlq/a`, i.e. of a (below) — and of queue `DLQ_…`, the
 *                               other reading of the same characters
 *   AMQP_SUB_…, AMQP_TMP_…      reserved (AMQP subscriptions)
 *   AMQP_<escape of a>          read of a: queue a, and for `topic/x` also MQTT x
 *   %LMQ%…, %MQTTSHARE%…        reserved (MQTT sessions and shared subscriptions)
 *   anything else               the user's group rules
 * A name that does not decode (a hash-shortened one) is reserved.
 */

/** AMQP's internal prefixes (libs/amqp address.ts and readers.ts; an AMQP spec checks they agree). */
export const AMQP_QUEUE_PREFIX = 'AMQP_';
export const AMQP_DLQ_GROUP_PREFIX = 'AMQP_DLQ_';
export const AMQP_RESERVED_GROUP_PREFIXES = ['AMQP_SUB_', 'AMQP_TMP_'] as const;
/** AMQP's default topic-address prefix: an internal AMQP name starting so may mean MQTT topic x. */
const AMQP_TOPIC_ADDRESS_PREFIX = 'topic/';

/** A store topic or group in user-visible terms: names that must all be allowed, a group, or reserved. */
export type TopicResource = { kind: 'names'; publish: string[]; read: string[] } | { kind: 'group'; group: string } | { kind: 'reserved' } | { kind: 'trace' };
export type GroupResource = { kind: 'names'; read: string[] } | { kind: 'plain'; group: string } | { kind: 'reserved' };

const RESERVED = { kind: 'reserved' } as const;

/** The names an AMQP address decodes to: the queue itself, and for a topic address also the MQTT topic. */
function addressNames(address: string): string[] {
  return address.startsWith(AMQP_TOPIC_ADDRESS_PREFIX) && address.length > AMQP_TOPIC_ADDRESS_PREFIX.length
    ? [address, address.slice(AMQP_TOPIC_ADDRESS_PREFIX.length)]
    : [address];
}

/** The user-visible names of a store topic (table above). */
export function topicResourceOf(storeTopic: string): TopicResource {
  if (storeTopic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) return { kind: 'group', group: storeTopic.slice(RETRY_GROUP_TOPIC_PREFIX.length) };
  if (storeTopic.startsWith(DLQ_GROUP_TOPIC_PREFIX)) return { kind: 'group', group: storeTopic.slice(DLQ_GROUP_TOPIC_PREFIX.length) };
  if (storeTopic.startsWith(LMQ_PREFIX)) {
    const f = filterOfLmq(storeTopic);
    return f === undefined ? RESERVED : { kind: 'names', publish: [f], read: [f] };
  }
  if (storeTopic === TRACE_TOPIC) return { kind: 'trace' };
  if (storeTopic.startsWith('%') || hasSystemTopicPrefixIgnoringCase(storeTopic) || SYSTEM_TOPICS.has(storeTopic)) return RESERVED;
  if (storeTopic.startsWith(ESCAPED_STORE_TOPIC_PREFIX)) {
    const level = unescapeRocketName(storeTopic.slice(ESCAPED_STORE_TOPIC_PREFIX.length));
    return level === undefined ? RESERVED : { kind: 'names', publish: [`${level}/#`], read: [`${level}/#`] };
  }
  if (storeTopic.startsWith(AMQP_QUEUE_PREFIX)) {
    const q = unescapeRocketName(storeTopic.slice(AMQP_QUEUE_PREFIX.length));
    return q === undefined ? RESERVED : { kind: 'names', publish: [q], read: [q] };
  }
  return { kind: 'names', publish: [storeTopic], read: [`${storeTopic}/#`] };
}

/** The user-visible names a consumer group stands for (table above). */
export function groupResourceOf(group: string): GroupResource {
  if (group.startsWith(LMQ_PREFIX) || group.startsWith(SHARE_GROUP_PREFIX)) return RESERVED;
  if (AMQP_RESERVED_GROUP_PREFIXES.some((p) => group.startsWith(p))) return RESERVED;
  if (group.startsWith(AMQP_DLQ_GROUP_PREFIX)) {
    const of = unescapeRocketName(group.slice(AMQP_DLQ_GROUP_PREFIX.length));
    const asQueue = unescapeRocketName(group.slice(AMQP_QUEUE_PREFIX.length));
    if (of === undefined) return RESERVED;
    return { kind: 'names', read: [...addressNames(of), ...(asQueue === undefined ? [] : addressNames(asQueue))] };
  }
  if (group.startsWith(AMQP_QUEUE_PREFIX)) {
    const a = unescapeRocketName(group.slice(AMQP_QUEUE_PREFIX.length));
    return a === undefined ? RESERVED : { kind: 'names', read: addressNames(a) };
  }
  return { kind: 'plain', group };
}
