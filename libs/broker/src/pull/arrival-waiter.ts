import type { MessageStore } from '@apogee/store';

/**
 * Resolves once the queue's max offset passes `offset`, the time is up, or `signal` aborts —
 * whichever is first. No polling: the store's arrival notification wakes it.
 */
export function waitForArrival(store: MessageStore, topic: string, queueId: number, offset: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      unsubscribe();
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      resolve();
    };
    const unsubscribe = store.onArrival(topic, queueId, (max) => {
      if (max > offset) finish();
    });
    const timer = setTimeout(finish, timeoutMs);
    signal?.addEventListener('abort', finish);
    // A message may have landed between the caller's read and the subscription.
    if (signal?.aborted || store.getMaxOffset(topic, queueId) > offset) finish();
  });
}
