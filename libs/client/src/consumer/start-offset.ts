import { isRetryTopic } from '@apogee/message';
import { getMaxOffset, searchOffset } from '../client/offset-requests.js';
import type { MessageQueue } from '../message-queue.js';
import type { ConsumerRuntime } from './runtime.js';

/**
 * Where a newly assigned queue starts (RebalancePushImpl.computePullFromWhere): the stored
 * offset if any; else retry topics from 0, and other topics by consumeFromWhere — LAST =
 * GET_MAX_OFFSET, FIRST = 0 (the broker moves a too-low offset up to its minimum), TIMESTAMP =
 * SEARCH_OFFSET_BY_TIMESTAMP.
 */
export async function computeStartOffset(rt: ConsumerRuntime, q: MessageQueue): Promise<number> {
  const stored = await rt.offsets.readFromStore(q);
  if (stored !== undefined && stored >= 0) return stored;
  if (isRetryTopic(q.topic)) return 0;
  switch (rt.opts.consumeFromWhere) {
    case 'FIRST':
      return 0;
    case 'TIMESTAMP':
      return searchOffset(rt.inst, q, rt.opts.consumeTimestamp);
    default:
      return getMaxOffset(rt.inst, q);
  }
}
