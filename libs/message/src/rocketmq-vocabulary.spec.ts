import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TOPIC,
  DLQ_GROUP_TOPIC_PREFIX,
  LMQ_PREFIX,
  MAX_GROUP_LENGTH,
  MAX_RETRY_TOPIC_LENGTH,
  MAX_TOPIC_LENGTH,
  NOT_SENDABLE_TOPICS,
  PERM_INHERIT,
  PERM_PRIORITY,
  PERM_READ,
  PERM_WRITE,
  Perm,
  RETRY_GROUP_TOPIC_PREFIX,
  SCHEDULE_CONSUMER_GROUP,
  SCHEDULE_TOPIC,
  SYSTEM_TOPICS,
  SYSTEM_TOPIC_PREFIX,
  TOPIC_FILTER_TYPES,
  dlqTopicOf,
  hasNameChars,
  hasSystemTopicPrefixIgnoringCase,
  isDlqTopic,
  isInheritable,
  isNotSendableTopic,
  isPriority,
  isReadable,
  isRetryTopic,
  isSystemTopic,
  isTopicFilterType,
  isWriteable,
  permToString,
  retryTopicOf,
} from './rocketmq-vocabulary.js';

describe('RocketMQ vocabulary', () => {
  it('has RocketMQ’s values for the fixed names', () => {
    expect([RETRY_GROUP_TOPIC_PREFIX, DLQ_GROUP_TOPIC_PREFIX, LMQ_PREFIX]).toEqual(['%RETRY%', '%DLQ%', '%LMQ%']);
    expect([DEFAULT_TOPIC, SCHEDULE_TOPIC, SYSTEM_TOPIC_PREFIX, SCHEDULE_CONSUMER_GROUP]).toEqual([
      'TBW102',
      'SCHEDULE_TOPIC_XXXX',
      'rmq_sys_',
      'SCHEDULE_CONSUMER',
    ]);
    expect([MAX_TOPIC_LENGTH, MAX_RETRY_TOPIC_LENGTH, MAX_GROUP_LENGTH]).toEqual([127, 255, 255]);
  });

  it('lists TopicValidator’s system topics, and the not-sendable ones among them', () => {
    expect([...SYSTEM_TOPICS].sort()).toEqual(
      [
        'BenchmarkTest',
        'CHECKPOINT_TOPIC',
        'OFFSET_MOVED_EVENT',
        'RMQ_SYS_TRACE_TOPIC',
        'RMQ_SYS_TRANS_HALF_TOPIC',
        'RMQ_SYS_TRANS_OP_HALF_TOPIC',
        'SCHEDULE_TOPIC_XXXX',
        'SELF_TEST_TOPIC',
        'TBW102',
        'TRANS_CHECK_MAX_TIME_TOPIC',
      ].sort(),
    );
    expect([...NOT_SENDABLE_TOPICS].sort()).toEqual(
      [
        'OFFSET_MOVED_EVENT',
        'RMQ_SYS_TRANS_HALF_TOPIC',
        'RMQ_SYS_TRANS_OP_HALF_TOPIC',
        'SCHEDULE_TOPIC_XXXX',
        'SELF_TEST_TOPIC',
        'TRANS_CHECK_MAX_TIME_TOPIC',
      ].sort(),
    );
    for (const t of NOT_SENDABLE_TOPICS) expect(SYSTEM_TOPICS.has(t)).toBe(true);
  });

  it('isSystemTopic holds for every listed topic and every rmq_sys_ name, and for nothing else', () => {
    for (const t of SYSTEM_TOPICS) expect(isSystemTopic(t), t).toBe(true);
    for (const t of ['rmq_sys_wheel_timer', 'rmq_sys_']) expect(isSystemTopic(t), t).toBe(true);
    for (const t of ['TopicTest', 'tbw102', 'TBW1021', 'RMQ_SYS_other', 'xrmq_sys_', '%RETRY%g', '%DLQ%g', '%LMQ%a']) expect(isSystemTopic(t), t).toBe(false);
  });

  it('isNotSendableTopic holds for the not-sendable list and rmq_sys_ names only', () => {
    for (const t of NOT_SENDABLE_TOPICS) expect(isNotSendableTopic(t), t).toBe(true);
    expect(isNotSendableTopic('rmq_sys_x')).toBe(true);
    for (const t of ['TBW102', 'BenchmarkTest', 'RMQ_SYS_TRACE_TOPIC', 'CHECKPOINT_TOPIC', 'RMQ_SYS_x', 'TopicTest'])
      expect(isNotSendableTopic(t), t).toBe(false);
  });

  it('hasSystemTopicPrefixIgnoringCase ignores case, and only the prefix counts', () => {
    for (const t of ['rmq_sys_', 'RMQ_SYS_TRACE_TOPIC', 'Rmq_Sys_x']) expect(hasSystemTopicPrefixIgnoringCase(t), t).toBe(true);
    for (const t of ['', 'rmq_sys', 'rmq-sys_x', 'x_rmq_sys_', 'TBW102']) expect(hasSystemTopicPrefixIgnoringCase(t), t).toBe(false);
  });

  it('names retry and DLQ topics of a group', () => {
    expect(retryTopicOf('g')).toBe('%RETRY%g');
    expect(dlqTopicOf('g')).toBe('%DLQ%g');
    expect([isRetryTopic('%RETRY%g'), isRetryTopic('%DLQ%g'), isRetryTopic('g%RETRY%')]).toEqual([true, false, false]);
    expect([isDlqTopic('%DLQ%g'), isDlqTopic('%RETRY%g'), isDlqTopic('DLQ')]).toEqual([true, false, false]);
  });

  it('has PermName’s bits and tests each on its own', () => {
    expect([PERM_PRIORITY, PERM_READ, PERM_WRITE, PERM_INHERIT]).toEqual([8, 4, 2, 1]);
    expect(Perm).toEqual({ PRIORITY: 8, READ: 4, WRITE: 2, INHERIT: 1 });
    expect(PERM_READ | PERM_WRITE).toBe(6);
    const tests = (p: number) => [isReadable(p), isWriteable(p), isInheritable(p), isPriority(p)];
    expect(tests(6)).toEqual([true, true, false, false]);
    expect(tests(7)).toEqual([true, true, true, false]);
    expect(tests(4)).toEqual([true, false, false, false]);
    expect(tests(2)).toEqual([false, true, false, false]);
    expect(tests(8)).toEqual([false, false, false, true]);
    expect(tests(0)).toEqual([false, false, false, false]);
    expect([0, 1, 2, 4, 6, 7, 15].map(permToString)).toEqual(['---', '--X', '-W-', 'R--', 'RW-', 'RWX', 'RWX']);
  });

  it('knows the two topic filter types', () => {
    expect(TOPIC_FILTER_TYPES).toEqual(['SINGLE_TAG', 'MULTI_TAG']);
    for (const t of TOPIC_FILTER_TYPES) expect(isTopicFilterType(t)).toBe(true);
    for (const t of ['single_tag', 'TAG', '', undefined, 1]) expect(isTopicFilterType(t)).toBe(false);
  });

  it('accepts the name charset [%|a-zA-Z0-9_-] only', () => {
    for (const n of ['a', 'A-b_c|d%e', '0123456789', '%RETRY%g']) expect(hasNameChars(n), n).toBe(true);
    for (const n of ['', 'a b', 'a.b', 'a/b', 'ä', 'a,b', 'a\n']) expect(hasNameChars(n), n).toBe(false);
  });
});
