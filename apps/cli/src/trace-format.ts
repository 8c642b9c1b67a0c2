/** Rendering of a message trace as text (pure: the spec checks it directly). */
import type { MessageTrace, TraceEvent } from '@apogee/client';
import { iso, table } from './format.js';

/** Who an event is about: group, client, protocol. */
function who(e: TraceEvent): string {
  return [e.group, e.client, e.protocol].filter((x): x is string => x !== undefined && x !== '').join(' / ') || '-';
}

/** Where: topic, queue and offset, broker or store host. */
function where(e: TraceEvent): string {
  const q = e.queueId !== undefined ? `:${e.queueId}${e.queueOffset !== undefined ? `@${e.queueOffset}` : ''}` : '';
  const host = e.brokerName ?? e.storeHost;
  return `${e.topic ?? '-'}${q}${host ? ` (${host})` : ''}`;
}

/** What else: reconsume times, result, cost, detail. */
function notes(e: TraceEvent): string {
  const parts: string[] = [];
  if (e.reconsumeTimes !== undefined && e.reconsumeTimes > 0) parts.push(`reconsume ${e.reconsumeTimes}`);
  if (e.success === false) parts.push('FAILED');
  if (e.costMs !== undefined) parts.push(`${e.costMs} ms`);
  if (e.detail) parts.push(e.detail);
  return parts.join(', ');
}

/** The header line and the event table; a clear line when nothing is known of the id. */
export function traceLines(t: MessageTrace): string[] {
  const head = t.found
    ? `message ${t.uniqKey ?? t.msgId} (offset id ${t.offsetMsgId ?? '-'}) of topic ${t.topic ?? '-'}`
    : `message ${t.msgId} not found${t.events.length > 0 ? ' (trace records only)' : ''}`;
  const lines = [head];
  if (t.skippedRecords > 0) lines.push(`(${t.skippedRecords} unreadable trace record(s) skipped)`);
  if (t.events.length === 0) return [...lines, t.found ? 'no trace events' : 'no trace record of this id; for a unique key, pass --topic'];
  return [
    ...lines,
    ...table(
      ['TIME', 'EVENT', 'SOURCE', 'GROUP / CLIENT / PROTOCOL', 'WHERE', 'NOTES'],
      t.events.map((e) => [iso(e.timestamp), e.kind, e.source, who(e), where(e), notes(e)]),
    ),
  ];
}
