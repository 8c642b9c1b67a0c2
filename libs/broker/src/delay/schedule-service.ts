import { PropertyKey, decodeRecord, SCHEDULE_CONSUMER_GROUP, SCHEDULE_TOPIC, formatError } from '@apogee/message';
import type { MessageStore, PutMessage } from '@apogee/store';
import { resendProperties, resendPut } from '../send/resend.js';
import type { Logger } from '../logger.js';
import type { BrokerMetrics } from '../metrics.js';

type Put = (puts: PutMessage[]) => Promise<unknown>;

/**
 * Delivers delayed messages (RocketMQ ScheduleMessageService). Each delay level is one queue of
 * SCHEDULE_TOPIC_XXXX; as every message of a level waits the same time, each queue is due in
 * store order, so a level needs one timer for its head. Progress is the consumer offset of
 * SCHEDULE_CONSUMER, committed after the re-put: a crash re-delivers (at least once), never loses.
 */
export class ScheduleService {
  private readonly levels: LevelWorker[];

  constructor(store: MessageStore, delayLevels: readonly number[], put: Put, metrics: BrokerMetrics, log: Logger, now: () => number = Date.now) {
    this.levels = delayLevels.map((delayMs, i) => new LevelWorker(store, i, delayMs, put, metrics, log, now));
  }

  start(): void {
    for (const l of this.levels) l.start();
  }

  /** Stops every level; resolves once deliveries in flight have ended and their progress is committed. */
  async stop(): Promise<void> {
    await Promise.all(this.levels.map((l) => l.stop()));
  }

  /** Offsets per level, for admin (RocketMQ delayOffset.json). */
  offsets(): Record<number, number> {
    return Object.fromEntries(this.levels.map((l) => [l.queueId + 1, l.offset]));
  }
}

class LevelWorker {
  offset = 0;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private running = false;
  private rerun = false;
  /** The delivery pass in flight (settles, never rejects); awaited by stop(). */
  private inFlight: Promise<void> | null = null;
  private stopped = true;
  private failures = 0;

  constructor(
    private readonly store: MessageStore,
    readonly queueId: number,
    private readonly delayMs: number,
    private readonly put: Put,
    private readonly metrics: BrokerMetrics,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  start(): void {
    this.stopped = false;
    this.offset = this.store.getConsumerOffset(SCHEDULE_CONSUMER_GROUP, SCHEDULE_TOPIC, this.queueId) ?? this.store.getMinOffset(SCHEDULE_TOPIC, this.queueId);
    this.unsubscribe = this.store.onArrival(SCHEDULE_TOPIC, this.queueId, () => {
      // While a pass runs it may already have read past the end: remember to look again.
      if (this.running) this.rerun = true;
      else if (!this.timer) this.kick();
    });
    this.kick();
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    return this.inFlight ?? Promise.resolve();
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.inFlight = this.run().then(
      (waitMs) => {
        this.inFlight = null;
        this.running = false;
        this.failures = 0;
        if (this.rerun && waitMs === null) {
          this.rerun = false;
          this.kick();
        } else {
          this.rerun = false;
          this.schedule(waitMs);
        }
      },
      (err: unknown) => {
        this.inFlight = null;
        this.running = false;
        this.failures++;
        this.log.warn({ err: formatError(err), level: this.queueId + 1 }, 'broker: delayed delivery failed; retrying');
        this.schedule(Math.min(30_000, 100 * 2 ** Math.min(this.failures, 8)));
      },
    );
  }

  private schedule(waitMs: number | null): void {
    if (this.stopped || waitMs === null) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.kick();
    }, waitMs);
    this.timer.unref();
  }

  /** Delivers what is due; returns ms until the next head is due, or null when the level is empty. */
  private async run(): Promise<number | null> {
    for (;;) {
      const r = await this.store.get(SCHEDULE_TOPIC, this.queueId, this.offset, 32);
      if (r.status === 'NO_MESSAGE_IN_QUEUE' || r.status === 'OFFSET_OVERFLOW_ONE') return null;
      if (r.status !== 'FOUND') {
        // Expired or unreadable entries: skip to where the store says reading continues.
        if (r.nextOffset === this.offset) return null;
        this.offset = r.nextOffset;
        continue;
      }
      const due: Array<{ put: PutMessage; next: number }> = [];
      let waitMs: number | null = null;
      for (const m of r.messages) {
        const deliverAt = m.storeTimestamp + this.delayMs;
        const left = deliverAt - this.now();
        if (left > 0) {
          waitMs = left;
          break;
        }
        due.push({ put: restore(m.record), next: m.queueOffset + 1 });
      }
      // Progress covers exactly what was re-put, even when a put fails or stop() comes mid-batch,
      // so a graceful shutdown never re-delivers.
      let delivered = this.offset;
      try {
        for (const d of due) {
          if (this.stopped) break;
          await this.put([d.put]);
          delivered = d.next;
          this.metrics.delayedDelivered++;
        }
      } finally {
        if (delivered !== this.offset) {
          this.offset = delivered;
          await this.store.commitOffset(SCHEDULE_CONSUMER_GROUP, SCHEDULE_TOPIC, this.queueId, delivered);
        }
      }
      if (this.stopped) return null;
      if (waitMs !== null) return waitMs;
      if (r.messages.length === 0) return null;
    }
  }
}

/** The message as it goes back to its real topic and queue: DELAY removed, REAL_* kept (as RocketMQ). */
function restore(record: Buffer): PutMessage {
  const m = decodeRecord(record);
  const topic = m.properties.get(PropertyKey.REAL_TOPIC) ?? m.topic;
  const queueId = Number(m.properties.get(PropertyKey.REAL_QUEUE_ID) ?? 0);
  // The topic space's fan-out was decided at the send: it goes along to the real topic.
  return resendPut(m, { topic, queueId: Number.isInteger(queueId) && queueId >= 0 ? queueId : 0 }, resendProperties(m.properties, { dispatch: true }));
}
