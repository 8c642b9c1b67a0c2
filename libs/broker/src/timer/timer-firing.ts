import { PropertyKey, decodeRecord, findProperty, formatError, readRecordProperties } from '@apogee/message';
import type { MessageStore, PutMessage } from '@apogee/store';
import type { Logger } from '../logger.js';
import type { BrokerMetrics } from '../metrics.js';
import { resendProperties, resendPut } from '../send/resend.js';
import { TIMER_NAMESPACE, TIMER_STATE_NAMESPACE, type TimerRow, decodeTimerRow, timerKey } from './timer-key.js';

/** Timers fired per batch: an intent write and a store put, then row and intent deletes overlapping the next batch. */
export const FIRE_BATCH = 1024;
/** Rows looked at per scan beyond a batch (rows of a batch the indexer has not committed are skipped). */
const SCAN_SLACK = 2048;
/** The longest sleep: the due time is wall-clock, the timer monotonic; look again now and then. */
const MAX_SLEEP_MS = 60_000;
/** Intent rows, one per batch in flight: `intent/<sequence>`. */
const INTENT_PREFIX = 'intent/';
/** Queue entries read per step while recovering an intent. */
const RECOVERY_READ = 256;

type Put = (puts: PutMessage[]) => Promise<unknown>;

/** The firing intent, written durably before a batch's puts (see TimerFiring). */
interface Intent {
  v: 1;
  /** Row keys of the batch. */
  keys: string[];
  /** Each real queue of the batch with its max offset before the puts. */
  queues: Array<{ topic: string; queueId: number; from: number }>;
}

/**
 * Fires due timers: scans the earliest index rows, re-puts each due record to its REAL_TOPIC /
 * REAL_QID through the send path's put (so the topic space's LMQ dispatch happens there), then
 * deletes the rows. Never early: a row fires only once its due time has passed.
 *
 * Exactly once: before a batch's puts an intent row of its own names its keys and, per real queue,
 * the max offset then; it is deleted after the rows once the puts are stored. An intent found on
 * start (a crash mid-batch) is resolved by reading those queues from the recorded offsets: what carries a
 * TIMER_ORIGIN of the batch was delivered and only loses its row, the rest fires again.
 */
export class TimerFiring {
  /** Keys of the batch in flight: recall and rolling leave them alone. */
  readonly firing = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private armedFor = Number.POSITIVE_INFINITY;
  private running = false;
  private rerun = false;
  private stopped = true;
  private failures = 0;
  private inFlight: Promise<void> | null = null;
  /** The last scan skipped due rows of an index batch not committed yet. */
  private waitingForIndex = false;
  /** Sequence of the next intent row (intents left by a crash are resolved before any new one). */
  private nextIntent = 0;

