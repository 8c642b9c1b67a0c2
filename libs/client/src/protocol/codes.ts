/** Request codes the SDK uses that @apogee/remoting's RequestCode table does not list. */
export const ExtraRequestCode = {
  /** NameServer: every routable topic, body `{"topicList":[…]}`. */
  GET_ALL_TOPIC_LIST_FROM_NAMESERVER: 206,
} as const;

/** PullSysFlag bits (facts §2.2). */
export const PullSysFlag = { COMMIT_OFFSET: 1, SUSPEND: 2, SUBSCRIPTION: 4, CLASS_FILTER: 8, LITE_PULL: 16 } as const;

/** Queue count a topic auto-created through a send gets (DefaultMQProducer.defaultTopicQueueNums). */
export const DEFAULT_TOPIC_QUEUE_NUMS = 4;
