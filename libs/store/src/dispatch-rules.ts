import {
  KEY_SEPARATOR,
  SCHEDULE_TOPIC,
  SYSTEM_TOPIC_PREFIX,
  SysFlag,
  TRANS_HALF_TOPIC,
  isRetryTopic,
  javaStringHashCode,
  transactionType,
} from '@apogee/message';

/**
 * Rules shared by the live dispatch and recovery's re-dispatch, so both build the same index
 * from the same record.
 */

/** Prepared and rolled-back transaction records enter no queue (RocketMQ keeps them out of CQs). */
export function entersQueues(sysFlag: number): boolean {
  const t = transactionType(sysFlag);
  return t !== SysFlag.TRANSACTION_PREPARED_TYPE && t !== SysFlag.TRANSACTION_ROLLBACK_TYPE;
}

/**
 * RocketMQ ignores INNER_MULTI_DISPATCH on retry, system and schedule topics — and on half
 * messages, whose fan-out waits for their commit.
 */
export function lmqDispatchAllowed(topic: string): boolean {
  return !isRetryTopic(topic) && !topic.startsWith(SYSTEM_TOPIC_PREFIX) && topic !== SCHEDULE_TOPIC && topic !== TRANS_HALF_TOPIC;
}

/** The tags code of a queue entry: Java hashCode of TAGS, 0 without tags. */
export function tagsCodeOf(tags: string | undefined): number {
  return tags ? javaStringHashCode(tags) : 0;
}

/** Keys to index a record under: each word of KEYS, and the UNIQ_KEY. */
export function indexKeysOf(keys: string | undefined, uniqKey: string | undefined): string[] {
  const out: string[] = [];
  if (keys) for (const k of keys.split(KEY_SEPARATOR)) if (k.length > 0) out.push(k);
  if (uniqKey) out.push(uniqKey);
  return out;
}
