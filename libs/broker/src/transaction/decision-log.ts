import { TRANS_OP_HALF_TOPIC, TRANS_SYS_CONSUMER_GROUP, decodeRecord, formatError } from '@apogee/message';
import type { MessageStore, PutMessage, PutResult } from '@apogee/store';
import type { Logger } from '../logger.js';
import { type Decision, opPutOf, parseOpRecord } from './half-message.js';

type Put = (puts: PutMessage[]) => Promise<PutResult[]>;

/**
 * The decisions of half messages. The op records in RMQ_SYS_TRANS_OP_HALF_TOPIC are the durable
 * truth; this keeps them in memory by half-queue offset for every offset at or above the half
 * queue's progress (`base`) and rebuilds them from the op queue on start.
 *
 * The op queue's own progress (CID_RMQ_SYS_TRANS on the op queue) moves over op records that
 * only name offsets below `base`, so a rebuild reads the op records of open offsets, not the
 * whole history. Memory: one entry per decided offset not yet below `base`.
 */
export class DecisionLog {
  private readonly decided = new Map<number, Decision>();
  /**
   * Written op records until they name only offsets below base: one entry per record (not per
   * decision, so the bookkeeping allocates little under load), with the highest offset it names.
   */
  private readonly ops: Array<{ opOffset: number; maxHalfOffset: number }> = [];
  /**
   * For each op write in flight, the op queue's max offset when it was issued: it lands at or
   * above that, so progress never passes it before the write's offset is known.
   */
  private readonly inFlightFloors: number[] = [];
  /** Decisions waiting for their op record, by kind. */
  private readonly batches = new Map<Decision, OpBatch>();
  private flushScheduled = false;
  /** Op writes in flight (shutdown waits for them). */
  private readonly writing = new Set<Promise<void>>();
  private opBase = 0;

  constructor(
    private readonly store: MessageStore,
    private readonly put: Put,
    private readonly log: Logger,
  ) {}

  /** Reads the op queue from its progress; decisions of offsets below `base` are dropped. */
  async load(base: number): Promise<void> {
    this.opBase = this.store.getConsumerOffset(TRANS_SYS_CONSUMER_GROUP, TRANS_OP_HALF_TOPIC, 0) ?? this.store.getMinOffset(TRANS_OP_HALF_TOPIC, 0);
    let offset = this.opBase;
    for (;;) {
      const r = await this.store.get(TRANS_OP_HALF_TOPIC, 0, offset, 256);
      if (r.status !== 'FOUND') {
        if (r.status === 'NO_MESSAGE_IN_QUEUE' || r.status === 'OFFSET_OVERFLOW_ONE' || r.nextOffset <= offset) break;
        offset = r.nextOffset;
        continue;
      }
      for (const sm of r.messages) {
        let op: ReturnType<typeof parseOpRecord> = null;
        try {
          op = parseOpRecord(decodeRecord(sm.record));
        } catch (err) {
          this.log.warn({ err: formatError(err), opOffset: sm.queueOffset }, 'broker: an unreadable transaction op record was skipped');
        }
        if (op === null) continue;
        let maxHalfOffset = -1;
        for (const half of op.offsets) {
          if (half > maxHalfOffset) maxHalfOffset = half;
          if (half >= base) this.decided.set(half, op.decision);
        }
        this.ops.push({ opOffset: sm.queueOffset, maxHalfOffset });
      }
      offset = r.nextOffset;
    }
  }

  get(halfOffset: number): Decision | undefined {
    return this.decided.get(halfOffset);
  }

  /** Decided offsets at or above base (admin, tests). */
  get size(): number {
    return this.decided.size;
  }

  /**
   * Records a decision: in memory at once (later requests see it), then as an op record, resolving
   * once that is written. Decisions made in the same event-loop turn share one op record per
   * decision kind (5.x's `o1,o2,…,` body; at most OP_BATCH_MAX_BYTES). A failed op write is
   * logged and not retried: the decision holds in memory, and after a restart the recovery of
   * TransactionService finds committed copies again (see docs/transactions.md).
   */
  record(halfOffset: number, decision: Decision): Promise<void> {
    this.decided.set(halfOffset, decision);
    let batch = this.batches.get(decision);
    if (batch === undefined || batch.bytes >= OP_BATCH_MAX_BYTES) {
      if (batch !== undefined) this.flush(decision, batch);
      batch = { offsets: [], maxHalfOffset: -1, bytes: 0, done: deferred() };
      this.batches.set(decision, batch);
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flushAll());
      }
    }
    batch.offsets.push(halfOffset);
    if (halfOffset > batch.maxHalfOffset) batch.maxHalfOffset = halfOffset;
    batch.bytes += String(halfOffset).length + 1;
    return batch.done.promise;
  }

  /** Writes the waiting op records now and resolves once every op write has ended (shutdown). */
  async settled(): Promise<void> {
    this.flushAll();
    await Promise.all([...this.writing]);
  }

  private flushAll(): void {
    this.flushScheduled = false;
    for (const [decision, batch] of this.batches) this.flush(decision, batch);
  }

  private flush(decision: Decision, batch: OpBatch): void {
    if (this.batches.get(decision) === batch) this.batches.delete(decision);
    const floor = this.store.getMaxOffset(TRANS_OP_HALF_TOPIC, 0);
    this.inFlightFloors.push(floor);
    this.writing.add(batch.done.promise);
    this.put([opPutOf(batch.offsets, decision)])
      .then(
        ([r]) => {
          this.ops.push({ opOffset: r!.queueOffset, maxHalfOffset: batch.maxHalfOffset });
        },
        (err: unknown) => {
          this.log.warn(
            { err: formatError(err), halfOffsets: batch.offsets.length, decision },
            'broker: writing a transaction op record failed; the decisions hold until restart',
          );
        },
      )
      .finally(() => {
        this.inFlightFloors.splice(this.inFlightFloors.indexOf(floor), 1);
        this.writing.delete(batch.done.promise);
        batch.done.resolve();
      });
  }

  /**
   * Forgets decisions below `base` and moves the op queue's progress over op records that name
   * nothing at or above it — never past the floor of an op write in flight, whose offset is not
   * known yet. Runs under load too, so the bookkeeping stays one check pass long.
   */
  async prune(base: number): Promise<void> {
    for (const k of this.decided.keys()) if (k < base) this.decided.delete(k);
    // Batches not written yet land above every offset known now: only writes in flight hold progress back.
    if (this.ops.length === 0) return;
    this.ops.sort((a, b) => a.opOffset - b.opOffset);
    // Progress stops at the first record that still names an open offset.
    let i = 0;
    while (i < this.ops.length && this.ops[i]!.maxHalfOffset < base) i++;
    let next = i < this.ops.length ? this.ops[i]!.opOffset : this.ops[this.ops.length - 1]!.opOffset + 1;
    for (const floor of this.inFlightFloors) next = Math.min(next, floor);
    this.ops.splice(0, i);
    if (next > this.opBase) {
      this.opBase = next;
      await this.store.commitOffset(TRANS_SYS_CONSUMER_GROUP, TRANS_OP_HALF_TOPIC, 0, next);
    }
  }
}

/** Body bytes one op record holds at most (RocketMQ 5.x transactionOpMsgMaxSize). */
const OP_BATCH_MAX_BYTES = 4096;

interface OpBatch {
  offsets: number[];
  maxHalfOffset: number;
  bytes: number;
  done: { promise: Promise<void>; resolve: () => void };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
