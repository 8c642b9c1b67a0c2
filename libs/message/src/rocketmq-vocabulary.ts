/**
 * RocketMQ's fixed names, in one place: the topic and group names with a meaning of their own,
 * the system-topic rules, the permission bits, the topic filter types and the name charset and
 * length limits. Every package takes them from here (this is the bottom layer, so all can).
 *
 * The values are RocketMQ's own; the comments name the Java constant each one mirrors
 * (org.apache.rocketmq.common.topic.TopicValidator, org.apache.rocketmq.common.MixAll,
 * org.apache.rocketmq.common.constant.PermName, org.apache.rocketmq.common.TopicFilterType,
 * org.apache.rocketmq.client.Validators).
 */

// ---------------------------------------------------------------------------------------------
// Name prefixes (MixAll)
// ---------------------------------------------------------------------------------------------

/** Prefix of a consumer group's retry topic, `%RETRY%<group>` (MixAll.RETRY_GROUP_TOPIC_PREFIX). */
export const RETRY_GROUP_TOPIC_PREFIX = '%RETRY%';
/** Prefix of a consumer group's dead-letter topic, `%DLQ%<group>` (MixAll.DLQ_GROUP_TOPIC_PREFIX). */
export const DLQ_GROUP_TOPIC_PREFIX = '%DLQ%';
/** Prefix of light message queue names, `%LMQ%<name>` (MixAll.LMQ_PREFIX). */
export const LMQ_PREFIX = '%LMQ%';

export const retryTopicOf = (group: string): string => RETRY_GROUP_TOPIC_PREFIX + group;
export const dlqTopicOf = (group: string): string => DLQ_GROUP_TOPIC_PREFIX + group;
export const isRetryTopic = (topic: string): boolean => topic.startsWith(RETRY_GROUP_TOPIC_PREFIX);
export const isDlqTopic = (topic: string): boolean => topic.startsWith(DLQ_GROUP_TOPIC_PREFIX);

// ---------------------------------------------------------------------------------------------
// System topics and groups (TopicValidator, MixAll)
// ---------------------------------------------------------------------------------------------

/** The default topic new topics are auto-created from (TopicValidator.AUTO_CREATE_TOPIC_KEY_TOPIC). */
export const DEFAULT_TOPIC = 'TBW102';
/** Where delayed messages wait for their level (TopicValidator.RMQ_SYS_SCHEDULE_TOPIC). */
export const SCHEDULE_TOPIC = 'SCHEDULE_TOPIC_XXXX';
/** TopicValidator.RMQ_SYS_BENCHMARK_TOPIC. */
export const BENCHMARK_TOPIC = 'BenchmarkTest';
/** Prepared transaction messages (TopicValidator.RMQ_SYS_TRANS_HALF_TOPIC). */
export const TRANS_HALF_TOPIC = 'RMQ_SYS_TRANS_HALF_TOPIC';
/** Message traces (TopicValidator.RMQ_SYS_TRACE_TOPIC). */
export const TRACE_TOPIC = 'RMQ_SYS_TRACE_TOPIC';
/** Committed / rolled-back markers of prepared messages (TopicValidator.RMQ_SYS_TRANS_OP_HALF_TOPIC). */
export const TRANS_OP_HALF_TOPIC = 'RMQ_SYS_TRANS_OP_HALF_TOPIC';
/** Transactions whose check count ran out (TopicValidator.RMQ_SYS_TRANS_CHECK_MAX_TIME_TOPIC). */
export const TRANS_CHECK_MAX_TIME_TOPIC = 'TRANS_CHECK_MAX_TIME_TOPIC';
/** TopicValidator.RMQ_SYS_SELF_TEST_TOPIC. */
export const SELF_TEST_TOPIC = 'SELF_TEST_TOPIC';
/** Offset-moved events (TopicValidator.RMQ_SYS_OFFSET_MOVED_EVENT). */
export const OFFSET_MOVED_EVENT = 'OFFSET_MOVED_EVENT';
/** TopicValidator.RMQ_SYS_ROCKSDB_OFFSET_TOPIC. */
export const CHECKPOINT_TOPIC = 'CHECKPOINT_TOPIC';
/** Prefix of system topics (TopicValidator.SYSTEM_TOPIC_PREFIX); RocketMQ matches it case-sensitively. */
export const SYSTEM_TOPIC_PREFIX = 'rmq_sys_';
/** Where timer (RIP-43, arbitrary delay) messages wait, queue 0 (TimerMessageStore.TIMER_TOPIC). */
export const TIMER_TOPIC = SYSTEM_TOPIC_PREFIX + 'wheel_timer';
/** The group the timer service commits its indexing progress under (Apogee's; RocketMQ keeps a checkpoint file). */
export const TIMER_CONSUMER_GROUP = 'rmq_sys_TIMER_CONSUMER';
/** The group the schedule service commits its progress under (MixAll.SCHEDULE_CONSUMER_GROUP). */
export const SCHEDULE_CONSUMER_GROUP = 'SCHEDULE_CONSUMER';
/** The group the transaction service commits its progress over the half and op queues under (MixAll.CID_RMQ_SYS_TRANS). */
export const TRANS_SYS_CONSUMER_GROUP = 'CID_RMQ_SYS_TRANS';

