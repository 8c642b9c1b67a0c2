/** Message property keys (RocketMQ MessageConst) that Apogee reads or writes. */
export const PropertyKey = {
  KEYS: 'KEYS',
  TAGS: 'TAGS',
  WAIT_STORE_MSG_OK: 'WAIT',
  DELAY_TIME_LEVEL: 'DELAY',
  RETRY_TOPIC: 'RETRY_TOPIC',
  REAL_TOPIC: 'REAL_TOPIC',
  REAL_QUEUE_ID: 'REAL_QID',
  TRANSACTION_PREPARED: 'TRAN_MSG',
  PRODUCER_GROUP: 'PGROUP',
  MIN_OFFSET: 'MIN_OFFSET',
  MAX_OFFSET: 'MAX_OFFSET',
  UNIQ_CLIENT_MESSAGE_ID_KEYIDX: 'UNIQ_KEY',
  RECONSUME_TIME: 'RECONSUME_TIME',
  MAX_RECONSUME_TIMES: 'MAX_RECONSUME_TIMES',
  ORIGIN_MESSAGE_ID: 'ORIGIN_MESSAGE_ID',
  INNER_MULTI_DISPATCH: 'INNER_MULTI_DISPATCH',
  INNER_MULTI_QUEUE_OFFSET: 'INNER_MULTI_QUEUE_OFFSET',
  SHARDING_KEY: '__SHARDINGKEY',
  TRANSACTION_ID: '__transactionId__',
  /** Seconds before the broker checks a half message back (also bars an early direct END_TRANSACTION). */
  CHECK_IMMUNITY_TIME_IN_SECONDS: 'CHECK_IMMUNITY_TIME_IN_SECONDS',
  /** How many times the broker checked a half message back. */
  TRANSACTION_CHECK_TIMES: 'TRANSACTION_CHECK_TIMES',
  TRAN_PREPARED_QUEUE_OFFSET: 'TRAN_PREPARED_QUEUE_OFFSET',
  CLUSTER: 'CLUSTER',
  MSG_REGION: 'MSG_REGION',
  TRACE_SWITCH: 'TRACE_ON',
  CRC32: '__CRC32#',
  TIMER_DELIVER_MS: 'TIMER_DELIVER_MS',
  TIMER_DELAY_SEC: 'TIMER_DELAY_SEC',
  TIMER_DELAY_MS: 'TIMER_DELAY_MS',
  /** Broker-written: the due time (epoch ms) a timer message waits for in the timer topic. */
  TIMER_OUT_MS: 'TIMER_OUT_MS',
  /** Broker-written on firing: when the timer record was stored / re-put to its real topic. */
  TIMER_ENQUEUE_MS: 'TIMER_ENQUEUE_MS',
  TIMER_DEQUEUE_MS: 'TIMER_DEQUEUE_MS',
  /** Broker-written: how often a pending timer record was rolled forward in the timer topic. */
  TIMER_ROLL_TIMES: 'TIMER_ROLL_TIMES',
  /**
   * Apogee: on a fired message, the commit-log offset of the timer record it came from; on a
   * rolled copy in the timer topic, the offset of the record it replaces. Recovery after a crash
   * recognises what a firing batch already delivered by it.
   */
  TIMER_ORIGIN: 'TIMER_ORIGIN',
  DLQ_ORIGIN_TOPIC: 'DLQ_ORIGIN_TOPIC',
  DLQ_ORIGIN_MESSAGE_ID: 'DLQ_ORIGIN_MESSAGE_ID',
} as const;

/** Properties with this prefix are transient: never stored. */
export const TRANSIENT_PROPERTY_PREFIX = '__RMQ.TRANSIENT.';

/** Separator between key and value (U+0001) and after each pair (U+0002). */
export const NAME_VALUE_SEPARATOR = '\u0001';
export const PROPERTY_SEPARATOR = '\u0002';

/** Separator of the LMQ name list in INNER_MULTI_DISPATCH and of offsets in INNER_MULTI_QUEUE_OFFSET. */
export const MULTI_DISPATCH_SEPARATOR = ',';

/** KEYS holds several keys separated by a space. */
export const KEY_SEPARATOR = ' ';
