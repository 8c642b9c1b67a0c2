/** What a transaction's producer decided (RocketMQ commitOrRollback: COMMIT 8, ROLLBACK 12, UNKNOW 0). */
export type TransactionResolution = 'COMMIT' | 'ROLLBACK' | 'UNKNOWN';

/** END_TRANSACTION (RocketMQ EndTransactionRequestHeader), protocol-neutral. */
export interface EndTransactionRequest {
  producerGroup: string;
  /** Offset of the half message in the half queue (the send result's queueOffset). */
  tranStateTableOffset: number;
  /** Commit-log offset of the half message (decoded from the send result's offset msgId). */
  commitLogOffset: number;
  resolution: TransactionResolution;
  /** True when this answers a CHECK_TRANSACTION_STATE (the check immunity then does not apply). */
  fromTransactionCheck: boolean;
  /** The client's UNIQ_KEY of the message (logs only). */
  msgId?: string;
  transactionId?: string;
  /** The local transaction's error text, when it threw (logs only). */
  remark?: string;
}

/**
 * What END_TRANSACTION did: `committed` put the real message, `rolledBack` wrote the op record,
 * `unchanged` did nothing (UNKNOWN), `alreadyDecided` found the same decision made before (a
 * duplicate or a check answer racing a direct one): nothing was applied twice.
 */
export type EndTransactionOutcome = 'committed' | 'rolledBack' | 'unchanged' | 'alreadyDecided';

/** A half message still waiting for its producer's decision (admin listing). */
export interface OpenTransaction {
  /** The topic and queue the message goes to on commit. */
  topic: string;
  queueId: number;
  /** Offset in the half queue and commit-log offset of the half message. */
  halfOffset: number;
  commitLogOffset: number;
  /** Offset message id of the half message. */
  offsetMsgId: string;
  /** The client's UNIQ_KEY (= the transaction id). */
  transactionId: string;
  producerGroup: string;
  storeTimestamp: number;
  /** Check-backs sent so far. */
  checkTimes: number;
}

/**
 * CHECK_TRANSACTION_STATE (39) as the engine hands it to a producer's channel: the header fields
 * of RocketMQ's CheckTransactionStateRequestHeader and the message record as the body.
 */
export interface TransactionCheck {
  /** RMQ_SYS_TRANS_HALF_TOPIC: the header carries it and the client echoes it back. */
  topic: string;
  tranStateTableOffset: number;
  commitLogOffset: number;
  /** UNIQ_KEY of the message. */
  msgId: string;
  transactionId: string;
  /** Offset message id of the half message. */
  offsetMsgId: string;
  brokerName: string;
  /** The half message as one stored-message record, its topic and queue switched back to the real ones. */
  body: Buffer;
}
