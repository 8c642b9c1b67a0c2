import type { MessageStore } from '@apogee/store';
import { SESSION_NAMESPACE, encodeSessionRecord, type SessionRecord } from './session-record.js';
import type { SubscriptionState } from './session-types.js';
import { sessionGroupOf } from '@apogee/topics';

/** How often acknowledged progress is committed (a crash redelivers at most this much, at least once). */
const COMMIT_INTERVAL_MS = 100;

/**
 * Durable state of one persistent session: its record in the store's metadata and its LMQ read
 * offsets as consumer offsets of the session's group. Writes are coalesced; `flush` waits for them.
 */
export class SessionPersistence {
  readonly group: string;
  private recordDirty = false;
  private offsetsDirty = false;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private readonly committed = new Map<string, number>();

  constructor(
    readonly clientId: string,
    private readonly store: MessageStore,
    private readonly snapshot: () => SessionRecord,
    private readonly progress: () => Iterable<{ sub: SubscriptionState; offset: number }>,
    private readonly onError: (err: unknown) => void,
  ) {
    this.group = sessionGroupOf(clientId);
  }

  /** The offset to resume a subscription from after a restart, if one was committed. */
  committedOffset(lmq: string): number | undefined {
    return this.store.getConsumerOffset(this.group, lmq, 0);
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.writing = this.writing.then(() => this.write()).catch((err: unknown) => this.onError(err));
    return this.writing;
  }

  /** Forgets the session: record and offsets. */
  async remove(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.recordDirty = this.offsetsDirty = false;
    await this.writing;
    await this.store.metaDelete(SESSION_NAMESPACE, this.clientId);
    await this.store.deleteConsumerOffsets(this.group);
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, COMMIT_INTERVAL_MS);
    this.timer.unref();
  }

  private async write(): Promise<void> {
    const jobs: Array<Promise<void>> = [];
    if (this.recordDirty) {
      this.recordDirty = false;
      jobs.push(this.store.metaPut(SESSION_NAMESPACE, this.clientId, encodeSessionRecord(this.snapshot())));
    }
    if (this.offsetsDirty) {
      this.offsetsDirty = false;
      for (const { sub, offset: progress } of this.progress()) {
        // Live deliveries run ahead of the commit-log write; an offset past what is written must
        // not be committed (after a crash those offsets are reused by new messages, which the
        // session would then skip). Commit what is written; the rest goes with a later write.
        const written = this.store.getMaxOffset(sub.lmq, 0);
        let offset = progress;
        if (offset > written) {
          offset = written;
          this.offsetsDirty = true;
        }
        if (this.committed.get(sub.lmq) === offset) continue;
        this.committed.set(sub.lmq, offset);
        jobs.push(this.store.commitOffset(this.group, sub.lmq, 0, offset));
      }
    }
    await Promise.all(jobs);
    if (this.offsetsDirty || this.recordDirty) this.schedule();
  }
}
