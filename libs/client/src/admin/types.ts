import type { TopicRoute } from '../route/topic-route.js';

export interface CreateTopicOptions {
  readQueueNums?: number;
  writeQueueNums?: number;
  /** PermName bits; default 6 (read + write). */
  perm?: number;
  order?: boolean;
  /** Create on every master of this cluster. */
  cluster?: string;
  /** Create on this broker address only. Without cluster and brokerAddr: every master of every cluster. */
  brokerAddr?: string;
}

export interface QueueOffsets {
  brokerName: string;
  queueId: number;
  minOffset: number;
  maxOffset: number;
}

export interface TopicDescription {
  topic: string;
  route: TopicRoute;
  queues: QueueOffsets[];
}

export interface QueueProgress {
  topic: string;
  brokerName: string;
  queueId: number;
  /** Next offset the broker will write (GET_MAX_OFFSET). */
  brokerOffset: number;
  /** The group's committed offset, −1 when none is stored. */
  consumerOffset: number;
  /** brokerOffset − max(consumerOffset, 0). */
  lag: number;
}

/** Java's Long.MAX_VALUE: as a query's `end`, no upper bound (what the Java client's viewMessage sends). */
export const LONG_MAX_VALUE = 2n ** 63n - 1n;

/** A time range's bounds are Java longs: a bigint reaches the whole range (LONG_MAX_VALUE), a number its safe part. */
export interface QueryOptions {
  /** Epoch ms; default 0. */
  begin?: number | bigint;
  /** Epoch ms; default now + 1 minute (clock skew). */
  end?: number | bigint;
  /** Per broker; default 32. */
  maxNum?: number;
}

/** A transactional half message waiting for its producer's decision (Apogee's APOGEE_LIST_OPEN_TRANSACTIONS). */
export interface OpenTransaction {
  /** The broker holding it. */
  brokerAddr: string;
  /** Where the message goes on commit. */
  topic: string;
  queueId: number;
  /** Offset in the half queue and commit-log offset of the half message. */
  halfOffset: number;
  commitLogOffset: number;
  /** Offset message id of the half message (`message get` shows it). */
  offsetMsgId: string;
  /** The producer's msgId (UNIQ_KEY), which is also the transaction id. */
  transactionId: string;
  producerGroup: string;
  /** When the half message was stored (epoch ms). */
  storeTimestamp: number;
  /** Check-backs the broker has sent so far. */
  checkTimes: number;
}
