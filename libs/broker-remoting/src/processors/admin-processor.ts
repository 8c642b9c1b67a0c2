import { type TopicConfig, topicQueueStats } from '@apogee/broker';
import { DEFAULT_TOPIC_FILTER_TYPE, isTopicFilterType } from '@apogee/message';
import { ResponseCode, optionalBool, optionalInt, optionalString, requireInt, requireString, responseTo } from '@apogee/remoting';
import { jsonBody, type Processor } from './context.js';

/** UPDATE_AND_CREATE_TOPIC (17). */
export const updateAndCreateTopic: Processor = async (ctx, req) => {
  const e = req.extFields;
  const filterType = optionalString(e, 'topicFilterType');
  const config: TopicConfig = {
    topicName: requireString(e, 'topic'),
    readQueueNums: requireInt(e, 'readQueueNums'),
    writeQueueNums: requireInt(e, 'writeQueueNums'),
    perm: requireInt(e, 'perm'),
    topicFilterType: isTopicFilterType(filterType) ? filterType : DEFAULT_TOPIC_FILTER_TYPE,
    topicSysFlag: optionalInt(e, 'topicSysFlag') ?? 0,
    order: optionalBool(e, 'order') ?? false,
    attributes: {},
  };
  await ctx.broker.topics.createOrUpdate(config);
  return responseTo(req, ResponseCode.SUCCESS);
};

/** DELETE_TOPIC_IN_BROKER (215). */
export const deleteTopicInBroker: Processor = async (ctx, req) => {
  await ctx.broker.topics.delete(requireString(req.extFields, 'topic'));
  return responseTo(req, ResponseCode.SUCCESS);
};

/** GET_ALL_TOPIC_CONFIG (21): `{"topicConfigTable":{…},"dataVersion":{…}}`. */
export const getAllTopicConfig: Processor = (ctx, req) => {
  const table = Object.fromEntries(ctx.broker.topics.list().map((t) => [t.topicName, t]));
  return responseTo(req, ResponseCode.SUCCESS, undefined, {}, jsonBody({ topicConfigTable: table, dataVersion: ctx.broker.topics.dataVersion }));
};

/**
 * A MessageQueue as a JSON map key. Java's fastjson writes object keys unquoted, which is not
 * JSON; Apogee writes the queue's JSON as a string key instead (documented in docs/remoting.md).
 */
const mqKey = (topic: string, brokerName: string, queueId: number): string => JSON.stringify({ topic, brokerName, queueId });

/** GET_TOPIC_STATS_INFO (202): per-queue min/max offsets and last store time. */
export const getTopicStatsInfo: Processor = async (ctx, req) => {
  const topic = requireString(req.extFields, 'topic');
  const cfg = ctx.broker.topics.get(topic);
  if (!cfg) return responseTo(req, ResponseCode.TOPIC_NOT_EXIST, `topic ${topic} does not exist`);
  const offsetTable: Record<string, unknown> = {};
  for (const q of await topicQueueStats(ctx.broker, cfg)) {
    offsetTable[mqKey(topic, ctx.broker.config.brokerName, q.queueId)] = {
      minOffset: q.minOffset,
      maxOffset: q.maxOffset,
      lastUpdateTimestamp: q.lastStoreTimestamp,
    };
  }
  return responseTo(req, ResponseCode.SUCCESS, undefined, {}, jsonBody({ offsetTable }));
};

/** GET_CONSUME_STATS (208): per-queue broker and consumer offsets of a group (optionally one topic). */
export const getConsumeStats: Processor = (ctx, req) => {
  const group = requireString(req.extFields, 'consumerGroup');
  const topic = optionalString(req.extFields, 'topic');
  const offsetTable: Record<string, unknown> = {};
  for (const p of ctx.broker.groupProgress(group, topic || undefined)) {
    offsetTable[mqKey(p.topic, ctx.broker.config.brokerName, p.queueId)] = { brokerOffset: p.brokerOffset, consumerOffset: p.consumerOffset, lastTimestamp: 0 };
  }
  return responseTo(req, ResponseCode.SUCCESS, undefined, {}, jsonBody({ offsetTable, consumeTps: 0 }));
};

