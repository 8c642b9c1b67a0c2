import { decodeBatchBody, decodeProperties } from '@apogee/message';
import { RequestCode, ResponseCode, responseTo, type RemotingCommand } from '@apogee/remoting';
import type { SendResult } from '@apogee/broker';
import { readSendHeader } from '../headers/send-header.js';
import type { Processor } from './context.js';

/** SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320). */
export const sendMessage: Processor = async (ctx, req, conn) => {
  const h = readSendHeader(req.extFields, req.code !== RequestCode.SEND_MESSAGE);
  const channel = ctx.channels.of(conn);
  const properties = decodeProperties(h.properties ?? '');
  const base = {
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
  };
  const body = req.body ?? Buffer.alloc(0);
  let result: SendResult;
  if (req.code === RequestCode.SEND_BATCH_MESSAGE || h.batch === true) {
    let items;
    try {
      items = decodeBatchBody(body);
    } catch (err) {
      return responseTo(req, ResponseCode.MESSAGE_ILLEGAL, `batch body is malformed: ${(err as Error).message}`);
    }
    result = await ctx.broker.sender.sendBatch({ ...base, items: items.map((it) => ({ body: it.body, flag: it.flag, properties: decodeProperties(it.properties) })) });
  } else {
    const r = { ...base, body };
    result = await ctx.broker.sender.send(h.maxReconsumeTimes === undefined ? r : { ...r, maxReconsumeTimes: h.maxReconsumeTimes });
  }
  return sendResponse(req, result);
};

function sendResponse(req: RemotingCommand, r: SendResult): RemotingCommand {
  const ext: Record<string, string> = {
    msgId: r.msgIds.join(','),
    queueId: String(r.queueId),
    queueOffset: String(r.queueOffset),
    MSG_REGION: 'DefaultRegion',
    TRACE_ON: 'true',
  };
  const uniq = r.uniqKeys.filter((k): k is string => k !== undefined);
  if (uniq.length > 0) ext['transactionId'] = uniq.join(',');
  return responseTo(req, ResponseCode.SUCCESS, undefined, ext);
}
