/**
 * Rendering of results as text and as JSON-ready values. Pure functions: no I/O, no clients, so
 * the specs check them directly.
 */
import type { OpenTransaction, QueueProgress, ReceivedMessage, SendResult } from '@apogee/client';
import { permToString } from '@apogee/message';

/** Left-aligned columns separated by two spaces; the header is the first line. */
export function table(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string[] {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}

/** ISO-8601 UTC of epoch ms; "-" for 0 or less (unknown). */
export function iso(ms: number): string {
  return ms > 0 && Number.isFinite(ms) ? new Date(ms).toISOString() : '-';
}

/** PermName bits as Java's PermName.perm2String: "RW-" (read, write, inherit). */
export const permString = permToString;

const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** True when `buf` is valid UTF-8 without control characters other than tab, CR and LF. */
export function isPrintableUtf8(buf: Buffer): boolean {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return false;
  }
  return !CONTROL.test(text);
}

export interface BodyView {
  encoding: 'utf8' | 'base64';
  /** The (possibly truncated) body in `encoding`. */
  text: string;
  /** Full body size in bytes. */
  size: number;
  truncated: boolean;
}

/** The body as UTF-8 text when printable, else base64; at most `maxBytes` bytes of it (0 = all). */
export function renderBody(body: Buffer, maxBytes: number): BodyView {
  const truncated = maxBytes > 0 && body.length > maxBytes;
  const shown = truncated ? body.subarray(0, maxBytes) : body;
  if (isPrintableUtf8(body)) {
    // A cut may split a multi-byte character; drop the partial tail.
    let text = new TextDecoder('utf-8').decode(shown);
    if (truncated) text = text.replace(/\uFFFD+$/, '');
    return { encoding: 'utf8', text, size: body.length, truncated };
  }
  return { encoding: 'base64', text: shown.toString('base64'), size: body.length, truncated };
}

/** JSON view of a message read from a broker. */
export interface MessageView {
  topic: string;
  storeTopic: string;
  tags: string | null;
  keys: string[];
  properties: Record<string, string>;
  msgId: string;
  offsetMsgId: string;
  brokerName: string | null;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  bornTimestamp: number;
  storeTimestamp: number;
  bornHost: string;
  storeHost: string;
  reconsumeTimes: number;
  body: BodyView;
}

export function messageView(m: ReceivedMessage, maxBody: number): MessageView {
  return {
    topic: m.topic,
    storeTopic: m.storeTopic,
    tags: m.tags ?? null,
    keys: m.keys,
    properties: m.properties,
    msgId: m.msgId,
    offsetMsgId: m.offsetMsgId,
    brokerName: m.brokerName ?? null,
    queueId: m.queueId,
    queueOffset: m.queueOffset,
    commitLogOffset: m.commitLogOffset,
    bornTimestamp: m.bornTimestamp,
    storeTimestamp: m.storeTimestamp,
    bornHost: m.bornHost,
    storeHost: m.storeHost,
    reconsumeTimes: m.reconsumeTimes,
    body: renderBody(m.body, maxBody),
  };
}

/** Text block of one message (no trailing blank line). */
export function messageLines(v: MessageView): string[] {
  const props = Object.entries(v.properties).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const lines = [
    `msgId:          ${v.msgId}`,
    `offsetMsgId:    ${v.offsetMsgId}`,
    `topic:          ${v.topic}${v.storeTopic !== v.topic ? ` (stored in ${v.storeTopic})` : ''}`,
    `tags:           ${v.tags ?? '-'}`,
    `keys:           ${v.keys.length > 0 ? v.keys.join(' ') : '-'}`,
    `queue:          ${v.brokerName ?? '?'}:${v.queueId}  queueOffset ${v.queueOffset}  commitLogOffset ${v.commitLogOffset}`,
    `born:           ${iso(v.bornTimestamp)}  ${v.bornHost}`,
    `stored:         ${iso(v.storeTimestamp)}  ${v.storeHost}`,
    `reconsumeTimes: ${v.reconsumeTimes}`,
    props.length === 0 ? 'properties:     -' : 'properties:',
  ];
  for (const [k, val] of props) lines.push(`  ${k}=${val}`);
  const b = v.body;
  lines.push(`body (${b.size} bytes, ${b.encoding}${b.truncated ? `, first ${b.encoding === 'utf8' ? 'part' : 'bytes'} only` : ''}):`);
  lines.push(b.text);
  return lines;
}

/** One line per SendResult. */
export function sendResultLine(r: SendResult): string {
  const q = r.messageQueue;
  return `${r.status}  msgId=${r.msgId}  offsetMsgId=${r.offsetMsgId}  queue=${q.brokerName}:${q.queueId}  queueOffset=${r.queueOffset}`;
}

export interface ProgressTotals {
  brokerOffset: number;
  /** Sum of committed offsets (queues without one count as 0). */
  consumerOffset: number;
  lag: number;
}

export function progressTotals(rows: readonly QueueProgress[]): ProgressTotals {
  let brokerOffset = 0;
  let consumerOffset = 0;
  let lag = 0;
  for (const r of rows) {
    brokerOffset += r.brokerOffset;
    consumerOffset += Math.max(r.consumerOffset, 0);
    lag += r.lag;
  }
  return { brokerOffset, consumerOffset, lag };
}

export function progressLines(group: string, rows: readonly QueueProgress[]): string[] {
  if (rows.length === 0) return [`group ${group}: no queue with a committed offset or subscription`];
  const t = progressTotals(rows);
  return [
    ...table(
      ['TOPIC', 'BROKER', 'QUEUE', 'BROKER_OFFSET', 'CONSUMER_OFFSET', 'LAG'],
      rows.map((r) => [r.topic, r.brokerName, r.queueId, r.brokerOffset, r.consumerOffset < 0 ? '-' : r.consumerOffset, r.lag]),
    ),
    `total: brokerOffset ${t.brokerOffset}  consumerOffset ${t.consumerOffset}  lag ${t.lag}`,
  ];
}

/** Age of something stored at `ms`, as of `now`: "42s", "7m05s", "3h12m". */
export function age(ms: number, now: number): string {
  const s = Math.max(0, Math.floor((now - ms) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `transaction list` as a table: one row per open half message. */
export function transactionLines(list: readonly OpenTransaction[], now: number): string[] {
  if (list.length === 0) return ['no open transaction'];
  return table(
    ['TOPIC', 'QUEUE', 'MSG_ID', 'TRANSACTION_ID', 'PRODUCER_GROUP', 'AGE', 'CHECKS', 'BROKER'],
    list.map((t) => [t.topic, t.queueId, t.offsetMsgId, t.transactionId, t.producerGroup, age(t.storeTimestamp, now), t.checkTimes, t.brokerAddr]),
  );
}
