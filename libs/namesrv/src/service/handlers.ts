import {
  type Connection,
  type RemotingCommand,
  type RequestHandler,
  RequestCode,
  ResponseCode,
  optionalBool,
  optionalInt,
  optionalClampedLong,
  optionalString,
  requestCodeName,
  requireLong,
  requireString,
  responseTo,
} from '@apogee/remoting';
import { sameDataVersion } from '../data-version.js';
import { dataVersionToJson, parseDataVersion } from '../data-version-json.js';
import type { KvConfigStore } from '../kv-config.js';
import { checkBodyCrc32, parseRegisterBrokerBody, type RegisterBrokerBody } from '../register-body.js';
import type { RouteRegistry } from '../route-registry.js';
import { clusterInfoToJson, kvTableToJson, topicListToJson, topicRouteDataToJson } from '../route-json.js';
import { NAMESPACE_ORDER_TOPIC_CONFIG } from '../types.js';

/** What the NameServer request handlers work on. */
export interface NamesrvContext {
  registry: RouteRegistry;
  kv: KvConfigStore;
  /** Milliseconds since the epoch (timestamp of the empty DataVersion of a body-less registration). */
  clock: () => number;
}

/** A NameServer request handler: answers one request (never null: every NameServer call is two-way). */
export type NamesrvHandler = (ctx: NamesrvContext, req: RemotingCommand, conn: Connection) => RemotingCommand | Promise<RemotingCommand>;

/**
 * Answers a request whose handler threw (missing/invalid header field, malformed body, CRC
 * mismatch, KV persistence failure) with SYSTEM_ERROR and a remark naming the request, as
 * RocketMQ's processor does when decoding fails. The connection stays open.
 */
export function errorResponse(req: RemotingCommand, err: unknown): RemotingCommand {
  const message = err instanceof Error ? err.message : String(err);
  return responseTo(req, ResponseCode.SYSTEM_ERROR, `${requestCodeName(req.code)}: ${message}`);
}

/** Runs a handler and turns a throw or a rejection into errorResponse. */
export function guarded(ctx: NamesrvContext, handler: NamesrvHandler): RequestHandler {
  return (req, conn) => {
    try {
      const res = handler(ctx, req, conn);
      return res instanceof Promise ? res.catch((err: unknown) => errorResponse(req, err)) : res;
    } catch (err) {
      return errorResponse(req, err);
    }
  };
}

/** REGISTER_BROKER (103): CRC check (when bodyCrc32 ≠ 0), body decode, registry update. */
export const registerBroker: NamesrvHandler = (ctx, req, conn) => {
  const ext = req.extFields;
  const brokerName = requireString(ext, 'brokerName');
  const brokerAddr = requireString(ext, 'brokerAddr');
  const clusterName = requireString(ext, 'clusterName');
  const haServerAddr = requireString(ext, 'haServerAddr');
  const brokerId = requireLong(ext, 'brokerId');
  const heartbeatTimeoutMillis = optionalClampedLong(ext, 'heartbeatTimeoutMillis');
  const enableActingMaster = optionalBool(ext, 'enableActingMaster');
  const compressed = optionalBool(ext, 'compressed') ?? false;
  const bodyCrc32 = optionalInt(ext, 'bodyCrc32') ?? 0;
  const zoneName = optionalString(ext, 'zoneName');

  const raw = req.body ?? Buffer.alloc(0);
  checkBodyCrc32(raw, bodyCrc32);
  // A body-less registration (RocketMQ: a broker with no topics yet) registers no topics.
  const body: RegisterBrokerBody =
    raw.length === 0
      ? { topicConfigs: [], dataVersion: { stateVersion: 0, timestamp: ctx.clock(), counter: 0 }, filterServerList: [] }
      : parseRegisterBrokerBody(raw, { compressed });

  const result = ctx.registry.registerBroker({
    clusterName,
    brokerName,
    brokerAddr,
    brokerId,
    haServerAddr,
    topicConfigs: body.topicConfigs,
    dataVersion: body.dataVersion,
    filterServerList: body.filterServerList,
    channelId: conn,
    ...(heartbeatTimeoutMillis !== undefined && heartbeatTimeoutMillis > 0 ? { heartbeatTimeoutMillis } : {}),
    ...(enableActingMaster !== undefined ? { enableActingMaster } : {}),
    ...(zoneName !== undefined ? { zoneName } : {}),
  });
  if (!result.accepted) {
    return responseTo(
      req,
      ResponseCode.SYSTEM_ERROR,
      `register broker rejected: brokerId ${brokerId} of ${brokerName} is held by another address with a newer stateVersion`,
    );
  }
  const extFields: Record<string, string> = {};
  if (result.masterAddr !== null) extFields['masterAddr'] = result.masterAddr;
  if (result.haServerAddr !== null) extFields['haServerAddr'] = result.haServerAddr;
  // RocketMQ answers with the ORDER_TOPIC_CONFIG namespace (KVTable) as the body.
  const orderConf = ctx.kv.listNamespace(NAMESPACE_ORDER_TOPIC_CONFIG);
  const resBody = orderConf === undefined ? undefined : Buffer.from(kvTableToJson(orderConf), 'utf8');
  return responseTo(req, ResponseCode.SUCCESS, undefined, extFields, resBody);
};

