import { decodeBatchBody, decodeProperties } from '@apogee/message';
import { RequestCode, ResponseCode, responseTo, type RemotingCommand } from '@apogee/remoting';
import type { SendBatchRequest, SendRequest, SendResult } from '@apogee/broker';
import { readSendHeader } from '../headers/send-header.js';
import type { Processor } from './context.js';

/** SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320). */
export const sendMessage: Processor = (ctx, req, conn) => {
  const h = readSendHeader(req.extFields, req.code !== RequestCode.SEND_MESSAGE);
  const channel = ctx.channels.of(conn);
  const properties = decodeProperties(h.properties ?? '');
  const body = req.body ?? EMPTY;
  if (req.code === RequestCode.SEND_BATCH_MESSAGE || h.batch === true) {
    let items;
    try {
      items = decodeBatchBody(body);
    } catch (err) {
      return responseTo(req, ResponseCode.MESSAGE_ILLEGAL, `batch body is malformed: ${(err as Error).message}`);
    }
    const batch: SendBatchRequest = {
      producerGroup: h.producerGroup,
      topic: h.topic,
      defaultTopic: h.defaultTopic,
      defaultTopicQueueNums: h.defaultTopicQueueNums,
      queueId: h.queueId,
      sysFlag: h.sysFlag,
      bornTimestamp: h.bornTimestamp,
      bornHost: channel.bornHost,
      flag: h.flag,
      properties,
      reconsumeTimes: h.reconsumeTimes ?? 0,
      items: items.map((it) => ({ body: it.body, flag: it.flag, properties: decodeProperties(it.properties) })),
    };
    return ctx.broker.sender.sendBatch(batch).then((r) => sendResponse(req, r));
  }
  // One object per message, built once (this is the per-message path).
  const one: SendRequest = {
    producerGroup: h.producerGroup,
    topic: h.topic,
    defaultTopic: h.defaultTopic,
    defaultTopicQueueNums: h.defaultTopicQueueNums,
    queueId: h.queueId,
    sysFlag: h.sysFlag,
    bornTimestamp: h.bornTimestamp,
    bornHost: channel.bornHost,
    flag: h.flag,
    properties,
    body,
    reconsumeTimes: h.reconsumeTimes ?? 0,
  };
  if (h.maxReconsumeTimes !== undefined) one.maxReconsumeTimes = h.maxReconsumeTimes;
  return ctx.broker.sender.send(one).then((r) => sendResponse(req, r));
};

const EMPTY = Buffer.alloc(0);

function sendResponse(req: RemotingCommand, r: SendResult): RemotingCommand {
  const ext: Record<string, string> = {
    msgId: r.msgIds.length === 1 ? r.msgIds[0]! : r.msgIds.join(','),
    queueId: String(r.queueId),
    queueOffset: String(r.queueOffset),
    MSG_REGION: 'DefaultRegion',
    TRACE_ON: 'true',
  };
  if (r.uniqKeys.length === 1) {
    if (r.uniqKeys[0] !== undefined) ext['transactionId'] = r.uniqKeys[0];
  } else {
    const uniq = r.uniqKeys.filter((k): k is string => k !== undefined);
    if (uniq.length > 0) ext['transactionId'] = uniq.join(',');
  }
  return responseTo(req, ResponseCode.SUCCESS, undefined, ext);
}
