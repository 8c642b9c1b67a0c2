/** Topic and group names with a fixed meaning (RocketMQ TopicValidator / MixAll). */
export const DEFAULT_TOPIC = 'TBW102';
export const SCHEDULE_TOPIC = 'SCHEDULE_TOPIC_XXXX';
export const RETRY_GROUP_TOPIC_PREFIX = '%RETRY%';
export const DLQ_GROUP_TOPIC_PREFIX = '%DLQ%';
export const SYSTEM_TOPIC_PREFIX = 'rmq_sys_';
export const SCHEDULE_CONSUMER_GROUP = 'SCHEDULE_CONSUMER';

/** Topics no client may send to directly (RocketMQ answers NO_PERMISSION). */
const NOT_SENDABLE = new Set([
  SCHEDULE_TOPIC,
  'RMQ_SYS_TRANS_HALF_TOPIC',
  'RMQ_SYS_TRANS_OP_HALF_TOPIC',
  'TRANS_CHECK_MAX_TIME_TOPIC',
  'SELF_TEST_TOPIC',
  'OFFSET_MOVED_EVENT',
]);

export function isNotSendableTopic(topic: string): boolean {
  return NOT_SENDABLE.has(topic) || topic.startsWith(SYSTEM_TOPIC_PREFIX);
}

export const retryTopicOf = (group: string): string => RETRY_GROUP_TOPIC_PREFIX + group;
export const dlqTopicOf = (group: string): string => DLQ_GROUP_TOPIC_PREFIX + group;
export const isRetryTopic = (topic: string): boolean => topic.startsWith(RETRY_GROUP_TOPIC_PREFIX);
export const isDlqTopic = (topic: string): boolean => topic.startsWith(DLQ_GROUP_TOPIC_PREFIX);