  constructor(
    private readonly store: MessageStore,
    private readonly put: Put,
    /** Commit-log offset from which rows may not be fired yet (TimerIndexer.uncommittedFrom). */
    private readonly firableBelow: () => number,
    private readonly metrics: BrokerMetrics,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly batch: number = FIRE_BATCH,
  ) {}

  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** Stops arming; resolves once the batch in flight is stored and its rows deleted. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.disarm();
    await this.inFlight;
  }

  /**
   * The indexer committed a batch: a timer due at `dueMs` (null: none) was indexed, and rows
   * skipped as uncommitted may fire now.
   */
  indexed(dueMs: number | null): void {
    if (this.waitingForIndex) {
      this.waitingForIndex = false;
      this.kick();
    } else if (dueMs !== null) {
      this.arm(dueMs);
    }
  }

  /** Wake up by `dueMs`. */
  private arm(dueMs: number): void {
    if (this.stopped || dueMs >= this.armedFor) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.sleepUntil(dueMs);
  }

  private sleepUntil(dueMs: number): void {
    this.disarm();
    this.armedFor = dueMs;
    const wait = Math.min(MAX_SLEEP_MS, Math.max(0, dueMs - this.now()));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.armedFor = Number.POSITIVE_INFINITY;
      this.kick();
    }, wait);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Number.POSITIVE_INFINITY;
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.disarm();
    this.running = true;
    this.rerun = false;
    this.inFlight = this.run().then(
      (nextDue) => {
        this.running = false;
        this.inFlight = null;
        this.failures = 0;
        if (this.rerun) this.kick();
        else if (nextDue !== null && !this.stopped) this.sleepUntil(nextDue);
      },
      (err: unknown) => {
        this.running = false;
        this.inFlight = null;
        this.failures++;
        this.log.warn({ err: formatError(err) }, 'broker: firing timer messages failed; retrying');
        if (!this.stopped) this.sleepUntil(this.now() + Math.min(30_000, 100 * 2 ** Math.min(this.failures, 8)));
      },
    );
  }

  /**
   * Fires what is due; returns the next due time, or null when no timer is pending. Batches are
   * pipelined: while one batch's rows and intent are deleted (two durable waits), the next batch's
   * intent and puts go ahead — its rows are already invisible to the scan, since a metadata delete
   * is seen at once.
   */
  private async run(): Promise<number | null> {
    if (this.hasIntents()) await this.recover();
    let finishing: Promise<void> | null = null;
    try {
      while (!this.stopped) {
        this.rerun = false;
        const { due, next } = this.dueRows();
        if (due.length === 0) return next;
        const fired = await this.fire(due);
        // At most one batch finishing behind the one firing: a failure surfaces before the next.
        try {
          await finishing;
        } catch (err) {
          this.release(fired.keys);
          throw err;
        }
        finishing = this.finish(fired.keys, fired.intentKey).finally(() => this.release(fired.keys));
        // Its failure is taken where it is awaited (before the next finish, or at the end), not as unhandled meanwhile.
        finishing.catch(() => undefined);
      }
      return null;
    } finally {
      await finishing;
    }
  }

  /** Up to `batch` due rows, earliest first, and the due time of the first row left. */
  private dueRows(): { due: TimerRow[]; next: number | null } {
    const now = this.now();
    const below = this.firableBelow();
    const due: TimerRow[] = [];
    let next: number | null = null;
    this.waitingForIndex = false;
    for (const { key, value } of this.store.metaScan(TIMER_NAMESPACE, '', this.batch + SCAN_SLACK)) {
      const row = decodeTimerRow(key, value);
      if (row === null) continue;
      // A batch put and still finishing (or whose deletes failed): its intent decides, never a second put.
      if (this.firing.has(key)) continue;
      if (row.dueMs > now) {
        next = row.dueMs;
        break;
      }
      // Written by an index batch not committed yet: fired when the indexer reports it.
      if (row.offset >= below) {
        this.waitingForIndex = true;
        continue;
      }
      due.push(row);
      if (due.length >= this.batch) break;
    }
    return { due, next };
  }

  /**
   * Puts one batch under its own intent row; returns what finish must delete. A failure leaves
   * the intent (resolved by the next run's recover) and the rows.
   */
  private async fire(rows: TimerRow[]): Promise<{ keys: string[]; intentKey: string | null }> {
    const keys = rows.map((r) => timerKey(r.dueMs, r.offset));
    for (const k of keys) this.firing.add(k);
    try {
      const records = await Promise.all(rows.map((r) => this.store.readRecord(r.offset, r.size)));
      const now = this.now();
      const puts: PutMessage[] = [];
      const lost: string[] = [];
      const queues = new Map<string, { topic: string; queueId: number; from: number }>();
      for (let i = 0; i < rows.length; i++) {
        const record = records[i];
        if (record == null) {
          lost.push(keys[i]!);
          continue;
        }
        const p = firedPut(record, rows[i]!.offset, now);
        puts.push(p);
        const q = `${p.topic}\u0000${p.queueId}`;
        if (!queues.has(q)) queues.set(q, { topic: p.topic, queueId: p.queueId, from: this.store.getMaxOffset(p.topic, p.queueId) });
      }
      if (lost.length > 0) this.log.error({ timers: lost.length }, 'broker: timer records are gone from the commit log; those timers are lost');
      let intentKey: string | null = null;
      if (puts.length > 0) {
        intentKey = INTENT_PREFIX + String(this.nextIntent++).padStart(12, '0');
        const intent: Intent = { v: 1, keys, queues: [...queues.values()] };
        await this.store.metaPut(TIMER_STATE_NAMESPACE, intentKey, Buffer.from(JSON.stringify(intent)));
        await this.put(puts);
      }
      this.metrics.timersFired += puts.length;
      this.metrics.timersPending = Math.max(0, this.metrics.timersPending - rows.length);
      return { keys, intentKey };
    } catch (err) {
      this.release(keys);
      throw err;
    }
  }

  private release(keys: readonly string[]): void {
    for (const k of keys) this.firing.delete(k);
  }

  /** Deletes a fired batch's rows (seen at once by scans), then, once they are durable, its intent. */
  private async finish(keys: string[], intentKey: string | null): Promise<void> {
    await Promise.all(keys.map((k) => this.store.metaDelete(TIMER_NAMESPACE, k)));
    if (intentKey !== null) await this.store.metaDelete(TIMER_STATE_NAMESPACE, intentKey);
  }

  private hasIntents(): boolean {
    for (const _ of this.store.metaScan(TIMER_STATE_NAMESPACE, INTENT_PREFIX, 1)) return true;
    return false;
  }

  /**
   * Resolves the intents of batches cut short (a crash, or a failed put or delete): rows whose
   * message reached its real queue (found by TIMER_ORIGIN past the recorded offsets) are deleted;
   * the others stay and fire again.
   */
  private async recover(): Promise<void> {
    const intents = [...this.store.metaScan(TIMER_STATE_NAMESPACE, INTENT_PREFIX)];
    for (const { key, value } of intents) await this.recoverOne(key, value);
  }

  private async recoverOne(intentKey: string, raw: Buffer): Promise<void> {
    let intent: Intent;
    try {
      intent = JSON.parse(raw.toString('utf8')) as Intent;
    } catch {
      this.log.error({ intent: intentKey }, 'broker: unreadable timer firing intent dropped; its batch may fire twice');
      await this.store.metaDelete(TIMER_STATE_NAMESPACE, intentKey);
      return;
    }
    const byOffset = new Map<string, string>();
    for (const k of intent.keys) {
      const row = decodeTimerRow(k, Buffer.alloc(4));
      if (row) byOffset.set(String(row.offset), k);
    }
    const delivered: string[] = [];
    for (const q of intent.queues) {
      let offset = Math.max(q.from, this.store.getMinOffset(q.topic, q.queueId));
      const end = this.store.getMaxOffset(q.topic, q.queueId);
      while (offset < end) {
        const r = await this.store.get(q.topic, q.queueId, offset, RECOVERY_READ);
        for (const m of r.messages) {
          const key = byOffset.get(findProperty(readRecordProperties(m.record, 0), PropertyKey.TIMER_ORIGIN) ?? '');
          if (key !== undefined) delivered.push(key);
        }
        if (r.nextOffset <= offset) break;
        offset = r.nextOffset;
      }
    }
    this.log.warn({ batch: intent.keys.length, delivered: delivered.length }, 'broker: resolved a timer batch cut short; the rest fires again');
    this.metrics.timersFired += delivered.length;
    this.metrics.timersPending = Math.max(0, this.metrics.timersPending - delivered.length);
    await this.finish(delivered, intentKey);
  }
}

