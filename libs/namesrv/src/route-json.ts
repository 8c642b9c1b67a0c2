import { objectJson } from './json-fields.js';
import type { BrokerData, ClusterInfo, QueueData, TopicRouteData } from './types.js';

/**
 * JSON bodies of NameServer answers, written the way RocketMQ's fastjson writes them for callers
 * that want standard JSON (QuoteFieldNames + MapSortField): fields in name order, map keys sorted
 * and quoted (brokerAddrs `{"0":"ip:port"}`), absent optional fields omitted. Clients parse these
 * with JSON.parse, fastjson or (ali-ons) an eval-based JSON2; all accept quoted numeric keys.
 */

/** GET_ROUTEINFO_BY_TOPIC (105) body. */
export function topicRouteDataToJson(route: TopicRouteData): string {
  const fields: Array<[string, string]> = [
    ['brokerDatas', `[${route.brokerDatas.map(brokerDataToJson).join(',')}]`],
    ['filterServerTable', sortedMapJson(route.filterServerTable, (list) => JSON.stringify(list))],
  ];
  if (route.orderTopicConf !== undefined) fields.push(['orderTopicConf', JSON.stringify(route.orderTopicConf)]);
  fields.push(['queueDatas', `[${route.queueDatas.map(queueDataToJson).join(',')}]`]);
  return objectJson(fields);
}

/** GET_BROKER_CLUSTER_INFO (106) body: `{"brokerAddrTable":{name:BrokerData},"clusterAddrTable":{cluster:[names]}}`. */
export function clusterInfoToJson(info: ClusterInfo): string {
  return objectJson([
    ['brokerAddrTable', sortedMapJson(info.brokerAddrTable, brokerDataToJson)],
    ['clusterAddrTable', sortedMapJson(info.clusterAddrTable, (names) => JSON.stringify(names))],
  ]);
}

/** TopicList body (topic list requests): `{"brokerAddr"?:…,"topicList":[…]}`. */
export function topicListToJson(topicList: readonly string[], brokerAddr?: string): string {
  const fields: Array<[string, string]> = [];
  if (brokerAddr !== undefined) fields.push(['brokerAddr', JSON.stringify(brokerAddr)]);
  fields.push(['topicList', JSON.stringify(topicList)]);
  return objectJson(fields);
}

/** KVTable body (GET_KVLIST_BY_NAMESPACE 219): `{"table":{key:value}}`. */
export function kvTableToJson(table: Readonly<Record<string, string>>): string {
  return objectJson([['table', sortedMapJson(table, (value) => JSON.stringify(value))]]);
}

export function brokerDataToJson(data: BrokerData): string {
  const ids = Object.keys(data.brokerAddrs).sort((a, b) => Number(a) - Number(b));
  const fields: Array<[string, string]> = [
    ['brokerAddrs', objectJson(ids.map((id) => [id, JSON.stringify(data.brokerAddrs[id])] as const))],
    ['brokerName', JSON.stringify(data.brokerName)],
    ['cluster', JSON.stringify(data.cluster)],
    ['enableActingMaster', JSON.stringify(data.enableActingMaster ?? false)],
  ];
  if (data.zoneName !== undefined) fields.push(['zoneName', JSON.stringify(data.zoneName)]);
  return objectJson(fields);
}

export function queueDataToJson(qd: QueueData): string {
  return objectJson([
    ['brokerName', JSON.stringify(qd.brokerName)],
    ['perm', String(qd.perm)],
    ['readQueueNums', String(qd.readQueueNums)],
    ['topicSysFlag', String(qd.topicSysFlag)],
    ['writeQueueNums', String(qd.writeQueueNums)],
  ]);
}

function sortedMapJson<T>(map: Readonly<Record<string, T>>, valueJson: (value: T) => string): string {
  const keys = Object.keys(map).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return objectJson(keys.map((key) => [key, valueJson(map[key]!)] as const));
}
