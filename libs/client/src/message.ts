import { PropertyKey, type HostAddress, type MessageExt, formatHost, uncompressBody, isRetryTopic } from '@apogee/message';

/** A message to send. */
export interface Message {
  topic: string;
  /** Strings are sent as UTF-8. */
  body: Buffer | string;
  /** One tag (subscribers filter on it). */
  tags?: string;
  /** Business keys, indexed by the broker for QUERY_MESSAGE; stored space-separated. */
  keys?: string | string[];
  /** User properties. Must not contain U+0001 / U+0002. */
  properties?: Record<string, string>;
  /** Delay level 1..18 (1s 5s 10s 30s 1m … 2h); 0/undefined = deliver now. */
  delayLevel?: number;
  /**
   * Deliver at this epoch ms (5.x timer, property TIMER_DELIVER_MS; at most the broker's
   * timerMaxDelaySec ahead, 3 days by default). A past time delivers at once.
   */
  deliverTimeMs?: number;
  /** Deliver this many ms after the broker stores it (5.x timer, property TIMER_DELAY_MS). */
  delayMs?: number;
  /** Java Message.flag: an opaque int stored with the message. */
  flag?: number;
  /** Property WAIT; false lets the broker answer before the message is flushed. Default true. */
  waitStoreMsgOK?: boolean;
}

/** A message read from a broker (pulled, pushed or queried). */
export interface ReceivedMessage {
  /** Original topic: for a retried message this is RETRY_TOPIC, not `%RETRY%<group>`. */
  topic: string;
  /** Topic the record is stored in (`%RETRY%<group>` for retried messages). */
  storeTopic: string;
  tags: string | undefined;
  keys: string[];
  properties: Record<string, string>;
  /** Uncompressed body. */
  body: Buffer;
  /** UNIQ_KEY (the id Java's SendResult.msgId shows), or the offset id if the producer set none. */
  msgId: string;
  /** Offset message id: store host + commit-log offset. */
  offsetMsgId: string;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  storeTimestamp: number;
  bornTimestamp: number;
  reconsumeTimes: number;
  flag: number;
  sysFlag: number;
  bornHost: string;
  storeHost: string;
  /** Broker the message was read from, when known. */
  brokerName: string | undefined;
}

function hostString(h: HostAddress): string {
  return formatHost(h);
}

/** Turns a decoded record into the SDK's message view (body inflated, retry topic undone). */
export function toReceivedMessage(ext: MessageExt, brokerName?: string): ReceivedMessage {
  const props: Record<string, string> = {};
  for (const [k, v] of ext.properties) props[k] = v;
  const retryTopic = props[PropertyKey.RETRY_TOPIC];
  const keys = props[PropertyKey.KEYS];
  return {
    topic: retryTopic !== undefined && isRetryTopic(ext.topic) ? retryTopic : ext.topic,
    storeTopic: ext.topic,
    tags: props[PropertyKey.TAGS],
    keys: keys ? keys.split(' ').filter((k) => k.length > 0) : [],
    properties: props,
    body: uncompressBody(ext.body, ext.sysFlag),
    msgId: props[PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX] ?? ext.msgId,
    offsetMsgId: ext.msgId,
    queueId: ext.queueId,
    queueOffset: ext.queueOffset,
    commitLogOffset: ext.commitLogOffset,
    storeTimestamp: ext.storeTimestamp,
    bornTimestamp: ext.bornTimestamp,
    reconsumeTimes: ext.reconsumeTimes,
    flag: ext.flag,
    sysFlag: ext.sysFlag,
    bornHost: hostString(ext.bornHost),
    storeHost: hostString(ext.storeHost),
    brokerName,
  };
}
