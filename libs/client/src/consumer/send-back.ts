import { PropertyKey, retryTopicOf } from '@apogee/message';
import { RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import { ClientError } from '../errors.js';
import type { ReceivedMessage } from '../message.js';
import { sendBackHeader } from '../protocol/headers.js';
import type { ConsumerRuntime } from './runtime.js';

/** Delay level that sends a message straight to the DLQ. */
export const DLQ_DELAY_LEVEL = -1;

/**
 * Returns a failed message to the broker. First CONSUMER_SEND_MSG_BACK (36) to the master of the
 * broker it came from (the broker re-puts it to `%RETRY%<group>` with a delay, or to the DLQ once
 * reconsumeTimes reaches maxReconsumeTimes or when delayLevel is −1). If that fails, a copy is
 * sent to `%RETRY%<group>` like the Java client does. Throws when both fail.
 */
export async function sendMessageBack(rt: ConsumerRuntime, msg: ReceivedMessage, delayLevel: number): Promise<void> {
  const originMsgId = msg.properties[PropertyKey.ORIGIN_MESSAGE_ID] ?? msg.msgId;
  try {
    const addr = msg.brokerName !== undefined ? await rt.inst.requireMasterAddr(msg.brokerName, msg.storeTopic) : msg.storeHost;
    const header = sendBackHeader({
      offset: msg.commitLogOffset,
      group: rt.group,
      delayLevel,
      originMsgId,
      originTopic: msg.topic,
      maxReconsumeTimes: rt.opts.maxReconsumeTimes,
    });
    const res = await rt.inst.invoke(addr, makeRequest(RequestCode.CONSUMER_SEND_MSG_BACK, { extFields: header }));
    if (res.code !== ResponseCode.SUCCESS) throw ClientError.fromResponse('CONSUMER_SEND_MSG_BACK', res, addr);
    return;
  } catch (err) {
    rt.reportError(err);
  }
  const toDlq = delayLevel < 0;
  // A copy whose reconsumeTimes exceeds the maximum is moved to the DLQ by the broker.
  const reconsumeTimes = toDlq ? rt.opts.maxReconsumeTimes + 1 : msg.reconsumeTimes + 1;
  const props = { ...msg.properties };
  delete props[PropertyKey.TRANSACTION_PREPARED];
  delete props[PropertyKey.DELAY_TIME_LEVEL];
  const extra: Record<string, string> = {
    [PropertyKey.RETRY_TOPIC]: msg.properties[PropertyKey.RETRY_TOPIC] ?? msg.topic,
    [PropertyKey.ORIGIN_MESSAGE_ID]: originMsgId,
    [PropertyKey.RECONSUME_TIME]: String(reconsumeTimes),
    [PropertyKey.MAX_RECONSUME_TIMES]: String(rt.opts.maxReconsumeTimes),
    [PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX]: msg.msgId,
  };
  const copy = { topic: retryTopicOf(rt.group), body: msg.body, flag: msg.flag, properties: props, ...(toDlq ? {} : { delayLevel: 3 + msg.reconsumeTimes }) };
  await rt.sender.send(copy, {}, { reconsumeTimes, maxReconsumeTimes: rt.opts.maxReconsumeTimes, extraProperties: extra });
}
