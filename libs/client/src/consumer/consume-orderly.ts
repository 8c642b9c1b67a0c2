import { runListener } from './listener.js';
import type { ProcessQueue } from './process-queue.js';
import type { ConsumerRuntime } from './runtime.js';
import { DLQ_DELAY_LEVEL, sendMessageBack } from './send-back.js';

/**
 * Orderly consumption (ConsumeMessageOrderlyService): one worker per queue, strictly serial, only
 * while the broker lock is held. A failed batch is redelivered locally after
 * `orderlyRetryPauseMs` (reconsumeTimes counts up); once every message of the batch has been
 * retried maxReconsumeTimes times it is sent to the DLQ and the queue moves on.
 */
export class OrderlyConsumeService {
  private readonly workers = new Map<ProcessQueue, Promise<void>>();
  /** Queues woken while their worker was finishing: it may have looked before the new messages landed. */
  private readonly rewake = new Set<ProcessQueue>();

  constructor(private readonly rt: ConsumerRuntime) {}

  /** New messages (or a regained lock) for `pq`: starts its worker unless one runs. */
  wake(pq: ProcessQueue): void {
    if (this.workers.has(pq)) {
      this.rewake.add(pq);
      return;
    }
    const p = this.work(pq)
      .catch((err) => this.rt.reportError(err))
      .finally(() => {
        this.workers.delete(pq);
        if (this.rewake.delete(pq) && this.rt.running() && !pq.dropped) this.wake(pq);
      });
    this.workers.set(pq, p);
  }

  async idle(): Promise<void> {
    while (this.workers.size > 0) await Promise.allSettled([...this.workers.values()]);
  }

  /** Resolves when `pq`'s worker (if any) has finished its current batch and stopped. */
  async stopped(pq: ProcessQueue): Promise<void> {
    await this.workers.get(pq);
  }

  private async work(pq: ProcessQueue): Promise<void> {
    const clustering = this.rt.opts.messageModel === 'CLUSTERING';
    while (this.rt.running() && !pq.dropped) {
      // Without a valid lock another client may own the queue; the lock renewal wakes us again.
      if (clustering && !pq.lockValid()) return;
      const msgs = pq.head(Math.max(1, this.rt.opts.consumeBatchSize));
      if (msgs.length === 0) return;
      const result = await runListener(this.rt.consume, msgs, { queue: pq.queue });
      if (result.error !== undefined) this.rt.reportError(result.error);
      if (pq.dropped) return;
      if (!result.ok) {
        if (msgs.some((m) => m.reconsumeTimes < this.rt.opts.maxReconsumeTimes)) {
          for (const m of msgs) m.reconsumeTimes++;
          await this.rt.inst.sleep(this.rt.opts.orderlyRetryPauseMs);
          continue;
        }
        if (clustering) {
          try {
            for (const m of msgs) await sendMessageBack(this.rt, m, DLQ_DELAY_LEVEL);
          } catch (err) {
            // Not stored anywhere: keep the queue blocked and try again after a pause.
            this.rt.reportError(err);
            await this.rt.inst.sleep(this.rt.opts.orderlyRetryPauseMs);
            continue;
          }
        }
      }
      const offset = pq.remove(msgs);
      if (offset >= 0) this.rt.offsets.update(pq.queue, offset, true);
    }
  }
}
