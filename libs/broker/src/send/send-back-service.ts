import { PropertyKey, decodeRecord, dlqTopicOf, retryTopicOf } from '@apogee/message';
import type { MessageStore, PutMessage } from '@apogee/store';
import { resendProperties, resendPut } from './resend.js';
import { BrokerError } from '../errors.js';
import type { GroupManager } from '../group/group-manager.js';
import type { BrokerMetrics } from '../metrics.js';
import type { TopicManager } from '../topic/topic-manager.js';
import type { BrokerTracer } from '../trace/broker-tracer.js';
import { applyDelayLevel } from './delay-routing.js';

/** A consumer hands back a message it failed to consume (CONSUMER_SEND_MSG_BACK). */
export interface SendBackRequest {
  group: string;
  /** Commit-log offset of the message. */
  commitLogOffset: number;
  /** 0 = the broker's schedule (3 + reconsume times); < 0 = straight to the DLQ. */
  delayLevel: number;
  originMsgId?: string;
  /** Max reconsume times the client uses; default the group's retryMaxTimes. */
  maxReconsumeTimes?: number;
  /** The consumer's address, for the trace. */
  remoteAddress?: string;
}

export interface SendBackResult {
  topic: string;
  deadLettered: boolean;
  delayLevel: number;
}

/**
 * Retry and dead-lettering (RocketMQ consumerSendMsgBack): the message is copied into
 * `%RETRY%<group>` with a delay level that grows with its reconsume count, or into
 * `%DLQ%<group>` once it has been tried max times.
 */
export class SendBackService {
  constructor(
    private readonly store: MessageStore,
    private readonly topics: TopicManager,
    private readonly groups: GroupManager,
    private readonly delayLevelCount: number,
    private readonly put: (puts: PutMessage[]) => Promise<unknown>,
    private readonly metrics: BrokerMetrics,
    private readonly tracer?: Pick<BrokerTracer, 'sentBack'>,
  ) {}

  async sendBack(req: SendBackRequest): Promise<SendBackResult> {
    const group = this.groups.getOrCreate(req.group);
    if (!Number.isSafeInteger(req.commitLogOffset) || req.commitLogOffset < 0)
      throw new BrokerError('INVALID_PARAMETER', `offset ${req.commitLogOffset} is not a commit-log offset`);
    const record = await this.store.readRecord(req.commitLogOffset);
    if (!record) throw new BrokerError('SYSTEM_ERROR', `no message at commit-log offset ${req.commitLogOffset} (expired or never stored)`);
    const m = decodeRecord(record);
    // A retry copy belongs to this group alone: no LMQ fan-out, no stale checksum, no old delay.
    const props = resendProperties(m.properties);
    const originTopic = props.get(PropertyKey.RETRY_TOPIC) ?? m.topic;
    if (!props.has(PropertyKey.RETRY_TOPIC)) props.set(PropertyKey.RETRY_TOPIC, m.topic);
    if (!props.has(PropertyKey.ORIGIN_MESSAGE_ID)) props.set(PropertyKey.ORIGIN_MESSAGE_ID, req.originMsgId || m.msgId);
    const max = req.maxReconsumeTimes ?? group.retryMaxTimes;
    const target = { topic: retryTopicOf(req.group), queueId: 0 };
    let deadLettered = false;
    let level = 0;
    if (m.reconsumeTimes >= max || req.delayLevel < 0) {
      deadLettered = true;
      target.topic = dlqTopicOf(req.group);
      await this.topics.ensureDlqTopic(req.group);
      props.set(PropertyKey.DLQ_ORIGIN_TOPIC, originTopic);
      props.set(PropertyKey.DLQ_ORIGIN_MESSAGE_ID, props.get(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? props.get(PropertyKey.ORIGIN_MESSAGE_ID)!);
      this.metrics.deadLettered++;
    } else {
      const retry = await this.topics.ensureRetryTopic(req.group);
      target.queueId = Math.floor(Math.random() * Math.max(1, retry.writeQueueNums));
      level = req.delayLevel === 0 ? 3 + m.reconsumeTimes : req.delayLevel;
      if (applyDelayLevel(target, props, level, this.delayLevelCount)) this.metrics.delayedScheduled++;
    }
    await this.put([resendPut(m, target, props, m.reconsumeTimes + 1)]);
    this.metrics.sendBacks++;
    this.tracer?.sentBack(req.group, m, deadLettered ? dlqTopicOf(req.group) : retryTopicOf(req.group), deadLettered, req.remoteAddress);
    return { topic: deadLettered ? dlqTopicOf(req.group) : retryTopicOf(req.group), deadLettered, delayLevel: level };
  }
}
