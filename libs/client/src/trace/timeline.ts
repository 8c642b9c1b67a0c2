import { type SubBeforeRecord, type TraceRecord, isDlqTopic, isRetryTopic } from '@apogee/message';
import type { ReceivedMessage } from '../message.js';

/** What happened to a message, in the order a message lives through it. */
export type TraceEventKind =
  'publish' | 'stored' | 'transaction' | 'delivered' | 'consume-started' | 'consume-failed' | 'consumed' | 'retry' | 'dead-letter' | 'recall' | 'pending';

/**
 * Where an event comes from: a client's trace record (RMQ_SYS_TRACE_TOPIC), the broker's own
 * record (rmq_sys_broker_trace), or derived at query time from the message and the groups'
 * committed offsets (then the time is when the message was stored, not when it was consumed).
 */
export type TraceEventSource = 'client' | 'broker' | 'derived';

/** One step of a message's timeline. */
export interface TraceEvent {
  kind: TraceEventKind;
  /** Epoch ms. */
  timestamp: number;
  source: TraceEventSource;
  /** Producer group (publish, stored), consumer group (delivery, consumption, retry, dead-letter). */
  group?: string;
  /** Client id, MQTT client identifier, AMQP container id, or the client host. */
  client?: string;
  protocol?: string;
  topic?: string;
  queueId?: number;
  queueOffset?: number;
  brokerName?: string;
  storeHost?: string;
  /** How many times it had been redelivered (0 = first delivery). */
  reconsumeTimes?: number;
  success?: boolean;
  costMs?: number;
  /** Anything else: the retry or DLQ topic, the transaction state, why an event was derived. */
  detail?: string;
}

/** The assembled trace of one message. */
export interface MessageTrace {
  /** The id asked for. */
  msgId: string;
  /** UNIQ_KEY and offset message id, where known. */
  uniqKey?: string;
  offsetMsgId?: string;
  topic?: string;
  /** Whether the message itself was found (its trace records may outlive it, or precede its store). */
  found: boolean;
  /** Time-ordered. */
  events: TraceEvent[];
  /** Pieces of trace bodies that were not records (garbage, unknown types). */
  skippedRecords: number;
}

/** A group's committed offset on the queue of the original message or of one of its copies. */
export interface CommittedPosition {
  group: string;
  /** The message or copy at that queue. */
  message: ReceivedMessage;
  /** Committed offset, −1 when the group stored none. */
  committed: number;
}

/** What the assembler works from (gathered by Admin.queryMessageTrace). */
export interface TimelineInput {
  msgId: string;
  message?: ReceivedMessage;
  /** Copies of it in `%RETRY%<group>` and `%DLQ%<group>`. */
  copies: readonly ReceivedMessage[];
  /** Trace records of this message (already filtered by id). */
  records: readonly TraceRecord[];
  positions: readonly CommittedPosition[];
  skippedRecords: number;
}

const KIND_ORDER: Record<TraceEventKind, number> = {
  publish: 0,
  stored: 1,
  transaction: 2,
  delivered: 3,
  'consume-started': 4,
  'consume-failed': 5,
  consumed: 5,
  retry: 6,
  'dead-letter': 7,
  recall: 8,
  pending: 9,
};

const groupOfCopy = (topic: string): string => topic.slice(topic.indexOf('%', 1) + 1);