/** GET_CONSUMER_CONNECTION_LIST (203): the group's live connections and subscriptions. */
export const getConsumerConnectionList: Processor = (ctx, req) => {
  const group = requireString(req.extFields, 'consumerGroup');
  const g = ctx.broker.consumers.get(group);
  if (!g) return responseTo(req, ResponseCode.CONSUMER_NOT_ONLINE, `consumer group ${group} has no connected member`);
  return responseTo(
    req,
    ResponseCode.SUCCESS,
    undefined,
    {},
    jsonBody({
      connectionSet: [...g.connections.values()].map((c) => ({
        clientId: c.clientId,
        clientAddr: c.channel.remoteAddress,
        language: c.language,
        version: c.version,
      })),
      subscriptionTable: Object.fromEntries(g.subscriptions),
      consumeType: g.consumeType,
      messageModel: g.messageModel,
      consumeFromWhere: g.consumeFromWhere,
    }),
  );
};

/** QUERY_TOPIC_CONSUME_BY_WHO (300): groups subscribed to, or with offsets on, a topic. */
export const queryTopicConsumeByWho: Processor = (ctx, req) => {
  const topic = requireString(req.extFields, 'topic');
  return responseTo(req, ResponseCode.SUCCESS, undefined, {}, jsonBody({ groupList: ctx.broker.groupsConsuming(topic) }));
};

/** UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200): body = SubscriptionGroupConfig JSON. */
export const updateAndCreateSubscriptionGroup: Processor = async (ctx, req) => {
  let doc: any;
  try {
    doc = JSON.parse((req.body ?? Buffer.alloc(0)).toString('utf8'));
  } catch {
    return responseTo(req, ResponseCode.SYSTEM_ERROR, 'SubscriptionGroupConfig body is not JSON');
  }
  if (typeof doc?.groupName !== 'string') return responseTo(req, ResponseCode.SYSTEM_ERROR, 'SubscriptionGroupConfig needs groupName');
  const update: Record<string, unknown> = { groupName: doc.groupName };
  for (const k of ['consumeEnable', 'consumeBroadcastEnable', 'notifyConsumerIdsChangedEnable']) if (typeof doc[k] === 'boolean') update[k] = doc[k];
  for (const k of ['retryQueueNums', 'retryMaxTimes']) if (doc[k] !== undefined) update[k] = Number(doc[k]);
  await ctx.broker.groups.createOrUpdate(update as { groupName: string });
  return responseTo(req, ResponseCode.SUCCESS);
};

/** GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201). */
export const getAllSubscriptionGroupConfig: Processor = (ctx, req) =>
  responseTo(
    req,
    ResponseCode.SUCCESS,
    undefined,
    {},
    jsonBody({ subscriptionGroupTable: Object.fromEntries(ctx.broker.groups.list().map((g) => [g.groupName, g])), dataVersion: ctx.broker.topics.dataVersion }),
  );

/** DELETE_SUBSCRIPTIONGROUP (207). */
export const deleteSubscriptionGroup: Processor = async (ctx, req) => {
  const group = requireString(req.extFields, 'groupName');
  await ctx.broker.groups.delete(group);
  if (optionalBool(req.extFields, 'cleanOffset')) await ctx.broker.deleteOffsets(group);
  return responseTo(req, ResponseCode.SUCCESS);
};

/**
 * GET_BROKER_RUNTIME_INFO (28): `{"table":{…}}` of figures as strings. `extra` (the service's
 * runtimeInfoExtra: the HA fields of a replicated group's broker — brokerRole, masterEpoch, …) is
 * merged in; it may not replace the broker's own figures, and a provider that throws leaves them
 * out (the rest of the table still answers).
 */
export function getBrokerRuntimeInfo(extra?: () => Readonly<Record<string, string>>): Processor {
  return (ctx, req) => {
    const s = ctx.broker.storeStats();
    const m = ctx.broker.metrics;
    const own: Record<string, string> = {
      brokerVersionDesc: 'Apogee',
      commitLogMinOffset: String(s.minCommitLogOffset),
      commitLogMaxOffset: String(s.maxCommitLogOffset),
      commitLogFlushedOffset: String(s.flushedCommitLogOffset),
      putMessageTimesTotal: String(s.putMessages),
      putMessageSizeTotal: String(s.putBytes),
      sendRequests: String(m.sendRequests),
      pullRequests: String(m.pullRequests),
      pullsWaiting: String(m.pullsWaiting),
      putsInFlight: String(m.putsInFlight),
      refusals: JSON.stringify(m.refusals),
    };
    const table: Record<string, string> = {};
    let added: Readonly<Record<string, string>> = {};
    try {
      added = extra?.() ?? {};
    } catch (err) {
      table['runtimeInfoError'] = `the replication figures could not be read: ${err instanceof Error ? err.message : String(err)}`;
    }
    for (const [k, v] of Object.entries(added)) if (typeof v === 'string' && !(k in own)) table[k] = v;
    Object.assign(table, own);
    return responseTo(req, ResponseCode.SUCCESS, undefined, {}, jsonBody({ table }));
  };
}
