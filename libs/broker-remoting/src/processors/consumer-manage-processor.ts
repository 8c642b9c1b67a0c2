import { ResponseCode, optionalBool, optionalString, requireClampedLong, requireInt, requireLong, requireString, responseTo } from '@apogee/remoting';
import type { Processor } from './context.js';

/** QUERY_CONSUMER_OFFSET (14). */
export const queryConsumerOffset: Processor = (ctx, req) => {
  const e = req.extFields;
  const group = requireString(e, 'consumerGroup');
  const topic = requireString(e, 'topic');
  const queueId = requireInt(e, 'queueId');
  const offset = ctx.broker.offsets.query(group, topic, queueId, optionalBool(e, 'setZeroIfNotFound') ?? true);
  if (offset === undefined) return responseTo(req, ResponseCode.QUERY_NOT_FOUND, `no offset stored for group ${group} on ${topic}:${queueId}`);
  return responseTo(req, ResponseCode.SUCCESS, undefined, { offset: String(offset) });
};

/** UPDATE_CONSUMER_OFFSET (15), often oneway. */
export const updateConsumerOffset: Processor = async (ctx, req) => {
  const e = req.extFields;
  await ctx.broker.offsets.commit(requireString(e, 'consumerGroup'), requireString(e, 'topic'), requireInt(e, 'queueId'), requireLong(e, 'commitOffset'));
  return responseTo(req, ResponseCode.SUCCESS);
};

/** GET_MAX_OFFSET (30): the next offset to be written. */
export const getMaxOffset: Processor = (ctx, req) => {
  const offset = ctx.broker.maxOffset(requireString(req.extFields, 'topic'), requireInt(req.extFields, 'queueId'));
  return responseTo(req, ResponseCode.SUCCESS, undefined, { offset: String(offset) });
};

/** GET_MIN_OFFSET (31). */
export const getMinOffset: Processor = (ctx, req) => {
  const offset = ctx.broker.minOffset(requireString(req.extFields, 'topic'), requireInt(req.extFields, 'queueId'));
  return responseTo(req, ResponseCode.SUCCESS, undefined, { offset: String(offset) });
};

/** SEARCH_OFFSET_BY_TIMESTAMP (29): boundaryType "lower" (default) or "upper". */
export const searchOffsetByTimestamp: Processor = async (ctx, req) => {
  const e = req.extFields;
  const boundary = (optionalString(e, 'boundaryType') ?? 'lower').toLowerCase() === 'upper' ? 'upper' : 'lower';
  const offset = await ctx.broker.offsetByTime(requireString(e, 'topic'), requireInt(e, 'queueId'), requireClampedLong(e, 'timestamp'), boundary);
  return responseTo(req, ResponseCode.SUCCESS, undefined, { offset: String(offset) });
};

/** GET_EARLIEST_MSG_STORETIME (32): store time of the queue's first message, -1 if empty. */
export const getEarliestMsgStoreTime: Processor = async (ctx, req) => {
  const topic = requireString(req.extFields, 'topic');
  const queueId = requireInt(req.extFields, 'queueId');
  const engine = ctx.broker;
  const r = await engine.read(topic, queueId, engine.minOffset(topic, queueId), 1);
  const ts = r.messages[0]?.storeTimestamp ?? -1;
  return responseTo(req, ResponseCode.SUCCESS, undefined, { timestamp: String(ts) });
};
