import { BrokerError, parseSubscription, type Heartbeat, type Subscription, type ConsumeType, type MessageModel } from '@apogee/broker';
import { javaStringHashCode } from '@apogee/message';

const CONSUME_TYPES = new Set(['CONSUME_ACTIVELY', 'CONSUME_PASSIVELY', 'CONSUME_POP']);

/** Parses a HeartbeatData body (facts §2.2); throws with a clear message when it is not one. */
export function parseHeartbeat(body: Buffer | undefined): Heartbeat {
  if (!body || body.length === 0) throw new BrokerError('INVALID_PARAMETER', 'HEART_BEAT without a HeartbeatData body');
  let doc: any;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new BrokerError('INVALID_PARAMETER', `HeartbeatData is not JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || typeof doc.clientID !== 'string') throw new BrokerError('INVALID_PARAMETER', 'HeartbeatData has no clientID');
  const producers = Array.isArray(doc.producerDataSet) ? doc.producerDataSet : [];
  const consumers = Array.isArray(doc.consumerDataSet) ? doc.consumerDataSet : [];
  return {
    clientId: doc.clientID,
    producerGroups: producers.map((p: any) => String(p?.groupName ?? '')).filter((g: string) => g.length > 0),
    consumers: consumers
      .filter((c: any) => typeof c?.groupName === 'string' && c.groupName.length > 0)
      .map((c: any) => ({
        group: c.groupName as string,
        consumeType: (CONSUME_TYPES.has(c.consumeType) ? c.consumeType : 'CONSUME_PASSIVELY') as ConsumeType,
        messageModel: (c.messageModel === 'BROADCASTING' ? 'BROADCASTING' : 'CLUSTERING') as MessageModel,
        consumeFromWhere: typeof c.consumeFromWhere === 'string' ? c.consumeFromWhere : 'CONSUME_FROM_LAST_OFFSET',
        subscriptions: (Array.isArray(c.subscriptionDataSet) ? c.subscriptionDataSet : []).filter((s: any) => typeof s?.topic === 'string').map(subscriptionOf),
      })),
  };
}

/**
 * A heartbeat's SubscriptionData. An SQL92 expression is compiled here, once per heartbeat's
 * version; one that does not compile is kept with its error, which pulls by it are answered with
 * (the heartbeat itself succeeds, as RocketMQ's does). Other types are kept as given.
 */
function subscriptionOf(s: any): Subscription {
  const subVersion = Number(s.subVersion) || Date.now();
  const type = typeof s.expressionType === 'string' ? s.expressionType.toUpperCase() : 'TAG';
  const subString = typeof s.subString === 'string' ? s.subString : '';
  if (type === 'TAG') return parseSubscription(s.topic, subString || '*', 'TAG', subVersion);
  if (type === 'SQL92') {
    try {
      return parseSubscription(s.topic, subString, 'SQL92', subVersion);
    } catch (err) {
      return { topic: s.topic, subString, expressionType: 'SQL92', tagsSet: [], codeSet: [], subVersion, parseError: (err as Error).message };
    }
  }
  const tagsSet: string[] = Array.isArray(s.tagsSet) ? s.tagsSet.map(String) : [];
  return {
    topic: s.topic,
    subString,
    expressionType: 'SQL92',
    tagsSet,
    codeSet: tagsSet.map(javaStringHashCode),
    subVersion,
    parseError: `unknown expression type ${JSON.stringify(s.expressionType)}`,
  };
}
