import { RequestCode, ResponseCode, makeRequest, toExtFields } from '@apogee/remoting';
import { ClientError, ClientErrorCode } from '../errors.js';
import { type MessageQueue, compareQueues, queueKey } from '../message-queue.js';
import { parseConsumerIdList } from '../protocol/bodies.js';
import { masterAddr, subscribeQueues } from '../route/topic-route.js';
import { allocateAveragely } from './allocate.js';
import { byBroker, lockBatch, unlockBatch } from './locks.js';
import { ProcessQueue } from './process-queue.js';
import type { ConsumerRuntime } from './runtime.js';
import { computeStartOffset } from './start-offset.js';

export interface RebalanceHooks {
  /** A queue was assigned and its start offset computed: start pulling. */
  added(pq: ProcessQueue): void;
  /** A queue was taken away (already marked dropped): let its consumption stop. */
  removed(pq: ProcessQueue): Promise<void>;
  /** The allocation of a topic after a rebalance. */
  allocated(topic: string, queues: MessageQueue[]): void;
}

/**
 * RebalanceImpl: per subscribed topic, sorted readable queues are divided among the sorted
 * consumer ids of the group (GET_CONSUMER_LIST_BY_GROUP) — or all taken, when broadcasting. The
 * process-queue table follows: removed queues are committed (and unlocked when orderly), added
 * ones get a start offset (and must be locked first when orderly). Concurrent requests coalesce.
 */
export class Rebalancer {
  readonly table = new Map<string, ProcessQueue>();
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly rt: ConsumerRuntime,
    private readonly orderly: boolean,
    private readonly hooks: RebalanceHooks,
  ) {}

  private get clustering(): boolean {
    return this.rt.opts.messageModel === 'CLUSTERING';
  }

  /** Runs a rebalance now, or once more right after the one in progress. */
  request(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          for (const topic of [...this.rt.subscriptions.keys()]) {
            if (!this.rt.running()) return;
            try {
              await this.rebalanceTopic(topic);
            } catch (err) {
              this.rt.reportError(err);
            }
          }
        } while (this.again && this.rt.running());
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** Ids of the group's consumers, from a broker of `topic`. */
  async consumerIds(topic: string): Promise<string[]> {
    const route = (await this.rt.inst.getRoute(topic)).route;
    const bd = [...route.brokerDatas].sort((a, b) => (a.brokerName < b.brokerName ? -1 : 1))[0];
    const addr = bd ? (masterAddr(bd) ?? Object.values(bd.brokerAddrs)[0]) : undefined;
    if (addr === undefined) throw new ClientError(ClientErrorCode.NO_ROUTE, `no broker to ask for the consumers of ${this.rt.group}`);
    const res = await this.rt.inst.invoke(
      addr,
      makeRequest(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { extFields: toExtFields({ consumerGroup: this.rt.group }) }),
    );
    if (res.code !== ResponseCode.SUCCESS) throw ClientError.fromResponse(`GET_CONSUMER_LIST_BY_GROUP ${this.rt.group}`, res, addr);
    return parseConsumerIdList(res.body);
  }

  private async rebalanceTopic(topic: string): Promise<void> {
    const route = (await this.rt.inst.getRoute(topic)).route;
    const mqAll = subscribeQueues(topic, route).sort(compareQueues);
    let mine: MessageQueue[];
    if (this.clustering) {
      const cids = [...new Set(await this.consumerIds(topic))].sort();
      mine = allocateAveragely(this.rt.inst.clientId, mqAll, cids);
    } else mine = mqAll;
    await this.apply(topic, mine);
    this.hooks.allocated(topic, mine);
  }

  private async apply(topic: string, mine: MessageQueue[]): Promise<void> {
    const wanted = new Map(mine.map((q) => [queueKey(q), q]));
    const removed: ProcessQueue[] = [];
    for (const [key, pq] of this.table) {
      if (pq.queue.topic !== topic || wanted.has(key)) continue;
      pq.dropped = true;
      this.table.delete(key);
      removed.push(pq);
    }
    if (removed.length > 0) await this.release(removed);
    let added = [...wanted].filter(([key]) => !this.table.has(key)).map(([, q]) => q);
    if (added.length === 0 || !this.rt.running()) return;
    if (this.orderly && this.clustering) added = await this.lock(added);
    await Promise.all(
      added.map(async (q) => {
        try {
          const start = await computeStartOffset(this.rt, q);
          if (!this.rt.running() || this.table.has(queueKey(q))) return;
          const pq = new ProcessQueue(q, start);
          if (this.orderly && this.clustering) {
            pq.locked = true;
            pq.lastLockTime = Date.now();
          }
          this.table.set(queueKey(q), pq);
          this.hooks.added(pq);
        } catch (err) {
          // Retried by the next rebalance.
          this.rt.reportError(err);
        }
      }),
    );
  }

  /** Commits and (orderly) unlocks queues that are no longer ours. */
  async release(pqs: readonly ProcessQueue[]): Promise<void> {
    await Promise.all(pqs.map((pq) => this.hooks.removed(pq).catch((err) => this.rt.reportError(err))));
    const queues = pqs.map((pq) => pq.queue);
    await this.rt.offsets.persist(queues).catch((err) => this.rt.reportError(err));
    for (const q of queues) this.rt.offsets.remove(q);
    if (this.orderly && this.clustering) {
      await Promise.all(
        [...byBroker(queues)].map(([broker, qs]) => unlockBatch(this.rt.inst, this.rt.group, broker, qs).catch((err) => this.rt.reportError(err))),
      );
    }
  }

  /** LOCK_BATCH_MQ for `queues`; returns those granted. */
  private async lock(queues: readonly MessageQueue[]): Promise<MessageQueue[]> {
    const granted: MessageQueue[] = [];
    await Promise.all(
      [...byBroker(queues)].map(async ([broker, qs]) => {
        try {
          const ok = new Set((await lockBatch(this.rt.inst, this.rt.group, broker, qs)).map(queueKey));
          for (const q of qs) if (ok.has(queueKey(q))) granted.push(q);
        } catch (err) {
          this.rt.reportError(err);
        }
      }),
    );
    return granted;
  }

  /** Orderly: renews the locks of every held queue; returns the queues whose lock is now valid. */
  async renewLocks(): Promise<ProcessQueue[]> {
    const pqs = [...this.table.values()];
    const now = Date.now();
    const ok = new Set((await this.lock(pqs.map((pq) => pq.queue))).map(queueKey));
    const valid: ProcessQueue[] = [];
    for (const pq of pqs) {
      if (ok.has(queueKey(pq.queue))) {
        pq.locked = true;
        pq.lastLockTime = now;
        valid.push(pq);
      } else pq.locked = false;
    }
    return valid;
  }

  /** Drops and releases every queue (shutdown). */
  async releaseAll(): Promise<void> {
    const pqs = [...this.table.values()];
    this.table.clear();
    for (const pq of pqs) pq.dropped = true;
    await this.release(pqs);
  }
}
