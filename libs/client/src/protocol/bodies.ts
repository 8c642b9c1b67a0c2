/** JSON bodies of heartbeat, lock, consumer-list, cluster-info, topic-list and open-transaction exchanges (facts §2). */
import { ClientError, ClientErrorCode } from '../errors.js';
import type { OpenTransaction } from '../admin/types.js';
import type { MessageQueue } from '../message-queue.js';
import { type BrokerData, parseBrokerData } from '../route/topic-route.js';
import { asNumber, asString, isRecord, parseJsonBody } from './json-body.js';

export type MessageModel = 'CLUSTERING' | 'BROADCASTING';
export type ConsumeFromWhere = 'LAST' | 'FIRST' | 'TIMESTAMP';

export interface ConsumerData {
  groupName: string;
  consumeType: 'CONSUME_ACTIVELY' | 'CONSUME_PASSIVELY';
  messageModel: MessageModel;
  consumeFromWhere: ConsumeFromWhere;
  subscriptionDataSet: Array<Record<string, unknown>>;
}

const FROM_WHERE: Record<ConsumeFromWhere, string> = {
  LAST: 'CONSUME_FROM_LAST_OFFSET',
  FIRST: 'CONSUME_FROM_FIRST_OFFSET',
  TIMESTAMP: 'CONSUME_FROM_TIMESTAMP',
};

/** HeartbeatData (34), full v1 form (no fingerprint). */
export function heartbeatBody(clientID: string, producerGroups: readonly string[], consumers: readonly ConsumerData[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      clientID,
      producerDataSet: producerGroups.map((groupName) => ({ groupName })),
      consumerDataSet: consumers.map((c) => ({
        groupName: c.groupName,
        consumeType: c.consumeType,
        messageModel: c.messageModel,
        consumeFromWhere: FROM_WHERE[c.consumeFromWhere],
        subscriptionDataSet: c.subscriptionDataSet,
        unitMode: false,
      })),
    }),
  );
}

/** LockBatchRequestBody / UnlockBatchRequestBody (41/42). */
export function lockBatchBody(consumerGroup: string, clientId: string, mqSet: readonly MessageQueue[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      consumerGroup,
      clientId,
      onlyThisBroker: false,
      mqSet: mqSet.map((q) => ({ topic: q.topic, brokerName: q.brokerName, queueId: q.queueId })),
    }),
  );
}

function parseQueue(v: unknown): MessageQueue | undefined {
  if (!isRecord(v)) return undefined;
  return { topic: asString(v['topic']), brokerName: asString(v['brokerName']), queueId: asNumber(v['queueId'], -1) };
}

/** LockBatchResponseBody: `{"lockOKMQSet":[…]}`. */
export function parseLockOkSet(body: Buffer | undefined): MessageQueue[] {
  if (!body || body.length === 0) return [];
  const json = parseJsonBody(body, 'lock response');
  const set = isRecord(json) ? json['lockOKMQSet'] : undefined;
  return Array.isArray(set) ? set.map(parseQueue).filter((q): q is MessageQueue => q !== undefined) : [];
}

/** GetConsumerListByGroupResponseBody: `{"consumerIdList":[…]}`. */
export function parseConsumerIdList(body: Buffer | undefined): string[] {
  const json = parseJsonBody(body, 'consumer list');
  const list = isRecord(json) ? json['consumerIdList'] : undefined;
  if (!Array.isArray(list)) throw new ClientError(ClientErrorCode.BROKER, 'consumer list body lacks consumerIdList');
  return list.filter((x): x is string => typeof x === 'string');
}

/** Apogee's open-transaction listing: `{"transactions":[…]}` (the broker address is the caller's to add). */
export function parseOpenTransactions(body: Buffer | undefined): Array<Omit<OpenTransaction, 'brokerAddr'>> {
  const json = parseJsonBody(body, 'open transactions');
  const list = isRecord(json) ? json['transactions'] : undefined;
  if (!Array.isArray(list)) throw new ClientError(ClientErrorCode.BROKER, 'open transactions body lacks transactions');
  return list.filter(isRecord).map((t) => ({
    topic: asString(t['topic']),
    queueId: asNumber(t['queueId']),
    halfOffset: asNumber(t['halfOffset']),
    commitLogOffset: asNumber(t['commitLogOffset']),
    offsetMsgId: asString(t['offsetMsgId']),
    transactionId: asString(t['transactionId']),
    producerGroup: asString(t['producerGroup']),
    storeTimestamp: asNumber(t['storeTimestamp']),
    checkTimes: asNumber(t['checkTimes']),
  }));
}

/** TopicList: `{"topicList":[…]}`. */
export function parseTopicList(body: Buffer | undefined): string[] {
  const json = parseJsonBody(body, 'topic list');
  const list = isRecord(json) ? json['topicList'] : undefined;
  if (!Array.isArray(list)) throw new ClientError(ClientErrorCode.BROKER, 'topic list body lacks topicList');
  return list.filter((x): x is string => typeof x === 'string');
}

/** GroupList of QUERY_TOPIC_CONSUME_BY_WHO (300). */
export function parseGroupList(body: Buffer | undefined): string[] {
  const json = parseJsonBody(body, 'group list');
  const list = isRecord(json) ? json['groupList'] : undefined;
  if (!Array.isArray(list)) throw new ClientError(ClientErrorCode.BROKER, 'group list body lacks groupList');
  return list.filter((x): x is string => typeof x === 'string');
}

/** ClusterInfo (106). */
export interface ClusterInfo {
  /** brokerName → broker group. */
  brokerAddrTable: Record<string, BrokerData>;
  /** cluster name → broker names. */
  clusterAddrTable: Record<string, string[]>;
}

export function parseClusterInfo(body: Buffer | undefined): ClusterInfo {
  const json = parseJsonBody(body, 'cluster info');
  if (!isRecord(json)) throw new ClientError(ClientErrorCode.BROKER, 'cluster info body is not an object');
  const brokerAddrTable: Record<string, BrokerData> = {};
  if (isRecord(json['brokerAddrTable'])) for (const [name, bd] of Object.entries(json['brokerAddrTable'])) brokerAddrTable[name] = parseBrokerData(bd);
  const clusterAddrTable: Record<string, string[]> = {};
  if (isRecord(json['clusterAddrTable'])) {
    for (const [cluster, names] of Object.entries(json['clusterAddrTable'])) {
      clusterAddrTable[cluster] = Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string').sort() : [];
    }
  }
  return { brokerAddrTable, clusterAddrTable };
}
