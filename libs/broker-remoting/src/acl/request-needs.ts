import { MULTI_DISPATCH_SEPARATOR, PropertyKey, decodeBatchBody, decodeProperties } from '@apogee/message';
import { type RemotingCommand, RequestCode } from '@apogee/remoting';
import { TopicProperty } from '@apogee/topics';
import { parseHeartbeat } from '../headers/heartbeat-body.js';

/*
 * What each request code needs, as RocketMQ 4.9.7 PlainAccessValidator.parse decides it (facts
 * §8), over store topics and groups that the Authorizer maps to user-visible names:
 *   SEND_MESSAGE / V2 / BATCH   topic publish (a %RETRY% topic: the group), and for a message
 *                               carrying mqttTopic the MQTT publish right on it, for one
 *                               carrying INNER_MULTI_DISPATCH publish on each LMQ named
 *   CONSUMER_SEND_MSG_BACK      group
 *   PULL / LITE_PULL            topic read + group
 *   QUERY_MESSAGE               topic read
 *   HEART_BEAT                  each consumer group + each subscribed topic read
 *   UNREGISTER_CLIENT, GET_CONSUMER_LIST_BY_GROUP   group
 *   UPDATE/QUERY_CONSUMER_OFFSET                    topic read + group
 *   admin codes (RocketMQ's five, and VIEW_MESSAGE_BY_ID, which reads any message by offset)   admin
 * Other codes need only a valid signature (or anonymous access).
 */

export type AclNeed =
  { kind: 'topic'; topic: string; access: 'publish' | 'read' } | { kind: 'group'; group: string } | { kind: 'mqttPublish'; topic: string } | { kind: 'admin' };

/** RequestCode.UPDATE_BROKER_CONFIG (Apogee does not serve it; still admin-only, as in RocketMQ). */
const UPDATE_BROKER_CONFIG = 25;

/**
 * RocketMQ's Permission.ADMIN_CODE, plus VIEW_MESSAGE_BY_ID (a message by offset names no topic to
 * check first) and Apogee's open-transaction listing (it names messages of every topic).
 */
export const ADMIN_CODES: ReadonlySet<number> = new Set([
  RequestCode.UPDATE_AND_CREATE_TOPIC,
  UPDATE_BROKER_CONFIG,
  RequestCode.DELETE_TOPIC_IN_BROKER,
  RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
  RequestCode.DELETE_SUBSCRIPTIONGROUP,
  RequestCode.VIEW_MESSAGE_BY_ID,
  RequestCode.APOGEE_LIST_OPEN_TRANSACTIONS,
]);

const NONE: readonly AclNeed[] = [];
const MQTT_TOPIC_MARK = `${TopicProperty.TOPIC}\u0001`;
const DISPATCH_MARK = `${PropertyKey.INNER_MULTI_DISPATCH}\u0001`;

function field(req: RemotingCommand, name: string): string | undefined {
  const v = Object.hasOwn(req.extFields, name) ? req.extFields[name] : undefined;
  return v === undefined || v === '' ? undefined : v;
}

/** The MQTT and LMQ names a message's properties would deliver it to. */
function propertyNeeds(properties: string | undefined, out: AclNeed[]): void {
  // Most sends carry neither property: two substring tests, no decoding.
  if (properties === undefined || (!properties.includes(MQTT_TOPIC_MARK) && !properties.includes(DISPATCH_MARK))) return;
  const props = decodeProperties(properties);
  const mqttTopic = props.get(TopicProperty.TOPIC);
  if (mqttTopic !== undefined && mqttTopic !== null) out.push({ kind: 'mqttPublish', topic: mqttTopic });
  const dispatch = props.get(PropertyKey.INNER_MULTI_DISPATCH);
  if (dispatch) for (const lmq of dispatch.split(MULTI_DISPATCH_SEPARATOR)) if (lmq) out.push({ kind: 'topic', topic: lmq, access: 'publish' });
}

function sendNeeds(req: RemotingCommand, v2: boolean): AclNeed[] {
  const topic = field(req, v2 ? 'b' : 'topic');
  if (topic === undefined) return [];
  const out: AclNeed[] = [{ kind: 'topic', topic, access: 'publish' }];
  propertyNeeds(field(req, v2 ? 'i' : 'properties'), out);
  const batch = req.code === RequestCode.SEND_BATCH_MESSAGE || field(req, v2 ? 'm' : 'batch') === 'true';
  if (batch && req.body) {
    let items: ReturnType<typeof decodeBatchBody> = [];
    try {
      items = decodeBatchBody(req.body);
    } catch {
      // The send processor refuses a malformed batch itself.
    }
    for (const it of items) propertyNeeds(it.properties, out);
  }
  return out;
}

function groupAndTopic(req: RemotingCommand, groupField: string): AclNeed[] {
  const out: AclNeed[] = [];
  const topic = field(req, 'topic');
  const group = field(req, groupField);
  if (topic !== undefined) out.push({ kind: 'topic', topic, access: 'read' });
  if (group !== undefined) out.push({ kind: 'group', group });
  return out;
}

/** The needs of one request (table above). Throws for a heartbeat whose body is not HeartbeatData. */
export function needsOf(req: RemotingCommand): readonly AclNeed[] {
  switch (req.code) {
    case RequestCode.SEND_MESSAGE:
      return sendNeeds(req, false);
    case RequestCode.SEND_MESSAGE_V2:
    case RequestCode.SEND_BATCH_MESSAGE:
      return sendNeeds(req, true);
    case RequestCode.PULL_MESSAGE:
    case RequestCode.LITE_PULL_MESSAGE:
    case RequestCode.UPDATE_CONSUMER_OFFSET:
    case RequestCode.QUERY_CONSUMER_OFFSET:
      return groupAndTopic(req, 'consumerGroup');
    case RequestCode.QUERY_MESSAGE:
      return groupAndTopic(req, '');
    case RequestCode.CONSUMER_SEND_MSG_BACK: {
      const group = field(req, 'group');
      return group === undefined ? NONE : [{ kind: 'group', group }];
    }
    case RequestCode.UNREGISTER_CLIENT:
    case RequestCode.GET_CONSUMER_LIST_BY_GROUP: {
      const group = field(req, 'consumerGroup');
      return group === undefined ? NONE : [{ kind: 'group', group }];
    }
    case RequestCode.HEART_BEAT: {
      const out: AclNeed[] = [];
      for (const c of parseHeartbeat(req.body).consumers) {
        out.push({ kind: 'group', group: c.group });
        for (const s of c.subscriptions) out.push({ kind: 'topic', topic: s.topic, access: 'read' });
      }
      return out;
    }
    default:
      return ADMIN_CODES.has(req.code) ? [{ kind: 'admin' }] : NONE;
  }
}
