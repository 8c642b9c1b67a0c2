import { CommitSoon, type Engine } from '@apogee/broker';
import { SESSION_NAMESPACE, encodeSessionRecord, type SessionRecord } from './session-record.js';
import type { SubscriptionState } from './session-types.js';
import { parseSharedSubscription, sessionGroupOf } from '@apogee/topics';

/** The engine's durable filter holder of a session (see TopicFilters). */
export const sessionHolderOf = (clientId: string): string => `mqtt:${clientId}`;

/**
 * Durable state of one persistent session: its record in the endpoint metadata, its LMQ read
 * offsets as consumer offsets of the session's group, and its filters as a durable holder in the
 * engine's topic-filter registry (so they keep receiving while it is away, with or without this
 * gateway running). Writes are coalesced; `flush` waits for them.
 */
export class SessionPersistence {
  readonly group: string;
  private recordDirty = false;
  private offsetsDirty = false;
  /** Acknowledged progress is written a few times a second (a crash redelivers at most that much, at least once). */
  private readonly writeSoon = new CommitSoon(() => void this.flush());
  private writing: Promise<void> = Promise.resolve();
  /** The durable holder last written to the engine's filter registry (JSON), to write it only when it changes. */
  private held: string | null = null;
  private readonly committed = new Map<string, number>();

  constructor(
    readonly clientId: string,
    private readonly engine: Engine,
    private readonly snapshot: () => SessionRecord,
    private readonly progress: () => Iterable<{ sub: SubscriptionState; offset: number }>,
    private readonly onError: (err: unknown) => void,
  ) {
    this.group = sessionGroupOf(clientId);
  }

  /** The offset to resume a subscription from after a restart, if one was committed. */
  committedOffset(lmq: string): number | undefined {
    return this.engine.committedOffset(this.group, lmq, 0);
  }

  recordChanged(): void {
    this.recordDirty = true;
    this.schedule();
  }

  offsetsChanged(): void {
    this.offsetsDirty = true;
    this.schedule();
  }

  /** Writes everything pending now and resolves when it is durable. */
  flush(): Promise<void> {
    this.writeSoon.cancel();
    this.writing = this.writing.then(() => this.write()).catch((err: unknown) => this.onError(err));
    return this.writing;
  }

  /** Forgets the session: record and offsets. */
  async remove(): Promise<void> {
    this.writeSoon.cancel();
    this.recordDirty = this.offsetsDirty = false;
    this.held = null;
    // The filters leave the registry now (metadata writes apply in the order they are issued, so
    // a record write still in flight cannot bring the holder back).
    const released = this.engine.topicFilters.release(sessionHolderOf(this.clientId));
    await this.writing;
    await this.engine.metadata.delete(SESSION_NAMESPACE, this.clientId);
    await released;
    await this.engine.deleteOffsets(this.group);
  }

  private schedule(): void {
    this.writeSoon.request();
  }

  private async write(): Promise<void> {
    const jobs: Array<Promise<void>> = [];
    if (this.recordDirty) {
      this.recordDirty = false;
      const rec = this.snapshot();
      jobs.push(this.engine.metadata.put(SESSION_NAMESPACE, this.clientId, encodeSessionRecord(rec)));
      // The engine's durable holder changes with the subscriptions and the expiry, not with every
      // record write (inbound QoS 2 ids change the record once per message): written when it differs.
      const holder = {
        filters: rec.subs.map((s) => parseSharedSubscription(s.filter)?.filter ?? s.filter),
        expirySeconds: rec.expirySeconds,
        disconnectedAt: rec.disconnectedAt,
      };
      const held = JSON.stringify(holder);
      if (held !== this.held) {
        this.held = held;
        jobs.push(
          this.engine.topicFilters.hold(sessionHolderOf(this.clientId), holder).catch((err: unknown) => {
            this.held = null; // written again with the next record
            throw err;
          }),
        );
      }
    }
    if (this.offsetsDirty) {
      this.offsetsDirty = false;
      for (const { sub, offset: progress } of this.progress()) {
        // Live deliveries run ahead of the commit-log write; an offset past what is written must
        // not be committed (after a crash those offsets are reused by new messages, which the
        // session would then skip). Commit what is written; the rest goes with a later write.
        const written = this.engine.maxOffset(sub.lmq, 0);
        let offset = progress;
        if (offset > written) {
          offset = written;
          this.offsetsDirty = true;
        }
        if (this.committed.get(sub.lmq) === offset) continue;
        this.committed.set(sub.lmq, offset);
        jobs.push(this.engine.commitOffset(this.group, sub.lmq, 0, offset));
      }
    }
    await Promise.all(jobs);
    if (this.offsetsDirty || this.recordDirty) this.schedule();
  }
}