/** UNREGISTER_BROKER (104): always SUCCESS once the header is valid. */
export const unregisterBroker: NamesrvHandler = (ctx, req) => {
  const ext = req.extFields;
  ctx.registry.unregisterBroker({
    brokerName: requireString(ext, 'brokerName'),
    brokerAddr: requireString(ext, 'brokerAddr'),
    clusterName: requireString(ext, 'clusterName'),
    brokerId: requireLong(ext, 'brokerId'),
  });
  return responseTo(req, ResponseCode.SUCCESS);
};

/** GET_ROUTEINFO_BY_TOPIC (105): TopicRouteData JSON, or TOPIC_NOT_EXIST (17). */
export const getRouteInfoByTopic: NamesrvHandler = (ctx, req) => {
  const topic = requireString(req.extFields, 'topic');
  const route = ctx.registry.routeFor(topic);
  if (route === null) {
    return responseTo(req, ResponseCode.TOPIC_NOT_EXIST, `No topic route info in name server for the topic: ${topic}`);
  }
  return responseTo(req, ResponseCode.SUCCESS, undefined, {}, Buffer.from(topicRouteDataToJson(route), 'utf8'));
};

/** GET_BROKER_CLUSTER_INFO (106): ClusterInfo JSON. */
export const getBrokerClusterInfo: NamesrvHandler = (ctx, req) =>
  responseTo(req, ResponseCode.SUCCESS, undefined, {}, Buffer.from(clusterInfoToJson(ctx.registry.clusterInfo()), 'utf8'));

/**
 * QUERY_DATA_VERSION (322): header `changed` = the body's DataVersion differs from the one last
 * registered (or none is); refreshes the broker's liveness; body = the NameServer's DataVersion.
 */
export const queryDataVersion: NamesrvHandler = (ctx, req) => {
  const ext = req.extFields;
  requireString(ext, 'brokerName');
  const brokerAddr = requireString(ext, 'brokerAddr');
  const clusterName = requireString(ext, 'clusterName');
  requireLong(ext, 'brokerId');
  if (req.body === undefined || req.body.length === 0) throw new Error('DataVersion body is missing');
  const given = parseDataVersion(req.body);
  const stored = ctx.registry.brokerDataVersion(brokerAddr, clusterName);
  const changed = stored === null || !sameDataVersion(stored, given);
  ctx.registry.heartbeat(brokerAddr, clusterName);
  const body = stored === null ? undefined : Buffer.from(dataVersionToJson(stored), 'utf8');
  return responseTo(req, ResponseCode.SUCCESS, undefined, { changed: String(changed) }, body);
};

/** BROKER_HEARTBEAT (904): refreshes a live broker's timestamp; SUCCESS. */
export const brokerHeartbeat: NamesrvHandler = (ctx, req) => {
  const ext = req.extFields;
  const clusterName = requireString(ext, 'clusterName');
  const brokerAddr = requireString(ext, 'brokerAddr');
  requireString(ext, 'brokerName');
  ctx.registry.heartbeat(brokerAddr, clusterName);
  return responseTo(req, ResponseCode.SUCCESS);
};

