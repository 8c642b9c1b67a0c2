/** A queue as clients name it in lock requests. */
export interface MessageQueueRef {
  topic: string;
  brokerName: string;
  queueId: number;
}

interface LockEntry {
  clientId: string;
  lastUpdate: number;
}

/**
 * Queue locks for ordered consumption (RocketMQ RebalanceLockManager): a queue belongs to one
 * client of a group until it unlocks or stops renewing for `ttlMs`.
 */
export class QueueLocks {
  private readonly groups = new Map<string, Map<string, LockEntry>>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Locks (or renews) every queue it can; returns the ones this client now holds. */
  tryLock(group: string, clientId: string, queues: readonly MessageQueueRef[]): MessageQueueRef[] {
    const now = this.now();
    let table = this.groups.get(group);
    if (!table) this.groups.set(group, (table = new Map()));
    const ok: MessageQueueRef[] = [];
    for (const q of queues) {
      const key = lockKey(q);
      const e = table.get(key);
      if (!e || e.clientId === clientId || now - e.lastUpdate > this.ttlMs) {
        table.set(key, { clientId, lastUpdate: now });
        ok.push(q);
      }
    }
    return ok;
  }

  unlock(group: string, clientId: string, queues: readonly MessageQueueRef[]): void {
    const table = this.groups.get(group);
    if (!table) return;
    for (const q of queues) {
      const key = lockKey(q);
      if (table.get(key)?.clientId === clientId) table.delete(key);
    }
    if (table.size === 0) this.groups.delete(group);
  }

  /** The client holding a queue, if the lock is live. */
  holder(group: string, q: MessageQueueRef): string | undefined {
    const e = this.groups.get(group)?.get(lockKey(q));
    return e && this.now() - e.lastUpdate <= this.ttlMs ? e.clientId : undefined;
  }
}

const lockKey = (q: MessageQueueRef): string => `${q.topic}\u0000${q.brokerName}\u0000${q.queueId}`;
