import { BrokerError, type MessageQueueRef } from '@apogee/broker';
import { ResponseCode, optionalInt, optionalString, requireInt, requireLong, requireString, responseTo } from '@apogee/remoting';
import { parseHeartbeat } from '../headers/heartbeat-body.js';
import { jsonBody, type Processor } from './context.js';

/** HEART_BEAT (34): registers the client's producer and consumer groups on this connection. */
export const heartbeat: Processor = async (ctx, req, conn) => {
  const hb = parseHeartbeat(req.body);
  const channel = ctx.channels.of(conn);
  channel.clientId = hb.clientId;
  await ctx.broker.heartbeat(channel, { ...hb, language: req.language, version: req.version });
  return responseTo(req, ResponseCode.SUCCESS, undefined, { IS_SUPPORT_HEART_BEAT_V2: 'false', IS_SUB_CHANGE: 'true' });
};

/** UNREGISTER_CLIENT (35). */
export const unregisterClient: Processor = (ctx, req, conn) => {
  requireString(req.extFields, 'clientID');
  ctx.broker.unregisterClient(ctx.channels.of(conn), optionalString(req.extFields, 'producerGroup'), optionalString(req.extFields, 'consumerGroup'));
  return responseTo(req, ResponseCode.SUCCESS);
};

/** GET_CONSUMER_LIST_BY_GROUP (38): body `{"consumerIdList":[…]}`. */
export const getConsumerListByGroup: Processor = (ctx, req) => {
  const group = requireString(req.extFields, 'consumerGroup');
  const ids = ctx.broker.consumers.clientIds(group);
  if (ids.length === 0) return responseTo(req, ResponseCode.SYSTEM_ERROR, `no consumer of group ${group} is connected to this broker`);
  return responseTo(req, ResponseCode.SUCCESS, undefined, {}, jsonBody({ consumerIdList: ids }));
};

interface LockBody {
  consumerGroup: string;
  clientId: string;
  mqSet: MessageQueueRef[];
}

function parseLockBody(body: Buffer | undefined): LockBody {
  let doc: any;
  try {
    doc = JSON.parse((body ?? Buffer.alloc(0)).toString('utf8'));
  } catch {
    throw new BrokerError('INVALID_PARAMETER', 'lock body is not JSON');
  }
  if (typeof doc?.consumerGroup !== 'string' || typeof doc?.clientId !== 'string' || !Array.isArray(doc?.mqSet)) {
    throw new BrokerError('INVALID_PARAMETER', 'lock body needs consumerGroup, clientId and mqSet');
  }
  const mqSet: MessageQueueRef[] = doc.mqSet
    .filter((q: any) => typeof q?.topic === 'string' && Number.isInteger(Number(q?.queueId)))
    .map((q: any) => ({ topic: q.topic, brokerName: String(q.brokerName ?? ''), queueId: Number(q.queueId) }));
  return { consumerGroup: doc.consumerGroup, clientId: doc.clientId, mqSet };
}

/** LOCK_BATCH_MQ (41): body `{"lockOKMQSet":[…]}` = the queues this client now holds. */
export const lockBatchMq: Processor = (ctx, req) => {
  const b = parseLockBody(req.body);
  const ok = ctx.broker.lockQueues(b.consumerGroup, b.clientId, b.mqSet);
  return responseTo(req, ResponseCode.SUCCESS, undefined, {}, jsonBody({ lockOKMQSet: ok }));
};

/** UNLOCK_BATCH_MQ (42). */
export const unlockBatchMq: Processor = (ctx, req) => {
  const b = parseLockBody(req.body);
  ctx.broker.unlockQueues(b.consumerGroup, b.clientId, b.mqSet);
  return responseTo(req, ResponseCode.SUCCESS);
};

/** CONSUMER_SEND_MSG_BACK (36): retry later via `%RETRY%<group>`, or dead-letter. */
export const consumerSendMsgBack: Processor = async (ctx, req, conn) => {
  const e = req.extFields;
  const sendBack = {
    group: requireString(e, 'group'),
    commitLogOffset: requireLong(e, 'offset'),
    delayLevel: requireInt(e, 'delayLevel'),
    remoteAddress: ctx.channels.of(conn).remoteAddress,
  } as Parameters<typeof ctx.broker.sendBack.sendBack>[0];
  const originMsgId = optionalString(e, 'originMsgId');
  if (originMsgId) sendBack.originMsgId = originMsgId;
  // Clients older than V3_4_9 (121) do not send a trustworthy maxReconsumeTimes.
  const max = optionalInt(e, 'maxReconsumeTimes');
  if (max !== undefined && req.version >= 121) sendBack.maxReconsumeTimes = max;
  await ctx.broker.sendBack.sendBack(sendBack);
  return responseTo(req, ResponseCode.SUCCESS);
};
