/** Request codes the SDK uses that @apogee/remoting's RequestCode table does not list. */
export const ExtraRequestCode = {
  /** NameServer: every routable topic, body `{"topicList":[…]}`. */
  GET_ALL_TOPIC_LIST_FROM_NAMESERVER: 206,
} as const;

/** PullSysFlag bits (facts §2.2). */
export const PullSysFlag = { COMMIT_OFFSET: 1, SUSPEND: 2, SUBSCRIPTION: 4, CLASS_FILTER: 8, LITE_PULL: 16 } as const;

/** The default topic new topics are auto-created from (TopicValidator.AUTO_CREATE_TOPIC_KEY_TOPIC). */
export const DEFAULT_TOPIC = 'TBW102';
/** Queue count a topic auto-created through a send gets (DefaultMQProducer.defaultTopicQueueNums). */
export const DEFAULT_TOPIC_QUEUE_NUMS = 4;

export function retryTopic(group: string): string {
  return `%RETRY%${group}`;
}

export function dlqTopic(group: string): string {
  return `%DLQ%${group}`;
}