/**
 * The fired message: back in REAL_TOPIC / REAL_QID (both removed, as RocketMQ does), with
 * TIMER_ENQUEUE_MS (when it entered the timer topic), TIMER_DEQUEUE_MS (now) and TIMER_ORIGIN (the
 * timer record's offset, for recovery). The topic space's fan-out decided at the send goes along.
 */
export function firedPut(record: Buffer, timerOffset: number, now: number): PutMessage {
  const m = decodeRecord(record);
  const props = resendProperties(m.properties, { dispatch: true });
  const topic = props.get(PropertyKey.REAL_TOPIC) ?? m.topic;
  const queueId = Number(props.get(PropertyKey.REAL_QUEUE_ID) ?? 0);
  props.delete(PropertyKey.REAL_TOPIC);
  props.delete(PropertyKey.REAL_QUEUE_ID);
  props.delete(PropertyKey.TIMER_ROLL_TIMES);
  // A rolled copy carries the first record's enqueue time already.
  if (!props.has(PropertyKey.TIMER_ENQUEUE_MS)) props.set(PropertyKey.TIMER_ENQUEUE_MS, String(m.storeTimestamp));
  props.set(PropertyKey.TIMER_DEQUEUE_MS, String(now));
  props.set(PropertyKey.TIMER_ORIGIN, String(timerOffset));
  return resendPut(m, { topic, queueId: Number.isInteger(queueId) && queueId >= 0 ? queueId : 0 }, props);
}
