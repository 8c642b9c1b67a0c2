import { type ReceivedMessage, type TraceLookups, ClientError, gatherMessageTrace, toReceivedMessage } from '@apogee/client';
import { decodeRecord } from '@apogee/message';
import { ApiError } from '../api-error.js';
import type { AdminDeps, AdminHandler } from '../context.js';
import { FOREVER, recordByOffsetMsgId } from './messages.js';

/** As many trace bodies per id as the SDK's gatherer asks a broker for. */
const MAX_TRACE_HITS = 64;

/**
 * The trace gatherer's lookups answered by this broker's engine directly — the same questions the
 * SDK's Admin asks over remoting (QUERY_MESSAGE, VIEW_MESSAGE_BY_ID, QUERY_TOPIC_CONSUME_BY_WHO,
 * QUERY_CONSUMER_OFFSET), so the API's timeline and `apogee message trace` agree.
 */
export function engineTraceLookups(deps: AdminDeps): TraceLookups {
  const { broker } = deps;
  const brokerName = broker.config.brokerName;
  const view = (record: Buffer): ReceivedMessage => toReceivedMessage(decodeRecord(record), brokerName);
  return {
    byKey: async (topic, key) => {
      if (!broker.topics.get(topic)) return [];
      return (await broker.query.byKey(topic, key, MAX_TRACE_HITS, 0, FOREVER, false)).map((h) => view(h.record));
    },
    byUniqKey: async (topic, key) => {
      if (!broker.topics.get(topic)) return [];
      return (await broker.findByUniqueKey(topic, key, 0, FOREVER)).map((h) => view(h.record));
    },
    byOffsetMsgId: async (id) => {
      const record = await recordByOffsetMsgId(deps, id);
      return record ? view(record) : undefined;
    },
    consumerGroups: async (topic) => broker.groupsConsuming(topic),
    committedOffset: async (group, m) => broker.offsets.query(group, m.storeTopic, m.queueId, false) ?? -1,
  };
}

/**
 * GET /api/v1/messages/:id/trace[?topic=T][&traceTopic=T]: the message's timeline (docs/trace.md) —
 * publish, store, deliveries and consume results per group, retries, dead letter, transaction end —
 * from the trace records on this broker and what the message and the groups' offsets tell.
 */
export const getMessageTrace: AdminHandler = async (deps, req) => {
  const opts: { topic?: string; traceTopic?: string } = {};
  const topic = req.query.get('topic');
  const traceTopic = req.query.get('traceTopic');
  if (topic !== null && topic.length > 0) opts.topic = topic;
  if (traceTopic !== null && traceTopic.length > 0) opts.traceTopic = traceTopic;
  try {
    return await gatherMessageTrace(engineTraceLookups(deps), req.params['id']!, opts);
  } catch (err) {
    if (err instanceof ClientError) throw new ApiError('BAD_REQUEST', err.message);
    throw err;
  }
};
