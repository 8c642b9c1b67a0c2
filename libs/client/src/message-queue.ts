/** One queue of a topic on one broker (RocketMQ MessageQueue). */
export interface MessageQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}

/** Map key of a queue: "topic@brokerName@queueId". */
export function queueKey(q: MessageQueue): string {
  return `${q.topic}@${q.brokerName}@${q.queueId}`;
}

/** Java MessageQueue.compareTo order: topic, then brokerName, then queueId. */
export function compareQueues(a: MessageQueue, b: MessageQueue): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}

export function sameQueue(a: MessageQueue, b: MessageQueue): boolean {
  return a.topic === b.topic && a.brokerName === b.brokerName && a.queueId === b.queueId;
}
