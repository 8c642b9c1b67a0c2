import {
  type MessageExt,
  PropertyKey,
  TIMER_TOPIC,
  TRANS_CHECK_MAX_TIME_TOPIC,
  TRANS_HALF_TOPIC,
  TRANS_SYS_CONSUMER_GROUP,
  decodeRecord,
  formatError,
} from '@apogee/message';
import type { MessageStore, PutMessage, PutResult } from '@apogee/store';
import type { ClientChannel } from '../client/client-channel.js';
import type { ProducerRegistry } from '../client/producer-registry.js';
import type { BrokerConfig } from '../config.js';
import { BrokerError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { TopicManager } from '../topic/topic-manager.js';
import { DecisionLog } from './decision-log.js';
import { checkEndTransaction, immunityOf } from './end-transaction-check.js';
import { type Decision, type HalfMessage, checkBodyOf, commitPutOf, discardPutOf, isCopyOfHalf, realTargetOf } from './half-message.js';
import type { EndTransactionOutcome, EndTransactionRequest, OpenTransaction } from './transaction-types.js';

type Put = (puts: PutMessage[]) => Promise<PutResult[]>;

/** Metadata namespace of check counts, by zero-padded half-queue offset. */
export const CHECK_COUNTS_NAMESPACE = 'transaction-checks';

/** A half message not decided yet, as the check loop keeps it. */
interface OpenHalf {
  halfOffset: number;
  commitLogOffset: number;
  offsetMsgId: string;
  storeTimestamp: number;
  producerGroup: string;
  transactionId: string;
  topic: string;
  queueId: number;
  checks: number;
  nextCheckAt: number;
}

/**
 * Transactional messages (RocketMQ TransactionalMessageService + EndTransactionProcessor +
 * TransactionalMessageCheckService). Half messages sit in RMQ_SYS_TRANS_HALF_TOPIC queue 0; a
 * decision is an op record (DecisionLog). Progress over the half queue is the consumer offset of
 * CID_RMQ_SYS_TRANS: it moves over decided prefixes only, so a restart never loses a half.
 *
 * Undecided halves are kept in memory with their check count (durable in the metadata KV, so a
 * restart keeps counts) and checked back with CHECK_TRANSACTION_STATE first after
 * max(transactionTimeOut, immunity), then every transactionCheckInterval, at most
 * transactionCheckMax times; then they are given up into TRANS_CHECK_MAX_TIME_TOPIC. Unlike
 * RocketMQ, no copy is re-appended per check: a half keeps one offset for its whole life.
 *
 * A commit is applied once: decisions of one half run one after another, a decided half answers
 * `alreadyDecided`, and a commit's real message goes in before its op record — after a crash
 * between the two, start() finds the committed copy by UNIQ_KEY and preparedTransactionOffset
 * and writes the missing op record before anything is checked back.
 */
export class TransactionService {
  private readonly decisions: DecisionLog;
  private readonly open = new Map<number, OpenHalf>();
  private readonly deciding = new Map<number, Promise<unknown>>();
  private base = 0;
  private readCursor = 0;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private stopped = true;
  private closing = false;
  private nextChannel = 0;
  private readyPromise: Promise<void> | null = null;
  private ready = false;
  private reading: Promise<void> = Promise.resolve();
  /** Half messages stored lately, by commit-log offset (see rememberHalf). */
  private readonly recent = new Map<number, HalfMessage>();
  private recentBytes = 0;

  constructor(
    private readonly store: MessageStore,
    private readonly put: Put,
    private readonly producers: Pick<ProducerRegistry, 'connections'>,
    private readonly topics: Pick<TopicManager, 'ensureSystemTopic'>,
    private readonly cfg: BrokerConfig,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
    /** Stores a commit's real message, routed as a send there would be (SendService.putCommitted). */
    private readonly putCommitted: (put: PutMessage & { properties: Map<string, string> }) => Promise<unknown> = (p) => put([p]),
  ) {
    this.decisions = new DecisionLog(store, put, log);
  }

  /** Milliseconds between passes of the check loop: fine enough for the shortest configured wait. */
  get tickMs(): number {
    return Math.max(50, Math.min(1000, this.cfg.transactionTimeOut || 1000, this.cfg.transactionCheckInterval || 1000));
  }

  /** Rebuilds decisions and open halves, repairs commits cut short by a crash, then starts the check loop. */
  start(): Promise<void> {
    this.readyPromise ??= this.recover().then(() => {
      this.ready = true;
      this.stopped = false;
      this.schedule();
    });
    return this.readyPromise;
  }

  /** Stops the loop; resolves once a pass in flight has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
    await Promise.allSettled([...this.deciding.values()]);
    await this.flushDecisions();
  }

  /** Writes the op records of decisions made so far now; resolves once they are written (shutdown, tests). */
  flushDecisions(): Promise<void> {
    return this.decisions.settled();
  }

  /**
   * END_TRANSACTION (37): commits, rolls back or (UNKNOWN) leaves the half message it names.
   * Resolves once the decision holds: for a commit, once the real message is stored; the op
   * record follows (see DecisionLog.record). Written with few async frames: this runs for every
   * transaction.
   */
  endTransaction(req: EndTransactionRequest): Promise<EndTransactionOutcome> {
    if (req.resolution === 'UNKNOWN') {
      // Debug only: a producer answering UNKNOWN to every check would otherwise fill the log.
      this.log.debug?.(
        { producerGroup: req.producerGroup, msgId: req.msgId, remark: req.remark },
        'broker: a transaction state is unknown; it will be checked back',
      );
      return Promise.resolve('unchanged');
    }
    if (this.readyPromise === null) return Promise.reject(new BrokerError('SERVICE_NOT_AVAILABLE', 'the transaction service is not started'));
    if (!this.ready) return this.readyPromise.then(() => this.endTransaction(req));
    const recent = this.recent.get(req.commitLogOffset);
    if (recent !== undefined) return this.endFound(req, recent);
    return this.readHalf(req.commitLogOffset).then((m) => this.endFound(req, m));
  }

  private endFound(req: EndTransactionRequest, found: HalfMessage | null): Promise<EndTransactionOutcome> {
    let m: HalfMessage;
    try {
      m = checkEndTransaction(found, req, this.now(), this.cfg.transactionTimeOut);
    } catch (err) {
      return Promise.reject(err);
    }
    const want: Decision = req.resolution === 'COMMIT' ? 'COMMIT' : 'ROLLBACK';
    return this.decide(m.queueOffset, () => this.apply(m, want));
  }

  /** Applies a decision to an undecided half (the caller holds the half's turn, see decide). */
  private apply(m: HalfMessage, want: Decision): Promise<EndTransactionOutcome> {
    const before = this.decisionOf(m.queueOffset);
    try {
      if (before !== undefined) return Promise.resolve(this.repeated(before, want, m));
      if (want !== 'COMMIT') return Promise.resolve(this.settle(m, want));
      const target = realTargetOf(m);
      if (target === null) throw new BrokerError('SYSTEM_ERROR', 'the half message has no REAL_TOPIC/REAL_QID to commit to');
      return this.putCommitted(commitPutOf(m, target)).then(() => this.settle(m, want));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Records the decision (its op record is written shortly) and forgets the remembered half. */
  private settle(m: HalfMessage, decision: Decision): EndTransactionOutcome {
    void this.finish(m.queueOffset, decision);
    this.forget(m.commitLogOffset);
    return decision === 'COMMIT' ? 'committed' : 'rolledBack';
  }

  /** Half messages waiting for a decision, oldest first, those stored just now included (admin). */
  async openTransactions(max = 1000): Promise<OpenTransaction[]> {
    await this.readNewHalves();
    const out: OpenTransaction[] = [];
    for (const h of this.open.values()) {
      if (out.length >= max) break;
      if (this.decisions.get(h.halfOffset) !== undefined) continue;
      out.push({
        topic: h.topic,
        queueId: h.queueId,
        halfOffset: h.halfOffset,
        commitLogOffset: h.commitLogOffset,
        offsetMsgId: h.offsetMsgId,
        transactionId: h.transactionId,
        producerGroup: h.producerGroup,
        storeTimestamp: h.storeTimestamp,
        checkTimes: h.checks,
      });
    }
    return out;
  }

  /** One pass of the check loop (exposed for tests with a fake clock). */
  async runOnce(): Promise<void> {
    await this.readNewHalves();
    const now = this.now();
    const noProducer = new Map<string, number>();
    for (const h of [...this.open.values()]) {
      if (this.closing) break;
      if (h.nextCheckAt > now || this.deciding.has(h.halfOffset)) continue;
      if (this.decisionOf(h.halfOffset) !== undefined) {
        this.open.delete(h.halfOffset);
        continue;
      }
      try {
        if (h.checks >= this.cfg.transactionCheckMax) await this.discard(h);
        else if (!(await this.check(h))) noProducer.set(h.producerGroup, (noProducer.get(h.producerGroup) ?? 0) + 1);
      } catch (err) {
        this.log.warn({ err: formatError(err), halfOffset: h.halfOffset }, 'broker: checking a transaction back failed; trying again later');
        h.nextCheckAt = now + this.cfg.transactionCheckInterval;
      }
    }
    for (const [group, count] of noProducer)
      this.log.info({ producerGroup: group, halfMessages: count }, 'broker: no producer of the group is online to check its transactions; trying again later');
    await this.advance();
  }

  // --- decisions ---

  private decisionOf(halfOffset: number): Decision | 'BELOW_BASE' | undefined {
    if (halfOffset < this.base) return 'BELOW_BASE';
    return this.decisions.get(halfOffset);
  }

  /** A second decision for a decided half: the same one is a harmless repeat; another is refused. */
  private repeated(before: Decision | 'BELOW_BASE', want: Decision, m: HalfMessage): EndTransactionOutcome {
    if (before === want || before === 'BELOW_BASE') return 'alreadyDecided';
    const was = before === 'COMMIT' ? 'committed' : before === 'ROLLBACK' ? 'rolled back' : 'given up after its checks ran out';
    throw new BrokerError(
      'SYSTEM_ERROR',
      `the transaction ${m.properties.get(PropertyKey.TRANSACTION_ID) ?? ''} was already ${was}; it cannot be ${want === 'COMMIT' ? 'committed' : 'rolled back'} now`,
    );
  }

  /** Runs `fn` once every earlier decision of the same half has ended: decisions of one half never overlap. */
  private decide<T>(halfOffset: number, fn: () => Promise<T>): Promise<T> {
    const earlier = this.deciding.get(halfOffset);
    if (earlier !== undefined) {
      const after = earlier.then(
        () => undefined,
        () => undefined,
      );
      return after.then(() => this.decide(halfOffset, fn));
    }
    const run = fn();
    this.deciding.set(halfOffset, run);
    const done = (): void => {
      if (this.deciding.get(halfOffset) === run) this.deciding.delete(halfOffset);
    };
    run.then(done, done);
    return run;
  }

  /** Records a decision and forgets the half's check count; resolves once its op record is written. */
  private finish(halfOffset: number, decision: Decision): Promise<void> {
    const written = this.decisions.record(halfOffset, decision);
    if (this.open.delete(halfOffset) || decision === 'DISCARD') {
      this.store.metaDelete(CHECK_COUNTS_NAMESPACE, countKey(halfOffset)).catch(() => undefined);
    }
    return written;
  }

  /**
   * Remembers a half message just stored (SendService tells), so that its END_TRANSACTION needs
   * no read and decode of the record. Bounded (RECENT_MAX entries, RECENT_MAX_BYTES of bodies),
   * oldest out first; after a restart decisions read the record.
   */
  rememberHalf(put: PutMessage, r: PutResult): void {
    const props = put.properties;
    if (put.bornHost === undefined || !(props instanceof Map)) return;
    this.recent.set(r.commitLogOffset, {
      topic: put.topic,
      queueOffset: r.queueOffset,
      commitLogOffset: r.commitLogOffset,
      properties: props as ReadonlyMap<string, string>,
      bornTimestamp: put.bornTimestamp ?? r.storeTimestamp,
      body: put.body,
      flag: put.flag ?? 0,
      sysFlag: put.sysFlag ?? 0,
      bornHost: put.bornHost,
      reconsumeTimes: put.reconsumeTimes ?? 0,
    });
    this.recentBytes += put.body.length;
    for (const [k, v] of this.recent) {
      if (this.recent.size <= RECENT_MAX && this.recentBytes <= RECENT_MAX_BYTES) break;
      this.forget(k, v);
    }
  }

  private forget(commitLogOffset: number, m: HalfMessage | undefined = this.recent.get(commitLogOffset)): void {
    if (m !== undefined && this.recent.delete(commitLogOffset)) this.recentBytes -= m.body.length;
  }

  private async readHalf(commitLogOffset: number): Promise<MessageExt | null> {
    if (!Number.isSafeInteger(commitLogOffset) || commitLogOffset < 0) return null;
    const rec = await this.store.readRecord(commitLogOffset);
    if (rec === null) return null;
    try {
      return decodeRecord(rec);
    } catch {
      return null;
    }
  }

  // --- the check loop ---

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.inFlight = this.runOnce()
        .catch((err: unknown) => this.log.warn({ err: formatError(err) }, 'broker: the transaction check pass failed; retrying'))
        .finally(() => {
          this.inFlight = null;
          this.schedule();
        });
    }, this.tickMs);
    this.timer.unref();
  }

  /** Sends one check to one live producer of the group; false when none is online (counted all the same, as RocketMQ). */
  private async check(h: OpenHalf): Promise<boolean> {
    const m = await this.readHalf(h.commitLogOffset);
    if (m === null) {
      this.log.warn({ halfOffset: h.halfOffset }, 'broker: a half message is gone from the store (retention); it is given up');
      await this.decide(h.halfOffset, () => this.finish(h.halfOffset, 'DISCARD'));
      return true;
    }
    h.checks++;
    h.nextCheckAt = this.now() + this.cfg.transactionCheckInterval;
    await this.store.metaPut(CHECK_COUNTS_NAMESPACE, countKey(h.halfOffset), Buffer.from(String(h.checks), 'latin1'));
    const channel = this.pickChannel(h.producerGroup);
    if (channel === undefined) return false;
    channel.checkTransactionState!({
      topic: TRANS_HALF_TOPIC,
      tranStateTableOffset: h.halfOffset,
      commitLogOffset: h.commitLogOffset,
      msgId: h.transactionId,
      transactionId: h.transactionId,
      offsetMsgId: h.offsetMsgId,
      brokerName: this.cfg.brokerName,
      body: checkBodyOf(m, { topic: h.topic, queueId: h.queueId }),
    });
    return true;
  }

  /** Round-robin over the group's channels that can carry a check. */
  private pickChannel(group: string): ClientChannel | undefined {
    const candidates = this.producers.connections(group).filter((c) => c.channel.checkTransactionState !== undefined);
    if (candidates.length === 0) return undefined;
    return candidates[this.nextChannel++ % candidates.length]!.channel;
  }

  /** Gives a half up: a copy into TRANS_CHECK_MAX_TIME_TOPIC, then its op record. */
  private async discard(h: OpenHalf): Promise<void> {
    await this.decide(h.halfOffset, async () => {
      if (this.decisionOf(h.halfOffset) !== undefined) return;
      const m = await this.readHalf(h.commitLogOffset);
      if (m !== null) {
        // Readable like RocketMQ's: a one-queue topic operators can pull from.
        await this.topics.ensureSystemTopic(TRANS_CHECK_MAX_TIME_TOPIC);
        await this.put([discardPutOf(m, h.checks)]);
      }
      this.log.warn(
        { halfOffset: h.halfOffset, transactionId: h.transactionId, producerGroup: h.producerGroup, checks: h.checks },
        `broker: a transaction was checked back ${h.checks} times without a decision; it goes to ${TRANS_CHECK_MAX_TIME_TOPIC}`,
      );
      await this.finish(h.halfOffset, 'DISCARD');
    });
  }

  /** Reads half messages appended since the last pass into the open table; one reader at a time. */
  private readNewHalves(): Promise<void> {
    const run = this.reading.then(() => this.readHalvesNow());
    this.reading = run.catch(() => undefined);
    return run;
  }

  private async readHalvesNow(): Promise<void> {
    for (;;) {
      // Decided halves need no reading: under load most are decided before the loop comes by.
      const max = this.store.getMaxOffset(TRANS_HALF_TOPIC, 0);
      while (this.readCursor < max && this.decisions.get(this.readCursor) !== undefined) this.readCursor++;
      // A bounded table: later halves are read once earlier ones are decided (progress cannot pass those anyway).
      if (this.readCursor >= max || this.open.size >= OPEN_MAX) return;
      const r = await this.store.get(TRANS_HALF_TOPIC, 0, this.readCursor, 32);
      if (r.status !== 'FOUND') {
        if (r.status === 'NO_MESSAGE_IN_QUEUE' || r.status === 'OFFSET_OVERFLOW_ONE' || r.nextOffset <= this.readCursor) return;
        // Expired entries (retention): reading goes on where the store says.
        this.readCursor = r.nextOffset;
        continue;
      }
      for (const sm of r.messages) this.addOpen(sm.record, sm.queueOffset);
      this.readCursor = r.nextOffset;
    }
  }

  private addOpen(record: Buffer, halfOffset: number): void {
    if (this.decisionOf(halfOffset) !== undefined) return;
    let m: MessageExt;
    try {
      m = decodeRecord(record);
    } catch (err) {
      this.log.warn({ err: formatError(err), halfOffset }, 'broker: an unreadable half message was skipped');
      return;
    }
    const target = realTargetOf(m);
    const count = this.store.metaGet(CHECK_COUNTS_NAMESPACE, countKey(halfOffset));
    const checks = count === undefined ? 0 : Number(count.toString('latin1')) || 0;
    const firstAt = m.storeTimestamp + (immunityOf(m, this.cfg.transactionTimeOut) ?? this.cfg.transactionTimeOut);
    this.open.set(halfOffset, {
      halfOffset,
      commitLogOffset: m.commitLogOffset,
      offsetMsgId: m.msgId,
      storeTimestamp: m.storeTimestamp,
      producerGroup: m.properties.get(PropertyKey.PRODUCER_GROUP) ?? '',
      transactionId: m.properties.get(PropertyKey.TRANSACTION_ID) ?? m.properties.get(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? '',
      topic: target?.topic ?? '',
      queueId: target?.queueId ?? 0,
      checks,
      // After a restart a half already checked is due at once.
      nextCheckAt: checks > 0 ? this.now() : firstAt,
    });
  }

  /** Moves the half queue's progress to the oldest open half and prunes what lies below. */
  private async advance(): Promise<void> {
    let next = this.readCursor;
    for (const k of this.open.keys()) if (k < next) next = k;
    for (const k of this.deciding.keys()) if (k < next) next = k;
    if (next > this.base) {
      this.base = next;
      await this.store.commitOffset(TRANS_SYS_CONSUMER_GROUP, TRANS_HALF_TOPIC, 0, next);
    }
    await this.decisions.prune(this.base);
  }

  // --- recovery ---

  private async recover(): Promise<void> {
    this.base = this.store.getConsumerOffset(TRANS_SYS_CONSUMER_GROUP, TRANS_HALF_TOPIC, 0) ?? this.store.getMinOffset(TRANS_HALF_TOPIC, 0);
    this.readCursor = this.base;
    await this.decisions.load(this.base);
    await this.readNewHalves();
    let repaired = 0;
    for (const h of [...this.open.values()]) {
      const copy = await this.findCopy(h);
      if (copy === null) continue;
      await this.finish(h.halfOffset, copy);
      repaired++;
    }
    if (this.open.size + repaired > 0) this.log.info({ open: this.open.size, repaired }, 'broker: transactional half messages recovered');
  }

  /**
   * Whether a commit (or a give-up) of this half got its real message in before a crash took its
   * op record: a message of the real topic (or the timer topic, or TRANS_CHECK_MAX_TIME_TOPIC) with the half's
   * UNIQ_KEY whose preparedTransactionOffset is the half's commit-log offset.
   */
  private async findCopy(h: OpenHalf): Promise<Decision | null> {
    const uniq = h.transactionId;
    if (uniq === '') return null;
    const end = this.now() + 60_000;
    for (const [topic, decision] of [
      [h.topic, 'COMMIT'],
      // A committed message with timer properties waits in the timer topic (it keeps the offset).
      [TIMER_TOPIC, 'COMMIT'],
      [TRANS_CHECK_MAX_TIME_TOPIC, 'DISCARD'],
    ] as const) {
      if (topic === '') continue;
      for (const hit of await this.store.queryByUniqueKey(topic, uniq, h.storeTimestamp - 1000, end)) {
        try {
          if (isCopyOfHalf(decodeRecord(hit.record), h.commitLogOffset)) return decision;
        } catch {
          // An unreadable hit is not the copy.
        }
      }
    }
    return null;
  }
}

/** Most undecided halves kept in memory at once (about 200 bytes each). */
const OPEN_MAX = 100_000;

/** Bounds of the recent-half table: enough for the pipelined transactions of many producers. */
const RECENT_MAX = 100_000;
const RECENT_MAX_BYTES = 32 * 1024 * 1024;

function countKey(halfOffset: number): string {
  return String(halfOffset).padStart(20, '0');
}