/** PUT_KV_CONFIG (100): SUCCESS once persisted. */
export const putKvConfig: NamesrvHandler = async (ctx, req) => {
  const ext = req.extFields;
  await ctx.kv.put(requireString(ext, 'namespace'), requireString(ext, 'key'), requireString(ext, 'value'));
  return responseTo(req, ResponseCode.SUCCESS);
};

/** GET_KV_CONFIG (101): header `value`, or QUERY_NOT_FOUND (22). */
export const getKvConfig: NamesrvHandler = (ctx, req) => {
  const namespace = requireString(req.extFields, 'namespace');
  const key = requireString(req.extFields, 'key');
  const value = ctx.kv.get(namespace, key);
  if (value === undefined) {
    return responseTo(req, ResponseCode.QUERY_NOT_FOUND, `No config item, Namespace: ${namespace} Key: ${key}`);
  }
  return responseTo(req, ResponseCode.SUCCESS, undefined, { value });
};

/** DELETE_KV_CONFIG (102): SUCCESS (also when the key did not exist), once persisted. */
export const deleteKvConfig: NamesrvHandler = async (ctx, req) => {
  await ctx.kv.delete(requireString(req.extFields, 'namespace'), requireString(req.extFields, 'key'));
  return responseTo(req, ResponseCode.SUCCESS);
};

/** GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206): body `{"topicList":[…]}`. */
export const getAllTopicList: NamesrvHandler = (ctx, req) =>
  responseTo(req, ResponseCode.SUCCESS, undefined, {}, Buffer.from(topicListToJson(ctx.registry.topicList()), 'utf8'));

/** GET_TOPICS_BY_CLUSTER (224): the topics served by a cluster's brokers. */
export const getTopicsByCluster: NamesrvHandler = (ctx, req) =>
  responseTo(
    req,
    ResponseCode.SUCCESS,
    undefined,
    {},
    Buffer.from(topicListToJson(ctx.registry.topicsOfCluster(requireString(req.extFields, 'cluster'))), 'utf8'),
  );

/** DELETE_TOPIC_IN_NAMESRV (216): forgets a topic's routes (optionally only a cluster's). */
export const deleteTopicInNamesrv: NamesrvHandler = (ctx, req) => {
  const cluster = optionalString(req.extFields, 'clusterName');
  ctx.registry.deleteTopic(requireString(req.extFields, 'topic'), cluster);
  return responseTo(req, ResponseCode.SUCCESS);
};

/** GET_KVLIST_BY_NAMESPACE (219): body `{"table":{…}}`, or QUERY_NOT_FOUND. */
export const getKvListByNamespace: NamesrvHandler = (ctx, req) => {
  const namespace = requireString(req.extFields, 'namespace');
  const table = ctx.kv.listNamespace(namespace);
  if (!table) return responseTo(req, ResponseCode.QUERY_NOT_FOUND, `No config item, Namespace: ${namespace}`);
  return responseTo(req, ResponseCode.SUCCESS, undefined, {}, Buffer.from(kvTableToJson(table), 'utf8'));
};

/** Request code → handler for every request the NameServer implements. */
export const NAMESRV_HANDLERS: ReadonlyMap<number, NamesrvHandler> = new Map<number, NamesrvHandler>([
  [RequestCode.PUT_KV_CONFIG, putKvConfig],
  [RequestCode.GET_KV_CONFIG, getKvConfig],
  [RequestCode.DELETE_KV_CONFIG, deleteKvConfig],
  [RequestCode.REGISTER_BROKER, registerBroker],
  [RequestCode.UNREGISTER_BROKER, unregisterBroker],
  [RequestCode.GET_ROUTEINFO_BY_TOPIC, getRouteInfoByTopic],
  [RequestCode.GET_BROKER_CLUSTER_INFO, getBrokerClusterInfo],
  [RequestCode.QUERY_DATA_VERSION, queryDataVersion],
  [RequestCode.BROKER_HEARTBEAT, brokerHeartbeat],
  [RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER, getAllTopicList],
  [RequestCode.GET_TOPICS_BY_CLUSTER, getTopicsByCluster],
  [RequestCode.DELETE_TOPIC_IN_NAMESRV, deleteTopicInNamesrv],
  [RequestCode.GET_KVLIST_BY_NAMESPACE, getKvListByNamespace],
]);
