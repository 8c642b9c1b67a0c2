import { PropertyKey, TIMER_TOPIC, decodeRecord, formatError } from '@apogee/message';
import type { MessageStore, PutMessage } from '@apogee/store';
import type { Logger } from '../logger.js';
import { resendProperties, resendPut } from '../send/resend.js';
import { TIMER_NAMESPACE, TIMER_STATE_NAMESPACE, timerKey } from './timer-key.js';
import { timerRecordFields } from './timer-record.js';

/** Owner name of the timer service's retention floor. */
export const TIMER_RETENTION_OWNER = 'timer';
const CURSOR_KEY = 'sweep-cursor';
const SWEEP_READ = 256;
/** A timer due sooner than this is left where it is: it fires before its record could expire. */
const ROLL_MARGIN_MS = 60_000;

type Put = (puts: PutMessage[]) => Promise<unknown>;

/**
 * Keeps pending timer records safe from retention. A cursor walks the timer topic in store order
 * behind the indexer: records whose row is gone (fired, recalled, replaced) are passed; a pending
 * record older than `rollAgeMs` and not due within a minute is rolled forward — appended again to
 * the timer topic with TIMER_ORIGIN naming it, which the indexer swaps in for its row (RocketMQ's
 * ROLL) — and passed. The cursor stops at the first record still needed, and its commit-log offset
 * becomes the store's retention floor for the timer service: nothing a pending timer needs is
 * ever deleted by age, even after a downtime longer than the retention, and rolling bounds how
 * far back the floor holds the log while the broker runs.
 */
export class TimerSweeper {
  private cursor = 0;
  private lastFloor: number | undefined;

  constructor(
    private readonly store: MessageStore,
    private readonly put: Put,
    /** The indexer's next offset: the cursor never passes it (unindexed records have no row yet). */
    private readonly indexed: () => number,
    private readonly isFiring: (key: string) => boolean,
    private readonly rollAgeMs: number,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  start(): void {
    const saved = this.store.metaGet(TIMER_STATE_NAMESPACE, CURSOR_KEY);
    this.cursor = saved?.length === 8 ? Number(saved.readBigUInt64BE(0)) : this.store.getMinOffset(TIMER_TOPIC, 0);
  }

  /** One sweep: pass finished records, roll old ones, move the retention floor. Returns records rolled. */
  async sweep(): Promise<number> {
    const limit = this.indexed();
    const start = this.cursor;
    let rolled = 0;
    let floor: number | null = null as number | null;
    outer: while (this.cursor < limit) {
      const r = await this.store.get(TIMER_TOPIC, 0, this.cursor, Math.min(SWEEP_READ, limit - this.cursor));
      if (r.status !== 'FOUND') {
        if (r.nextOffset <= this.cursor) break;
        this.cursor = Math.min(r.nextOffset, limit);
        continue;
      }
      const rolls: PutMessage[] = [];
      let next = this.cursor;
      const now = this.now();
      for (const m of r.messages) {
        const f = timerRecordFields(m.record, m.storeTimestamp);
        const key = timerKey(f.dueMs, m.commitLogOffset);
        if (this.store.metaGet(TIMER_NAMESPACE, key) !== undefined || this.isFiring(key)) {
          const old = now - m.storeTimestamp > this.rollAgeMs;
          if (!old || f.dueMs - now <= ROLL_MARGIN_MS || this.isFiring(key)) {
            floor = m.commitLogOffset;
            break;
          }
          rolls.push(rolledPut(m.record, m.commitLogOffset));
        }
        next = m.queueOffset + 1;
      }
      // The copies are stored before the floor moves past their originals.
      if (rolls.length > 0) await this.put(rolls);
      rolled += rolls.length;
      this.cursor = next;
      if (floor !== null) break outer;
    }
    if (floor === null) floor = await this.firstUnindexed(limit);
    if (floor !== this.lastFloor) {
      await this.store.setRetentionFloor(TIMER_RETENTION_OWNER, floor);
      this.lastFloor = floor;
    }
    if (this.cursor !== start) {
      const b = Buffer.allocUnsafe(8);
      b.writeBigUInt64BE(BigInt(this.cursor), 0);
      await this.store.metaPut(TIMER_STATE_NAMESPACE, CURSOR_KEY, b);
    }
    if (rolled > 0) this.log.info({ rolled }, 'broker: rolled old pending timer records forward');
    return rolled;
  }

  /**
   * The commit-log offset of the first timer record not indexed yet or, when all are, the end of
   * the log now (a record appended later lies beyond it): never "no floor", as a record appended
   * just before a crash and a long downtime must survive the retention run at the next start.
   */
  private async firstUnindexed(limit: number): Promise<number> {
    const end = this.store.stats().maxCommitLogOffset;
    if (limit >= this.store.getMaxOffset(TIMER_TOPIC, 0)) return end;
    try {
      const r = await this.store.get(TIMER_TOPIC, 0, limit, 1);
      return r.messages[0]?.commitLogOffset ?? this.lastFloor ?? 0;
    } catch (err) {
      this.log.warn({ err: formatError(err) }, 'broker: reading the timer topic for the retention floor failed');
      return this.lastFloor ?? 0;
    }
  }
}

/** A pending timer record appended again to the timer topic, naming the record it replaces. */
function rolledPut(record: Buffer, offset: number): PutMessage {
  const m = decodeRecord(record);
  const props = resendProperties(m.properties, { dispatch: true });
  props.set(PropertyKey.TIMER_ORIGIN, String(offset));
  props.set(PropertyKey.TIMER_ROLL_TIMES, String(Number(props.get(PropertyKey.TIMER_ROLL_TIMES) ?? 0) + 1));
  if (!props.has(PropertyKey.TIMER_ENQUEUE_MS)) props.set(PropertyKey.TIMER_ENQUEUE_MS, String(m.storeTimestamp));
  return resendPut(m, { topic: TIMER_TOPIC, queueId: 0 }, props);
}
