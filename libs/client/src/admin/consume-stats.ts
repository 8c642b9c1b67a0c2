import { ClientError, ClientErrorCode } from '../errors.js';
import { asNumber, isRecord, parseJsonBody } from '../protocol/json-body.js';
import type { QueueProgress } from './types.js';

/**
 * ConsumeStats body of GET_CONSUME_STATS (208): `{"offsetTable": {"<MessageQueue JSON>":
 * {"brokerOffset":n,"consumerOffset":n,"lastTimestamp":n}}, "consumeTps":n}`. The map key is the
 * queue serialised as a JSON string (`{"topic":…,"brokerName":…,"queueId":…}`), as fastjson writes
 * a map keyed by objects. Rows whose key is not such a queue are skipped.
 */
export function parseConsumeStats(body: Buffer | undefined): QueueProgress[] {
  const json = parseJsonBody(body, 'consume stats');
  const table = isRecord(json) ? json['offsetTable'] : undefined;
  if (!isRecord(table)) throw new ClientError(ClientErrorCode.BROKER, 'consume stats body lacks offsetTable');
  const rows: QueueProgress[] = [];
  for (const [key, value] of Object.entries(table)) {
    const queue = parseQueueKey(key);
    if (!queue || !isRecord(value)) continue;
    const brokerOffset = asNumber(value['brokerOffset']);
    const consumerOffset = asNumber(value['consumerOffset'], -1);
    rows.push({ ...queue, brokerOffset, consumerOffset, lag: Math.max(0, brokerOffset - Math.max(consumerOffset, 0)) });
  }
  return rows;
}

function parseQueueKey(key: string): { topic: string; brokerName: string; queueId: number } | undefined {
  let q: unknown;
  try {
    q = JSON.parse(key);
  } catch {
    return undefined;
  }
  if (!isRecord(q) || typeof q['topic'] !== 'string' || typeof q['brokerName'] !== 'string' || typeof q['queueId'] !== 'number') return undefined;
  return { topic: q['topic'], brokerName: q['brokerName'], queueId: q['queueId'] };
}

/** Java MessageQueue order: topic, brokerName, queueId. */
export function compareProgress(a: QueueProgress, b: QueueProgress): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}
