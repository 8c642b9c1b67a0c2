import { ResponseCode, requireClampedLong, requireInt, requireLong, requireString, responseTo } from '@apogee/remoting';
import type { Processor } from './context.js';

/**
 * QUERY_MESSAGE (12): by KEYS word, or by UNIQ_KEY when `_UNIQUE_KEY_QUERY` is "true". The time
 * range takes any long (the Java client's viewMessage ends it at Long.MAX_VALUE).
 */
export const queryMessage: Processor = async (ctx, req) => {
  const e = req.extFields;
  const unique = e['_UNIQUE_KEY_QUERY'] === 'true';
  const hits = await ctx.broker.query.byKey(
    requireString(e, 'topic'),
    requireString(e, 'key'),
    requireInt(e, 'maxNum'),
    requireClampedLong(e, 'beginTimestamp'),
    requireClampedLong(e, 'endTimestamp'),
    unique,
  );
  if (hits.length === 0) return responseTo(req, ResponseCode.QUERY_NOT_FOUND, 'no message found for this key in the time range');
  const last = hits.reduce((a, h) => (h.commitLogOffset > a.commitLogOffset ? h : a));
  return responseTo(
    req,
    ResponseCode.SUCCESS,
    undefined,
    { indexLastUpdateTimestamp: String(last.storeTimestamp), indexLastUpdatePhyoffset: String(last.commitLogOffset) },
    Buffer.concat(hits.map((h) => h.record)),
  );
};

/** VIEW_MESSAGE_BY_ID (33): the record at a commit-log offset. */
export const viewMessageById: Processor = async (ctx, req) => {
  const record = await ctx.broker.query.byOffset(requireLong(req.extFields, 'offset'));
  return responseTo(req, ResponseCode.SUCCESS, undefined, {}, record);
};