/** The named system topics (TopicValidator.SYSTEM_TOPIC_SET). */
export const SYSTEM_TOPICS: ReadonlySet<string> = new Set([
  DEFAULT_TOPIC,
  SCHEDULE_TOPIC,
  BENCHMARK_TOPIC,
  TRANS_HALF_TOPIC,
  TRACE_TOPIC,
  TRANS_OP_HALF_TOPIC,
  TRANS_CHECK_MAX_TIME_TOPIC,
  SELF_TEST_TOPIC,
  OFFSET_MOVED_EVENT,
  CHECKPOINT_TOPIC,
]);

/** Topics no client may send to directly; RocketMQ answers NO_PERMISSION (TopicValidator.NOT_ALLOWED_SEND_TOPIC_SET). */
export const NOT_SENDABLE_TOPICS: ReadonlySet<string> = new Set([
  SCHEDULE_TOPIC,
  TRANS_HALF_TOPIC,
  TRANS_OP_HALF_TOPIC,
  TRANS_CHECK_MAX_TIME_TOPIC,
  SELF_TEST_TOPIC,
  OFFSET_MOVED_EVENT,
]);

/** TopicValidator.isSystemTopic: a named system topic, or one starting with `rmq_sys_`. */
export function isSystemTopic(topic: string): boolean {
  return SYSTEM_TOPICS.has(topic) || topic.startsWith(SYSTEM_TOPIC_PREFIX);
}

/** Sends to this topic are refused: a not-sendable system topic, or one starting with `rmq_sys_`. */
export function isNotSendableTopic(topic: string): boolean {
  return NOT_SENDABLE_TOPICS.has(topic) || topic.startsWith(SYSTEM_TOPIC_PREFIX);
}

/**
 * Whether a name starts with `rmq_sys_` in any case (`RMQ_SYS_…` too). Stricter than RocketMQ's
 * own test; the gateways use it so that a name they derive never even looks like a system topic.
 */
export function hasSystemTopicPrefixIgnoringCase(name: string): boolean {
  return name.length >= SYSTEM_TOPIC_PREFIX.length && name.slice(0, SYSTEM_TOPIC_PREFIX.length).toLowerCase() === SYSTEM_TOPIC_PREFIX;
}

// ---------------------------------------------------------------------------------------------
// Permission bits (PermName)
// ---------------------------------------------------------------------------------------------

/** PermName.PERM_PRIORITY. */
export const PERM_PRIORITY = 8;
/** PermName.PERM_READ: consumers may pull. */
export const PERM_READ = 4;
/** PermName.PERM_WRITE: producers may send. */
export const PERM_WRITE = 2;
/** PermName.PERM_INHERIT: topics may be auto-created from this one (TBW102 with autoCreateTopicEnable). */
export const PERM_INHERIT = 1;

/** The PermName bits as one object; a normal topic is `Perm.READ | Perm.WRITE` (6). */
export const Perm = { PRIORITY: PERM_PRIORITY, READ: PERM_READ, WRITE: PERM_WRITE, INHERIT: PERM_INHERIT } as const;

/** PermName.isReadable. */
export const isReadable = (perm: number): boolean => (perm & PERM_READ) !== 0;
/** PermName.isWriteable. */
export const isWriteable = (perm: number): boolean => (perm & PERM_WRITE) !== 0;
/** PermName.isInherited. */
export const isInheritable = (perm: number): boolean => (perm & PERM_INHERIT) !== 0;
/** PermName.isPriority. */
export const isPriority = (perm: number): boolean => (perm & PERM_PRIORITY) !== 0;

/** PermName.perm2String: `R`, `W`, `X` (inherit) or `-` each, e.g. 6 → `RW-`. */
export function permToString(perm: number): string {
  return (isReadable(perm) ? 'R' : '-') + (isWriteable(perm) ? 'W' : '-') + (isInheritable(perm) ? 'X' : '-');
}

// ---------------------------------------------------------------------------------------------
// Topic filter types (TopicFilterType)
// ---------------------------------------------------------------------------------------------

/** TopicFilterType: how a topic's messages carry tags. */
export type TopicFilterType = 'SINGLE_TAG' | 'MULTI_TAG';
export const TOPIC_FILTER_TYPES: readonly TopicFilterType[] = ['SINGLE_TAG', 'MULTI_TAG'];
/** The filter type of every topic nobody said otherwise for. */
export const DEFAULT_TOPIC_FILTER_TYPE: TopicFilterType = 'SINGLE_TAG';

export function isTopicFilterType(value: unknown): value is TopicFilterType {
  return value === 'SINGLE_TAG' || value === 'MULTI_TAG';
}

// ---------------------------------------------------------------------------------------------
// Name charset and lengths (TopicValidator, Validators)
// ---------------------------------------------------------------------------------------------

/** Characters of topic and group names, `[%|a-zA-Z0-9_-]` (TopicValidator.VALID_CHAR_BIT_MAP). */
export const NAME_CHARS = /^[%|a-zA-Z0-9_-]+$/;
/** Longest ordinary topic (TopicValidator.TOPIC_MAX_LENGTH). */
export const MAX_TOPIC_LENGTH = 127;
/** Longest retry or DLQ topic: a prefix plus a group name of up to 255 characters may take 255. */
export const MAX_RETRY_TOPIC_LENGTH = 255;
/** Longest consumer group name (Validators.CHARACTER_MAX_LENGTH). */
export const MAX_GROUP_LENGTH = 255;

/** Whether `name` consists of `[%|a-zA-Z0-9_-]` only (and is not empty). */
export function hasNameChars(name: string): boolean {
  return NAME_CHARS.test(name);
}
