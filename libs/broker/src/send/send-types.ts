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
}
