import { PropertyKey, decodeOffsetMessageId, decodeRecord, retryTopicOf } from '@apogee/message';
import { resendProperties } from '@apogee/broker';
import { ApiError } from '../api-error.js';
import type { AdminDeps, AdminHandler } from '../context.js';
import { field } from '../json-body.js';
import { queryParam } from '../query-params.js';
import { messageView } from './message-view.js';

/** An open-ended time range end for the store lookups (ms). */
export const FOREVER = Number.MAX_SAFE_INTEGER;

/**
 * The record an offset message id names on this store, checked to be that message (a UNIQ_KEY
 * parses as an offset id too); undefined when the id is no offset id or names nothing here.
 */
export async function recordByOffsetMsgId(deps: AdminDeps, id: string): Promise<Buffer | undefined> {
  let offset: number;
  try {
    offset = decodeOffsetMessageId(id).commitLogOffset;
  } catch {
    return undefined;
  }
  const record = await deps.broker.readRecord(offset);
  return record && decodeRecord(record).msgId === id.toUpperCase() ? record : undefined;
}

/**
 * The record of a message id: an offset message id of this store (read by its commit-log offset
 * and checked to be that message), else a client id (UNIQ_KEY) looked up in `topic`.
 */
async function recordOf(deps: AdminDeps, id: string, topic: string | null): Promise<Buffer> {
  if (topic !== null) {
    if (!deps.broker.topics.get(topic)) throw new ApiError('NOT_FOUND', `topic ${topic} does not exist`);
    const hit = (await deps.broker.findByUniqueKey(topic, id, 0, FOREVER))[0];
    if (hit) return hit.record;
  }
  const record = await recordByOffsetMsgId(deps, id);
  if (record) return record;
  throw new ApiError(
    'NOT_FOUND',
    topic === null ? `no message ${id} on this broker (a client message id needs ?topic=)` : `no message ${id} in topic ${topic} on this broker`,
  );
}

/** GET /api/v1/messages/:id[?topic=T]: one message, by offset message id or (with a topic) by client message id. */
export const getMessage: AdminHandler = async (deps, req) => messageView(await recordOf(deps, req.params['id']!, req.query.get('topic')));

/**
 * GET /api/v1/messages?topic=T&key=K[&limit=N] — messages by key (KEYS) — or
 * ?topic=T&queueId=Q&begin=MS&end=MS[&limit=N] — a queue's messages stored in a time range.
 */
export const searchMessages: AdminHandler = async (deps, req) => {
  const q = req.query;
  const topic = queryParam.string(q, 'topic');
  if (!deps.broker.topics.get(topic)) throw new ApiError('NOT_FOUND', `topic ${topic} does not exist`);
  const limit = queryParam.int(q, 'limit', 32, 1, 64);
  const key = q.get('key');
  if (key !== null) {
    if (key.length === 0) throw new ApiError('BAD_REQUEST', 'query parameter "key" is empty');
    const hits = await deps.broker.query.byKey(topic, key, limit, 0, FOREVER, false);
    return { messages: hits.map((h) => messageView(h.record)) };
  }
  if (q.get('queueId') === null) throw new ApiError('BAD_REQUEST', 'give key=K, or queueId=Q with begin and end (epoch ms)');
  const cfg = deps.broker.topics.get(topic)!;
  const queueId = queryParam.int(q, 'queueId', 0, 0, Math.max(0, Math.max(cfg.readQueueNums, cfg.writeQueueNums) - 1));
  const begin = queryParam.int(q, 'begin', 0, 0, FOREVER);
  const end = queryParam.int(q, 'end', FOREVER, 0, FOREVER);
  if (end < begin) throw new ApiError('BAD_REQUEST', '"end" is before "begin"');
  const from = await deps.broker.offsetByTime(topic, queueId, begin, 'lower');
  const messages = [];
  let offset = from;
  const max = deps.broker.maxOffset(topic, queueId);
  while (messages.length < limit && offset < max) {
    const r = await deps.broker.read(topic, queueId, offset, limit - messages.length);
    if (r.messages.length === 0) {
      if (r.nextOffset <= offset) break;
      offset = r.nextOffset;
      continue;
    }
    for (const m of r.messages) {
      if (m.storeTimestamp > end) return { messages, nextOffset: m.queueOffset, more: false };
      messages.push(messageView(m.record));
    }
    offset = r.nextOffset;
  }
  return { messages, nextOffset: offset, more: offset < max };
};

/**
 * POST /api/v1/messages/:id/resend `{group, topic?}`: a copy goes to the group's retry topic, so
 * every member of the group — whatever its client — consumes it again (its reconsume count grows).
 */
export const resendMessage: AdminHandler = async (deps, req) => {
  const body = await req.body();
  const group = field.string(body, 'group')!;
  if (!deps.broker.groups.get(group) && !deps.broker.consumers.get(group)) throw new ApiError('NOT_FOUND', `consumer group ${group} does not exist`);
  const record = await recordOf(deps, req.params['id']!, field.string(body, 'topic', false) ?? null);
  const m = decodeRecord(record);
  const props = resendProperties(m.properties);
  if (!props.has(PropertyKey.RETRY_TOPIC)) props.set(PropertyKey.RETRY_TOPIC, m.topic);
  if (!props.has(PropertyKey.ORIGIN_MESSAGE_ID)) props.set(PropertyKey.ORIGIN_MESSAGE_ID, m.msgId);
  const sent = await deps.broker.send({
    topic: retryTopicOf(group),
    queueId: 0,
    body: m.body,
    flag: m.flag,
    properties: props,
    sysFlag: m.sysFlag,
    bornTimestamp: m.bornTimestamp,
    reconsumeTimes: m.reconsumeTimes + 1,
  });
  return { group, topic: sent.topic, queueId: sent.queueId, queueOffset: sent.queueOffset, msgId: sent.msgIds[0] };
};
