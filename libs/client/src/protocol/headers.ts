import { DEFAULT_TOPIC, DEFAULT_TOPIC_FILTER_TYPE } from '@apogee/message';
/**
 * Custom headers (extFields) of the requests the SDK sends, built from typed objects. Field names
 * are the Java header classes' (facts §2); values go through toExtFields (decimal, "true"/"false").
 */
import { toExtFields } from '@apogee/remoting';
import type { MessageQueue } from '../message-queue.js';
import { DEFAULT_TOPIC_QUEUE_NUMS } from './codes.js';

export interface SendHeader {
  producerGroup: string;
  topic: string;
  queueId: number;
  sysFlag: number;
  bornTimestamp: number;
  flag: number;
  properties: string;
  reconsumeTimes?: number;
  maxReconsumeTimes?: number;
  batch?: boolean;
  brokerName?: string;
  defaultTopic?: string;
  defaultTopicQueueNums?: number;
}

/** SendMessageRequestHeaderV2 (310/320): the one-letter field names a–n. */
export function sendMessageV2Header(h: SendHeader): Record<string, string> {
  return toExtFields({
    a: h.producerGroup,
    b: h.topic,
    c: h.defaultTopic ?? DEFAULT_TOPIC,
    d: h.defaultTopicQueueNums ?? DEFAULT_TOPIC_QUEUE_NUMS,
    e: h.queueId,
    f: h.sysFlag,
    g: h.bornTimestamp,
    h: h.flag,
    i: h.properties,
    j: h.reconsumeTimes ?? 0,
    k: false,
    l: h.maxReconsumeTimes,
    m: h.batch ?? false,
    n: h.brokerName,
  });
}

export interface PullHeader {
  consumerGroup: string;
  queue: MessageQueue;
  queueOffset: number;
  maxMsgNums: number;
  sysFlag: number;
  commitOffset: number;
  suspendTimeoutMillis: number;
  subscription: string;
  /** TAG or SQL92 (what `subscription` is written in). */
  expressionType?: 'TAG' | 'SQL92';
  subVersion: number;
}

/** PullMessageRequestHeader (11). */
export function pullMessageHeader(h: PullHeader): Record<string, string> {
  return toExtFields({
    consumerGroup: h.consumerGroup,
    topic: h.queue.topic,
    queueId: h.queue.queueId,
    queueOffset: h.queueOffset,
    maxMsgNums: h.maxMsgNums,
    sysFlag: h.sysFlag,
    commitOffset: h.commitOffset,
    suspendTimeoutMillis: h.suspendTimeoutMillis,
    subscription: h.subscription,
    subVersion: h.subVersion,
    expressionType: h.expressionType ?? 'TAG',
  });
}

/** QueryConsumerOffsetRequestHeader (14). setZeroIfNotFound=false so "no offset" is always QUERY_NOT_FOUND. */
export function queryConsumerOffsetHeader(group: string, q: MessageQueue): Record<string, string> {
  return toExtFields({ consumerGroup: group, topic: q.topic, queueId: q.queueId, setZeroIfNotFound: false });
}

/** UpdateConsumerOffsetRequestHeader (15). */
export function updateConsumerOffsetHeader(group: string, q: MessageQueue, offset: number): Record<string, string> {
  return toExtFields({ consumerGroup: group, topic: q.topic, queueId: q.queueId, commitOffset: offset });
}

/** GetMaxOffsetRequestHeader (30) / GetMinOffsetRequestHeader (31). */
export function queueHeader(q: MessageQueue): Record<string, string> {
  return toExtFields({ topic: q.topic, queueId: q.queueId });
}

/** SearchOffsetRequestHeader (29). */
export function searchOffsetHeader(q: MessageQueue, timestamp: number): Record<string, string> {
  return toExtFields({ topic: q.topic, queueId: q.queueId, timestamp });
}

export interface SendBackHeader {
  /** Commit-log offset of the message. */
  offset: number;
  group: string;
  /** 0 = broker picks 3 + reconsumeTimes; −1 = straight to the DLQ. */
  delayLevel: number;
  originMsgId: string;
  originTopic: string;
  maxReconsumeTimes: number;
}

/** ConsumerSendMsgBackRequestHeader (36). */
export function sendBackHeader(h: SendBackHeader): Record<string, string> {
  return toExtFields({
    offset: h.offset,
    group: h.group,
    delayLevel: h.delayLevel,
    originMsgId: h.originMsgId,
    originTopic: h.originTopic,
    unitMode: false,
    maxReconsumeTimes: h.maxReconsumeTimes,
  });
}

/** UnregisterClientRequestHeader (35). */
export function unregisterClientHeader(clientID: string, group: { producerGroup?: string; consumerGroup?: string }): Record<string, string> {
  return toExtFields({ clientID, producerGroup: group.producerGroup, consumerGroup: group.consumerGroup });
}

export interface QueryMessageHeader {
  topic: string;
  key: string;
  maxNum: number;
  /** Java longs: bigint for values past 2^53 (Long.MAX_VALUE as "no end"). */
  beginTimestamp: number | bigint;
  endTimestamp: number | bigint;
}

/** QueryMessageRequestHeader (12). */
export function queryMessageHeader(h: QueryMessageHeader, uniqueKey: boolean): Record<string, string> {
  const ext = toExtFields({ ...h });
  if (uniqueKey) ext['_UNIQUE_KEY_QUERY'] = 'true';
  return ext;
}

export interface CreateTopicHeader {
  topic: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  order: boolean;
}

/** CreateTopicRequestHeader (17). */
export function createTopicHeader(h: CreateTopicHeader): Record<string, string> {
  return toExtFields({
    topic: h.topic,
    defaultTopic: DEFAULT_TOPIC,
    readQueueNums: h.readQueueNums,
    writeQueueNums: h.writeQueueNums,
    perm: h.perm,
    topicFilterType: DEFAULT_TOPIC_FILTER_TYPE,
    topicSysFlag: 0,
    order: h.order,
  });
}
