import {
  BROKER_TRACE_TOPIC,
  TRACE_TOPIC,
  type TraceRecord,
  decodeTraceRecords,
  dlqTopicOf,
  encodeTraceRecord,
  isBrokerTraceRecord,
  retryTopicOf,
} from '@apogee/message';
import { ClientError, ClientErrorCode } from '../errors.js';
import type { ReceivedMessage } from '../message.js';
import { type CommittedPosition, type MessageTrace, assembleTimeline } from './timeline.js';

/** Options of Admin.queryMessageTrace. */
export interface MessageTraceOptions {
  /**
   * The message's topic. Needed to find a message by its UNIQ_KEY when no trace record names its
   * topic (clients not tracing, broker Store records off); an offset message id needs none.
   */
  topic?: string;
  /** The clients' trace topic. Default RMQ_SYS_TRACE_TOPIC. */
  traceTopic?: string;
}

/** What the gatherer asks of the cluster (Admin implements it over remoting requests). */
export interface TraceLookups {
  /** QUERY_MESSAGE by KEYS word; [] when the topic has no route. */
  byKey(topic: string, key: string): Promise<ReceivedMessage[]>;
  /** QUERY_MESSAGE by UNIQ_KEY; [] when the topic has no route. */
  byUniqKey(topic: string, uniqKey: string): Promise<ReceivedMessage[]>;
  /** VIEW_MESSAGE_BY_ID; undefined when `id` is no offset message id or names nothing. */
  byOffsetMsgId(id: string): Promise<ReceivedMessage | undefined>;
  /** QUERY_TOPIC_CONSUME_BY_WHO over the topic's brokers. */
  consumerGroups(topic: string): Promise<string[]>;
  /** The group's committed offset on the message's queue, −1 when none. */
  committedOffset(group: string, m: ReceivedMessage): Promise<number>;
}

const recordMsgIds = (r: TraceRecord): string[] => (isBrokerTraceRecord(r) ? [r.msgId, r.offsetMsgId] : [r.msgId]);

/**
 * Gathers a message's trace (like RocketMQ's QueryMsgTraceById plus queryMsgTrackByMsgId): the
 * trace records keyed by its ids in both trace topics, the message itself (by UNIQ_KEY in its
 * topic, or by offset message id), its retry and dead-letter copies per consumer group, and each
 * group's committed offsets — then assembles the timeline.
 */
export async function gatherMessageTrace(lookups: TraceLookups, msgId: string, opts: MessageTraceOptions = {}): Promise<MessageTrace> {
  if (typeof msgId !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(msgId))
    throw new ClientError(ClientErrorCode.ILLEGAL_ARGUMENT, `not a message id: ${JSON.stringify(msgId)} (1-128 printable characters, no spaces)`);
  const traceTopics = [opts.traceTopic ?? TRACE_TOPIC, BROKER_TRACE_TOPIC];
  const records = new Map<string, TraceRecord>();
  let skipped = 0;
  const ids = new Set<string>();
  const addRecordsFor = async (id: string): Promise<void> => {
    if (ids.has(id)) return;
    ids.add(id);
    const found = (await Promise.all(traceTopics.map((t) => lookups.byKey(t, id)))).flat();
    for (const tm of found) {
      const body = decodeTraceRecords(tm.body);
      skipped += body.skipped;
      for (const r of body.records) if (recordMsgIds(r).includes(id)) records.set(encodeTraceRecord(r), r);
    }
  };
  await addRecordsFor(msgId);

  const message = await findMessage(lookups, msgId, opts.topic, [...records.values()]);
  if (message) {
    await addRecordsFor(message.msgId);
    await addRecordsFor(message.offsetMsgId);
  }
  const all = [...records.values()];
  const copies: ReceivedMessage[] = [];
  const positions: CommittedPosition[] = [];
  if (message) {
    const groups = new Set(await lookups.consumerGroups(message.topic));
    for (const r of all) {
      const g = consumerGroupOf(r);
      // MQTT deliveries name the LMQ they were read from, which is no consumer group.
      if (g && !g.startsWith('%')) groups.add(g);
    }
    await Promise.all(
      [...groups].sort().map(async (g) => {
        const mine = [
          ...(await lookups.byUniqKey(retryTopicOf(g), message.msgId)).filter((c) => c.storeTopic === retryTopicOf(g)),
          ...(await lookups.byUniqKey(dlqTopicOf(g), message.msgId)).filter((c) => c.storeTopic === dlqTopicOf(g)),
        ];
        copies.push(...mine);
        positions.push({ group: g, message, committed: await lookups.committedOffset(g, message) });
        for (const c of mine) if (c.storeTopic === retryTopicOf(g)) positions.push({ group: g, message: c, committed: await lookups.committedOffset(g, c) });
      }),
    );
  }
  const input = { msgId, copies, records: all, positions, skippedRecords: skipped };
  return assembleTimeline(message ? { ...input, message } : input);
}

/** The consumer group a record names, if any. */
function consumerGroupOf(r: TraceRecord): string | undefined {
  if (r.type === 'SubBefore' || r.type === 'SubAfter') return r.group;
  return isBrokerTraceRecord(r) && r.type !== 'Store' ? r.group : undefined;
}

/** The original message: by UNIQ_KEY in the given topic or a topic a record names, else by offset message id. */
async function findMessage(
  lookups: TraceLookups,
  msgId: string,
  topic: string | undefined,
  records: readonly TraceRecord[],
): Promise<ReceivedMessage | undefined> {
  const topics = new Set<string>();
  if (topic) topics.add(topic);
  for (const r of records)
    if ((r.type === 'Pub' || r.type === 'EndTransaction' || isBrokerTraceRecord(r)) && r.topic && !r.topic.startsWith('%')) topics.add(r.topic);
  for (const t of topics) {
    const hit = (await lookups.byUniqKey(t, msgId)).find((m) => m.storeTopic === t);
    if (hit) return hit;
  }
  const byOffset = await lookups.byOffsetMsgId(msgId);
  // An offset id of a retry copy names the copy; the trace is of the message it copies.
  if (byOffset && byOffset.storeTopic !== byOffset.topic && byOffset.msgId !== msgId) {
    const original = (await lookups.byUniqKey(byOffset.topic, byOffset.msgId)).find((m) => m.storeTopic === byOffset.topic);
    if (original) return original;
  }
  return byOffset;
}
