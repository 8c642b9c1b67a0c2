import { type HostAddress, decodeBatchBody, decodeProperties } from '@apogee/message';
import { RequestCode, ResponseCode, responseTo, type RemotingCommand } from '@apogee/remoting';
import type { BrokerConfig, SendBatchRequest, SendRequest, SendResult } from '@apogee/broker';
import { type SendMessageHeader, readSendHeader } from '../headers/send-header.js';
import type { Processor } from './context.js';

/** SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320). */
export const sendMessage: Processor = (ctx, req, conn) => {
  const h = readSendHeader(req.extFields, req.code !== RequestCode.SEND_MESSAGE);
  const base = requestOf(h, ctx.channels.of(conn).bornHost);
  const body = req.body ?? EMPTY;
  if (req.code === RequestCode.SEND_BATCH_MESSAGE || h.batch === true) {
    let items;
    try {
      items = decodeBatchBody(body);
    } catch (err) {
      return responseTo(req, ResponseCode.MESSAGE_ILLEGAL, `batch body is malformed: ${(err as Error).message}`);
    }
    const batch: SendBatchRequest = { ...base, items: items.map((it) => ({ body: it.body, flag: it.flag, properties: decodeProperties(it.properties) })) };
    return ctx.broker.sendBatch(batch).then((r) => sendResponse(req, r, ctx.broker.config));
  }
  // The per-message path: the one request object gets its body (no copy).
  const one = base as SendRequest;
  one.body = body;
  if (h.maxReconsumeTimes !== undefined) one.maxReconsumeTimes = h.maxReconsumeTimes;
  return ctx.broker.send(one).then((r) => sendResponse(req, r, ctx.broker.config));
};

/** What a single send and a batch share: the header's fields and the connection's born host. */
function requestOf(h: SendMessageHeader, bornHost: HostAddress): Omit<SendRequest, 'body'> {
  return {
    producerGroup: h.producerGroup,
    topic: h.topic,
    defaultTopic: h.defaultTopic,
    defaultTopicQueueNums: h.defaultTopicQueueNums,
    queueId: h.queueId,
    sysFlag: h.sysFlag,
    bornTimestamp: h.bornTimestamp,
    bornHost,
    flag: h.flag,
    properties: decodeProperties(h.properties ?? ''),
    reconsumeTimes: h.reconsumeTimes ?? 0,
  };
}

const EMPTY = Buffer.alloc(0);

/**
 * MSG_REGION and TRACE_ON tell tracing clients the region and whether to trace (RocketMQ
 * SendMessageProcessor); FLUSH_SLAVE_TIMEOUT (12) and SLAVE_NOT_AVAILABLE (11) carry the same header.
 */
function sendResponse(req: RemotingCommand, r: SendResult, cfg: Pick<BrokerConfig, 'regionId' | 'traceOn'>): RemotingCommand {
  const ext: Record<string, string> = {
    msgId: r.msgIds.length === 1 ? r.msgIds[0]! : r.msgIds.join(','),
    queueId: String(r.queueId),
    queueOffset: String(r.queueOffset),
    MSG_REGION: cfg.regionId,
    TRACE_ON: String(cfg.traceOn),
  };
  if (r.uniqKeys.length === 1) {
    if (r.uniqKeys[0] !== undefined) ext['transactionId'] = r.uniqKeys[0];
  } else {
    const uniq = r.uniqKeys.filter((k): k is string => k !== undefined);
    if (uniq.length > 0) ext['transactionId'] = uniq.join(',');
  }
  // Synchronous replication fell short: stored here, answered with the normal header and RocketMQ's status code.
  if (r.status === 'FLUSH_SLAVE_TIMEOUT') return responseTo(req, ResponseCode.FLUSH_SLAVE_TIMEOUT, 'the replicas did not confirm the message in time', ext);
  if (r.status === 'SLAVE_NOT_AVAILABLE') return responseTo(req, ResponseCode.SLAVE_NOT_AVAILABLE, 'too few replicas in sync', ext);
  return responseTo(req, ResponseCode.SUCCESS, undefined, ext);
}
