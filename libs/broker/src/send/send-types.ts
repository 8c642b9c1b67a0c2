import type { HostAddress } from '@apogee/message';
import type { PutResult } from '@apogee/store';

/** A message as a producer hands it to the engine (protocol-neutral SEND_MESSAGE). */
export interface SendRequest {
  producerGroup?: string;
  topic: string;
  /** Topic to inherit from on auto-creation. Default TBW102. */
  defaultTopic?: string;
  /** Queues for an auto-created topic. Default: the broker's defaultTopicQueueNums. */
  defaultTopicQueueNums?: number;
  /** < 0: the broker picks a queue. */
  queueId: number;
  sysFlag?: number;
  bornTimestamp?: number;
  bornHost?: HostAddress;
  flag?: number;
  properties: Map<string, string>;
  /** As it is to be stored (already compressed if sysFlag says so). */
  body: Buffer;
  reconsumeTimes?: number;
  /** For sends to `%RETRY%` topics: past this the message goes to the DLQ. */
  maxReconsumeTimes?: number;
  /**
   * Offer the message, once appended and before it is written, to readers caught up to it (the
   * engine's live feed). Only where delivery before the write is allowed: a crash then loses a
   * message its producer was never acknowledged for (MQTT QoS 0/1, AMQP at-least-once), never
   * where a re-sent copy must not reach a reader that had the first (MQTT QoS 2).
   */
  live?: boolean;
  /** The LMQ names behind an INNER_MULTI_DISPATCH the caller set itself, in its order (spares the live feed a parse). */
  lmqs?: readonly string[];
  /** Passed to the store's put: called synchronously once the message has its offsets, before it is written (see MessageStore.put). */
  onAppended?: (appended: PutResult) => void;
}

/** A batch: one topic and queue, several bodies with their own properties. */
export interface SendBatchRequest extends Omit<SendRequest, 'properties' | 'body'> {
  /** Properties common to the batch (from the request header). */
  properties: Map<string, string>;
  items: Array<{ body: Buffer; flag: number; properties: Map<string, string> }>;
}

export interface SendResult {
  /** Where the message was stored (differs from the request for delayed and dead-lettered ones). */
  topic: string;
  queueId: number;
  queueOffset: number;
  /** Offset message ids (one per message, in order). */
  msgIds: string[];
  commitLogOffsets: number[];
  /** UNIQ_KEY of each message, where set. */
  uniqKeys: Array<string | undefined>;
  /**
   * Set when synchronous replication fell short (the message is stored here): the replicas did not
   * all confirm it in time, or too few copies were in sync. Absent: SEND_OK.
   */
  status?: 'FLUSH_SLAVE_TIMEOUT' | 'SLAVE_NOT_AVAILABLE';
}
