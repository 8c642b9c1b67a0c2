import type { ReceivedMessage } from '../message.js';
import { runListener } from './listener.js';
import type { ProcessQueue } from './process-queue.js';
import type { ConsumerRuntime } from './runtime.js';
import { sendMessageBack } from './send-back.js';

interface Task {
  pq: ProcessQueue;
  msgs: ReceivedMessage[];
}

/**
 * Concurrent consumption (ConsumeMessageConcurrentlyService): batches of `consumeBatchSize` run
 * with at most `consumeConcurrency` listener calls in flight. A failed batch is sent back
 * (clustering) so the broker redelivers it through `%RETRY%<group>`; messages that cannot be sent
 * back are retried locally after `retryLocallyMs`. Broadcasting drops failures, as Java does.
 */
export class ConcurrentConsumeService {
  private readonly waiting: Task[] = [];
  private inFlight = 0;
  private readonly active = new Set<Promise<void>>();

  constructor(private readonly rt: ConsumerRuntime) {}

  submit(pq: ProcessQueue, msgs: readonly ReceivedMessage[]): void {
    const size = Math.max(1, this.rt.opts.consumeBatchSize);
    for (let i = 0; i < msgs.length; i += size) this.waiting.push({ pq, msgs: msgs.slice(i, i + size) });
    this.pump();
  }

  /** Forgets batches not started yet (shutdown: their offsets stay uncommitted, so they are redelivered). */
  clearWaiting(): void {
    this.waiting.length = 0;
  }

  /** Resolves when every listener call in flight has finished. */
  async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.allSettled([...this.active]);
  }

  private pump(): void {
    while (this.inFlight < this.rt.opts.consumeConcurrency && this.waiting.length > 0) {
      const task = this.waiting.shift()!;
      if (task.pq.dropped) continue;
      this.inFlight++;
      const p = this.run(task)
        .catch((err) => this.rt.reportError(err))
        .finally(() => {
          this.inFlight--;
          this.active.delete(p);
          this.pump();
        });
      this.active.add(p);
    }
  }

  private async run({ pq, msgs }: Task): Promise<void> {
    const result = await runListener(this.rt.consume, msgs, { queue: pq.queue });
    if (result.error !== undefined) this.rt.reportError(result.error);
    // A queue rebalanced away is consumed again by its new owner from the committed offset.
    if (pq.dropped) return;
    let done = msgs;
    if (!result.ok && this.rt.opts.messageModel === 'CLUSTERING') {
      done = [];
      const retryLocally: ReceivedMessage[] = [];
      for (const m of msgs) {
        try {
          await sendMessageBack(this.rt, m, 0);
          done.push(m);
        } catch (err) {
          this.rt.reportError(err);
          retryLocally.push(m);
        }
      }
      if (retryLocally.length > 0) void this.retryLater(pq, retryLocally);
    }
    const offset = pq.remove(done);
    if (offset >= 0 && !pq.dropped) this.rt.offsets.update(pq.queue, offset, true);
  }

  private async retryLater(pq: ProcessQueue, msgs: ReceivedMessage[]): Promise<void> {
    await this.rt.inst.sleep(this.rt.opts.retryLocallyMs);
    if (!this.rt.running() || pq.dropped) return;
    for (const m of msgs) m.reconsumeTimes++;
    this.submit(pq, msgs);
  }
}
