import { type Engine, SerialPass } from '@apogee/broker';
import type { Session } from '../session/session.js';
import type { SubscriptionOptions } from '../session/session-types.js';

/** How often the group's progress is committed. */
const COMMIT_INTERVAL_MS = 100;

/**
 * A shared subscription `$share/<name>/<filter>` (MQTT 5 §4.8.2, also offered to 3.1.1): the
 * filter's LMQ read once, from the group's own durable offset, each message given to one online
 * member with room (round robin). A member that leaves with messages unacknowledged gives them
 * back; they go to the others. The committed offset is the lowest message not yet handled.
 */
export class SharedGroup {
  readonly members = new Map<Session, SubscriptionOptions>();
  private readOffset: number;
  /** Read but not yet handed out (or handed back), in offset order. */
  private readonly pending: Array<{ offset: number; record: Buffer }> = [];
  /** Handed out and awaiting the member's acknowledgement. */
  private readonly outstanding = new Set<number>();
  private rr = 0;
  private readonly passes: SerialPass;
  private committed = -1;
  private commitTimer: NodeJS.Timeout | null = null;
  private readonly wake = () => this.pump();

  constructor(
    readonly shareName: string,
    readonly filter: string,
    readonly lmq: string,
    readonly group: string,
    private readonly engine: Engine,
    private readonly onError: (err: unknown) => void,
  ) {
    this.passes = new SerialPass(() => this.run(), onError);
    this.readOffset = engine.committedOffset(group, lmq, 0) ?? engine.maxOffset(lmq, 0);
    this.committed = this.readOffset;
    engine.live.watch(lmq, 0, this.wake);
  }

  addMember(session: Session, opts: SubscriptionOptions): void {
    this.members.set(session, opts);
    this.pump();
  }

  /** Returns true when the group has no member left (the caller drops it). */
  removeMember(session: Session): boolean {
    this.members.delete(session);
    if (this.members.size > 0) {
      this.pump();
      return false;
    }
    this.engine.live.unwatch(this.lmq, 0, this.wake);
    this.flush();
    return true;
  }

  /** Reads and hands out while some member has room. */
  pump(): void {
    this.passes.request();
  }

  private async run(): Promise<void> {
    for (let guard = 0; guard < 100_000; guard++) {
      if (this.pending.length === 0) {
        const r = await this.engine.read(this.lmq, 0, this.readOffset, 64);
        if (r.status !== 'FOUND') {
          if (r.status !== 'OFFSET_OVERFLOW_ONE' && r.status !== 'NO_MESSAGE_IN_QUEUE' && r.nextOffset !== this.readOffset) {
            this.readOffset = r.nextOffset;
            this.commitSoon();
            continue;
          }
          return;
        }
        for (const m of r.messages) this.pending.push({ offset: m.queueOffset, record: m.record });
        this.readOffset = r.nextOffset;
      }
      const next = this.pending[0]!;
      const member = this.pickMember();
      if (!member) return; // room comes back through pump()
      this.pending.shift();
      const [session, opts] = member;
      const offset = next.offset;
      this.outstanding.add(offset);
      let settled = false;
      const done = () => {
        if (settled) return;
        settled = true;
        this.outstanding.delete(offset);
        this.commitSoon();
      };
      const lost = () => {
        if (settled) return;
        settled = true;
        this.outstanding.delete(offset);
        this.requeue(next);
        this.pump();
      };
      const result = session.deliverShared(next.record, opts, done, lost);
      if (result === 'full') {
        settled = true;
        this.outstanding.delete(offset);
        this.pending.unshift(next);
        return;
      }
      if (result === 'skipped') done();
    }
  }

  /** The next member (round robin) that is online with room; QoS 0 members only need a connection. */
  private pickMember(): [Session, SubscriptionOptions] | undefined {
    const all = [...this.members];
    for (let i = 0; i < all.length; i++) {
      const m = all[(this.rr + i) % all.length]!;
      const [session, opts] = m;
      if (!session.connection || session.connection.isClosed) continue;
      if (opts.qos > 0 && !session.hasRoom()) continue;
      this.rr = (this.rr + i + 1) % all.length;
      return m;
    }
    return undefined;
  }

  private requeue(item: { offset: number; record: Buffer }): void {
    let i = 0;
    while (i < this.pending.length && this.pending[i]!.offset < item.offset) i++;
    this.pending.splice(i, 0, item);
  }

  /** The lowest offset not yet handled: everything below it is delivered. */
  private progress(): number {
    let low = this.pending.length > 0 ? this.pending[0]!.offset : this.readOffset;
    for (const o of this.outstanding) if (o < low) low = o;
    return low;
  }

  private commitSoon(): void {
    if (this.commitTimer) return;
    this.commitTimer = setTimeout(() => {
      this.commitTimer = null;
      this.flush();
    }, COMMIT_INTERVAL_MS);
    this.commitTimer.unref();
  }

  flush(): void {
    if (this.commitTimer) clearTimeout(this.commitTimer);
    this.commitTimer = null;
    const p = this.progress();
    if (p === this.committed) return;
    this.committed = p;
    this.engine.commitOffset(this.group, this.lmq, 0, p).catch(this.onError);
  }
}