/** Builds the timeline: every record as an event, plus what the message and the offsets tell where no record says it. */
export function assembleTimeline(input: TimelineInput): MessageTrace {
  const events: TraceEvent[] = [];
  const m = input.message;
  const before = new Map<string, SubBeforeRecord>();
  for (const r of input.records) if (r.type === 'SubBefore') before.set(`${r.requestId}\u0000${r.msgId}`, r);
  /** (group, reconsume times) stages the client or broker recorded an outcome or a delivery for. */
  const tracedStages = new Set<string>();
  /** (group, reconsume times) of retries and dead letters: stage n failed when n + 1 exists. */
  const resent = new Set<string>();
  let storedRecorded = false;

  for (const r of input.records) {
    switch (r.type) {
      case 'Pub':
        events.push({
          kind: 'publish',
          timestamp: r.timestamp,
          source: 'client',
          group: r.group,
          topic: r.topic,
          storeHost: r.storeHost,
          success: r.success,
          costMs: r.costTime,
          ...(r.clientHost ? { client: r.clientHost } : {}),
        });
        break;
      case 'SubBefore':
        events.push({ kind: 'consume-started', timestamp: r.timestamp, source: 'client', group: r.group, reconsumeTimes: r.retryTimes });
        break;
      case 'SubAfter': {
        const b = before.get(`${r.requestId}\u0000${r.msgId}`);
        const group = r.group ?? b?.group;
        if (group !== undefined && b !== undefined) tracedStages.add(`${group}\u0000${b.retryTimes}`);
        const e: TraceEvent = {
          kind: r.success ? 'consumed' : 'consume-failed',
          timestamp: r.timestamp || (b ? b.timestamp + r.costTime : 0),
          source: 'client',
          success: r.success,
          costMs: r.costTime,
        };
        if (group !== undefined) e.group = group;
        if (b !== undefined) e.reconsumeTimes = b.retryTimes;
        events.push(e);
        break;
      }
      case 'EndTransaction':
        events.push({ kind: 'transaction', timestamp: r.timestamp, source: 'client', group: r.group, topic: r.topic, detail: r.transactionState });
        break;
      case 'Recall':
        events.push({ kind: 'recall', timestamp: r.timestamp, source: 'client', group: r.group, topic: r.topic, success: r.success });
        break;
      default: {
        const base = { timestamp: r.timestamp, source: 'broker' as const, brokerName: r.brokerName, topic: r.topic, reconsumeTimes: r.reconsumeTimes };
        const where = r.queueId >= 0 ? { queueId: r.queueId, queueOffset: r.queueOffset } : {};
        const who = { ...(r.group ? { group: r.group } : {}), ...(r.client ? { client: r.client } : {}), ...(r.protocol ? { protocol: r.protocol } : {}) };
        if (r.type === 'Store') {
          storedRecorded = true;
          events.push({ kind: 'stored', ...base, ...where, ...who, ...(r.remoteAddress ? { detail: `from ${r.remoteAddress}` } : {}) });
        } else if (r.type === 'Deliver') {
          tracedStages.add(`${r.group}\u0000${r.reconsumeTimes}`);
          events.push({ kind: 'delivered', ...base, ...where, ...who, ...(r.remoteAddress ? { detail: `to ${r.remoteAddress}` } : {}) });
        } else {
          resent.add(`${r.group}\u0000${r.reconsumeTimes}`);
          events.push({ kind: r.type === 'Retry' ? 'retry' : 'dead-letter', ...base, ...where, ...who, detail: r.target });
        }
      }
    }
  }

  if (m !== undefined && !storedRecorded) {
    events.push({
      kind: 'stored',
      timestamp: m.storeTimestamp,
      source: 'derived',
      topic: m.storeTopic,
      queueId: m.queueId,
      queueOffset: m.queueOffset,
      storeHost: m.storeHost,
      ...(m.brokerName ? { brokerName: m.brokerName } : {}),
      detail: `born at ${m.bornHost}`,
    });
  }
  // Copies the broker did not record (broker records off, or older than them).
  for (const c of input.copies) {
    const group = groupOfCopy(c.storeTopic);
    const dead = isDlqTopic(c.storeTopic);
    const key = `${group}\u0000${c.reconsumeTimes}`;
    if (dead ? hasDeadLetter(events, group) : resent.has(key)) continue;
    resent.add(key);
    events.push({
      kind: dead ? 'dead-letter' : 'retry',
      timestamp: c.storeTimestamp,
      source: 'derived',
      group,
      topic: c.storeTopic,
      queueId: c.queueId,
      queueOffset: c.queueOffset,
      reconsumeTimes: c.reconsumeTimes,
      detail: `copy in ${c.storeTopic}`,
    });
  }
  // A stage a group's committed offset has passed was processed: consumed unless it came back.
  for (const p of input.positions) {
    const group = p.group;
    const stage = isRetryTopic(p.message.storeTopic) ? p.message.reconsumeTimes : 0;
    if (tracedStages.has(`${group}\u0000${stage}`)) continue;
    const where = { topic: p.message.storeTopic, queueId: p.message.queueId, queueOffset: p.message.queueOffset, reconsumeTimes: stage };
    if (p.committed > p.message.queueOffset) {
      if (resent.has(`${group}\u0000${stage + 1}`) || hasDeadLetter(events, group, stage)) continue;
      events.push({
        kind: 'consumed',
        timestamp: p.message.storeTimestamp,
        source: 'derived',
        group,
        ...where,
        detail: `committed offset ${p.committed} is past queue offset ${p.message.queueOffset}`,
      });
    } else {
      events.push({
        kind: 'pending',
        timestamp: p.message.storeTimestamp,
        source: 'derived',
        group,
        ...where,
        detail:
          p.committed < 0
            ? 'the group has no committed offset on this queue'
            : `committed offset ${p.committed} has not passed queue offset ${p.message.queueOffset}`,
      });
    }
  }

  events.sort((a, b) => a.timestamp - b.timestamp || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
  const trace: MessageTrace = { msgId: input.msgId, found: m !== undefined, events, skippedRecords: input.skippedRecords };
  if (m !== undefined) {
    trace.uniqKey = m.msgId;
    trace.offsetMsgId = m.offsetMsgId;
    trace.topic = m.topic;
  }
  return trace;
}

/** Whether the group's message was dead-lettered (after `stage`, when given). */
function hasDeadLetter(events: readonly TraceEvent[], group: string, stage?: number): boolean {
  return events.some((e) => e.kind === 'dead-letter' && e.group === group && (stage === undefined || (e.reconsumeTimes ?? 0) > stage));
}
