import type { MessageQueue } from '../message-queue.js';

/**
 * AllocateMessageQueueAveragely: `mqAll` and `cidAll` must be sorted the same way on every
 * client. Each client takes a contiguous block; the first `mqAll % cidAll` clients take one more.
 * A client missing from `cidAll` gets nothing (the broker does not know it yet).
 */
export function allocateAveragely(currentCid: string, mqAll: readonly MessageQueue[], cidAll: readonly string[]): MessageQueue[] {
  const index = cidAll.indexOf(currentCid);
  if (index < 0 || mqAll.length === 0) return [];
  const n = mqAll.length;
  const c = cidAll.length;
  const mod = n % c;
  const averageSize = n <= c ? 1 : mod > 0 && index < mod ? Math.floor(n / c) + 1 : Math.floor(n / c);
  const startIndex = mod > 0 && index < mod ? index * averageSize : index * averageSize + mod;
  const range = Math.min(averageSize, n - startIndex);
  const out: MessageQueue[] = [];
  for (let i = 0; i < range; i++) out.push(mqAll[(startIndex + i) % n]!);
  return out;
}
