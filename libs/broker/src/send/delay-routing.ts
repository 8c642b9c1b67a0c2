import { PropertyKey, SCHEDULE_TOPIC } from '@apogee/message';

/**
 * Redirects a message with a delay level into the schedule topic: the real topic and queue go
 * into REAL_TOPIC/REAL_QID, the queue becomes level − 1 (levels above the last are capped).
 * Returns false (and changes nothing) for level ≤ 0.
 */
export function applyDelayLevel(target: { topic: string; queueId: number }, props: Map<string, string>, level: number, levelCount: number): boolean {
  if (!Number.isInteger(level) || level <= 0) return false;
  const capped = Math.min(level, levelCount);
  props.set(PropertyKey.DELAY_TIME_LEVEL, String(capped));
  props.set(PropertyKey.REAL_TOPIC, target.topic);
  props.set(PropertyKey.REAL_QUEUE_ID, String(target.queueId));
  target.topic = SCHEDULE_TOPIC;
  target.queueId = capped - 1;
  return true;
}
