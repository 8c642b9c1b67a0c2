import type { ReceivedMessage } from '../message.js';
import type { MessageQueue } from '../message-queue.js';

/** What a listener answers: SUCCESS (or nothing) commits; RECONSUME_LATER (or a throw) retries. */
export type ConsumeStatus = 'SUCCESS' | 'RECONSUME_LATER';

export interface ConsumeContext {
  queue: MessageQueue;
}

export type ConsumeFunction = (msgs: ReceivedMessage[], ctx: ConsumeContext) => ConsumeStatus | void | Promise<ConsumeStatus | void>;

/** Concurrent consumption: messages of a queue may be handled in parallel and out of order. */
export interface ConcurrentListener {
  orderly?: false;
  consume: ConsumeFunction;
}

/** Orderly consumption: each queue is locked on its broker and consumed strictly serially. */
export interface OrderlyListener {
  orderly: true;
  consume: ConsumeFunction;
}

export type MessageListener = ConsumeFunction | ConcurrentListener | OrderlyListener;

export function normalizeListener(l: MessageListener): { orderly: boolean; consume: ConsumeFunction } {
  if (typeof l === 'function') return { orderly: false, consume: l };
  if (!l || typeof l.consume !== 'function') throw new TypeError('listener must be a function or { consume, orderly? }');
  return { orderly: l.orderly === true, consume: l.consume };
}

/** Runs a listener; a throw or anything but SUCCESS/undefined counts as RECONSUME_LATER. */
export async function runListener(fn: ConsumeFunction, msgs: ReceivedMessage[], ctx: ConsumeContext): Promise<{ ok: boolean; error?: unknown }> {
  try {
    const r = await fn(msgs, ctx);
    return { ok: r === undefined || r === 'SUCCESS' };
  } catch (error) {
    return { ok: false, error };
  }
}
