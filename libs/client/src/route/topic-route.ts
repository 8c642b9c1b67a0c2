import { PERM_READ, PERM_WRITE } from '@apogee/message';
import { ClientError, ClientErrorCode } from '../errors.js';
import type { MessageQueue } from '../message-queue.js';
import { asNumber, asString, isRecord, parseJsonBody } from '../protocol/json-body.js';

export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
}

export interface BrokerData {
  cluster: string;
  brokerName: string;
  /** brokerId ("0" = master) → "ip:port". */
  brokerAddrs: Record<string, string>;
}

/** TopicRouteData as answered to GET_ROUTEINFO_BY_TOPIC (105). */
export interface TopicRoute {
  orderTopicConf?: string;
  queueDatas: QueueData[];
  brokerDatas: BrokerData[];
}

export function parseBrokerData(v: unknown): BrokerData {
  if (!isRecord(v)) throw new ClientError(ClientErrorCode.BROKER, 'broker data is not an object');
  const brokerAddrs: Record<string, string> = {};
  if (isRecord(v['brokerAddrs']))
    for (const [id, addr] of Object.entries(v['brokerAddrs'])) if (typeof addr === 'string') brokerAddrs[String(Number(id))] = addr;
  return { cluster: asString(v['cluster']), brokerName: asString(v['brokerName']), brokerAddrs };
}

/** Parses a TopicRouteData body; throws ClientError when it lacks queueDatas/brokerDatas. */
export function parseTopicRoute(body: Buffer | undefined): TopicRoute {
  const json = parseJsonBody(body, 'topic route');
  if (!isRecord(json) || !Array.isArray(json['queueDatas']) || !Array.isArray(json['brokerDatas'])) {
    throw new ClientError(ClientErrorCode.BROKER, 'topic route body lacks queueDatas/brokerDatas');
  }
  const queueDatas = json['queueDatas'].filter(isRecord).map((q) => ({
    brokerName: asString(q['brokerName']),
    readQueueNums: asNumber(q['readQueueNums']),
    writeQueueNums: asNumber(q['writeQueueNums']),
    perm: asNumber(q['perm']),
    topicSysFlag: asNumber(q['topicSysFlag']),
  }));
  const route: TopicRoute = { queueDatas, brokerDatas: json['brokerDatas'].map(parseBrokerData) };
  if (typeof json['orderTopicConf'] === 'string' && json['orderTopicConf'].length > 0) route.orderTopicConf = json['orderTopicConf'];
  return route;
}

/** Master address of a broker group, if it has one online. */
export function masterAddr(bd: BrokerData): string | undefined {
  return bd.brokerAddrs['0'];
}

function byName(a: { brokerName: string }, b: { brokerName: string }): number {
  return a.brokerName < b.brokerName ? -1 : a.brokerName > b.brokerName ? 1 : 0;
}

/**
 * Queues a producer may write (MQClientInstance.topicRouteData2TopicPublishInfo): orderTopicConf
 * ("brokerName:num;…") if set, else every writable queue of a broker that has a master, in
 * brokerName order.
 */
export function publishQueues(topic: string, route: TopicRoute): MessageQueue[] {
  const out: MessageQueue[] = [];
  if (route.orderTopicConf) {
    for (const part of route.orderTopicConf.split(';')) {
      const [brokerName, num] = part.split(':');
      if (!brokerName || !num) continue;
      for (let i = 0; i < Number(num); i++) out.push({ topic, brokerName, queueId: i });
    }
    return out;
  }
  const masters = new Set(route.brokerDatas.filter((b) => masterAddr(b) !== undefined).map((b) => b.brokerName));
  for (const qd of [...route.queueDatas].sort(byName)) {
    if ((qd.perm & PERM_WRITE) === 0 || !masters.has(qd.brokerName)) continue;
    for (let i = 0; i < qd.writeQueueNums; i++) out.push({ topic, brokerName: qd.brokerName, queueId: i });
  }
  return out;
}

/** Queues a consumer may read (topicRouteData2TopicSubscribeInfo): every readable queue. */
export function subscribeQueues(topic: string, route: TopicRoute): MessageQueue[] {
  const out: MessageQueue[] = [];
  for (const qd of [...route.queueDatas].sort(byName)) {
    if ((qd.perm & PERM_READ) === 0) continue;
    for (let i = 0; i < qd.readQueueNums; i++) out.push({ topic, brokerName: qd.brokerName, queueId: i });
  }
  return out;
}

/**
 * The route to use for a topic the NameServer does not know, from the default topic's route
 * (Java updateTopicRouteInfoFromNameServer(topic, isDefault=true)): its brokers, queue counts capped at `defaultQueueNums`. Sending there with
 * defaultTopic set lets the broker auto-create the topic.
 */
export function routeFromDefault(defaultRoute: TopicRoute, defaultQueueNums: number): TopicRoute {
  // Like Java, no perm filter here: the broker checks INHERIT and answers TOPIC_NOT_EXIST if missing.
  const queueDatas = defaultRoute.queueDatas.map((qd) => {
    const n = Math.min(defaultQueueNums, qd.readQueueNums);
    return { ...qd, readQueueNums: n, writeQueueNums: n };
  });
  return { queueDatas, brokerDatas: defaultRoute.brokerDatas.map((b) => ({ ...b, brokerAddrs: { ...b.brokerAddrs } })) };
}
