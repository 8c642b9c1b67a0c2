import type { MessageStore } from '@apogee/store';
import type { HaServer } from './ha-server.js';

/** How a send stands with the replicas (the RocketMQ send statuses it maps onto). */
export type CopiesOutcome = 'SEND_OK' | 'FLUSH_SLAVE_TIMEOUT' | 'SLAVE_NOT_AVAILABLE';

export interface SyncReplicationOptions {
  server: Pick<HaServer, 'liveReplicas' | 'onProgress'>;
  store: Pick<MessageStore, 'commitLogConfirmed'>;
  /** Copies, the master's included, a send needs (--min-in-sync-replicas); fewer in sync: SLAVE_NOT_AVAILABLE at once. */
  minInSyncReplicas: number;
  /** A send not held by every in-sync replica within this is answered FLUSH_SLAVE_TIMEOUT (default 3 s, RocketMQ's slaveTimeout). */
  timeoutMs?: number;
  /** A replica becomes a candidate for the in-sync set once it holds what the master had confirmed this long ago (default 1 s). */
  joinLagMs?: number;
  /** A replica leaves it when what it holds is older than this (default 15 s, RocketMQ's haMaxTimeSlaveNotCatchup). */
  leaveLagMs?: number;
  /** Tells when the in-sync set changed (the replica ids in it), for logs and the controller. */
  onInSyncChange?: (members: readonly number[]) => void;
  /**
   * Asked before a member leaves (with the ids that would remain): sends keep waiting for it until
   * this resolves true — the controller records the smaller set in etcd first, so a replica that
   * may lack an acknowledged send is never electable. False or a rejection: asked again on the
   * next tick. Absent: members leave at once.
   */
  confirmLeave?: (remaining: readonly number[]) => Promise<boolean>;
  now?: () => number;
}

interface Waiter {
  end: number;
  deadline: number;
  resolve: (outcome: CopiesOutcome) => void;
}

/** Samples of the master's confirmed end kept to tell a replica's lag in time. */
const SAMPLE_MS = 100;

/**
 * Synchronous replication on the master (docs/ha-design.md, decision 5): a send stored here is
 * answered once every in-sync replica acknowledged (under its flush policy: the offset it
 * confirmed) the log up to the send's end, and only while at least `minInSyncReplicas` copies,
 * this one included, are in sync — with every in-sync replica holding every acknowledged send,
 * any of them may take over without losing one.
 *
 * Joining keeps that true under load: a replica whose lag (how old the newest master state it
 * holds is, from samples of the master's confirmed end) is under `joinLagMs` becomes a candidate;
 * sends from then on wait for candidates too (candidates do not count toward the minimum), so the
 * highest end answered stops running ahead of it, and it becomes a member once it holds that end.
 * A candidate that does not get there within `joinLagMs` is dropped (and may try again); a member
 * leaves when its lag passes `leaveLagMs` or it disconnects.
 */
export class SyncReplication {
  private readonly waiters: Waiter[] = [];
  private head = 0;
  private readonly inSync = new Set<number>();
  /** Members whose leave is being confirmed (still waited for), and what each last confirmed. */
  private readonly leaving = new Set<number>();
  /** Scratch of progress(): the connected replica ids (reused: progress runs on every ack). */
  private readonly present = new Set<number>();
  private readonly lastHeld = new Map<number, number>();
  /** Replica id → when it became a candidate. */
  private readonly candidates = new Map<number, number>();
  /** The highest log end of a send answered SEND_OK (or answered at once with nothing to wait for). */
  private answeredUpTo = 0;
  /** (time, confirmed end) every SAMPLE_MS, oldest first, covering leaveLagMs. */
  private readonly samples: Array<{ at: number; pos: number }> = [];
  private readonly ticker: NodeJS.Timeout;
  private readonly off: () => void;
  private readonly now: () => number;
  private readonly needed: number;
  private readonly timeoutMs: number;
  private readonly joinLagMs: number;
  private readonly leaveLagMs: number;

  constructor(private readonly opts: SyncReplicationOptions) {
    if (!Number.isInteger(opts.minInSyncReplicas) || opts.minInSyncReplicas < 1)
      throw new RangeError(`minInSyncReplicas must be 1 or more, got ${opts.minInSyncReplicas}`);
    this.now = opts.now ?? Date.now;
    this.needed = opts.minInSyncReplicas - 1;
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.joinLagMs = opts.joinLagMs ?? 1000;
    this.leaveLagMs = opts.leaveLagMs ?? 15_000;
    this.sample();
    this.off = opts.server.onProgress(() => this.progress());
    this.ticker = setInterval(() => {
      this.sample();
      this.progress();
      this.expire();
    }, SAMPLE_MS);
    this.ticker.unref();
  }

  /** The replica ids in the in-sync set now. */
  members(): number[] {
    return [...this.inSync].sort((a, b) => a - b);
  }

  /** Copies that hold every acknowledged send: this master and its in-sync replicas. */
  get copies(): number {
    return 1 + this.inSync.size;
  }

  /**
   * How the send whose record ends at log offset `end` (stored and confirmed here) stands: null
   * when no replica has to hold it (no replica in sync and none required); else a promise of the
   * outcome, SLAVE_NOT_AVAILABLE at once when fewer copies than required are in sync.
   */
  awaitCopies(end: number): Promise<CopiesOutcome> | null {
    if (this.inSync.size < this.needed) return Promise.resolve('SLAVE_NOT_AVAILABLE');
    if (this.inSync.size === 0 && this.candidates.size === 0) {
      this.answered(end);
      return null;
    }
    if (this.heldByAllUpTo() >= end) {
      this.answered(end);
      return Promise.resolve('SEND_OK');
    }
    return new Promise((resolve) => this.waiters.push({ end, deadline: this.now() + this.timeoutMs, resolve }));
  }

  private answered(end: number): void {
    if (end > this.answeredUpTo) this.answeredUpTo = end;
  }

  close(): void {
    clearInterval(this.ticker);
    this.off();
    this.settleAll('SLAVE_NOT_AVAILABLE');
  }

  /** The lowest offset every in-sync replica and candidate confirmed (Infinity with none); a member gone from the connections counts with what it last confirmed. */
  private heldByAllUpTo(): number {
    let low = Infinity;
    for (const r of this.opts.server.liveReplicas()) {
      if (this.inSync.has(r.replicaId)) this.lastHeld.set(r.replicaId, r.flushedOffset);
      else if (this.candidates.has(r.replicaId) && r.flushedOffset < low) low = r.flushedOffset;
    }
    for (const id of this.inSync) {
      const held = this.lastHeld.get(id) ?? 0;
      if (held < low) low = held;
    }
    return low;
  }

  /** Takes a member out of the set (at once, or once confirmLeave agreed). Returns true when it left now. */
  private leave(id: number): boolean {
    const confirm = this.opts.confirmLeave;
    if (!confirm) {
      this.inSync.delete(id);
      this.lastHeld.delete(id);
      return true;
    }
    if (this.leaving.has(id)) return false;
    this.leaving.add(id);
    const remaining = this.members().filter((m) => m !== id && !this.leaving.has(m));
    void confirm(remaining)
      .catch(() => false)
      .then((ok) => {
        this.leaving.delete(id);
        if (!ok || !this.inSync.has(id)) return;
        this.inSync.delete(id);
        this.lastHeld.delete(id);
        this.opts.onInSyncChange?.(this.members());
        if (this.inSync.size < this.needed) this.settleAll('SLAVE_NOT_AVAILABLE');
        else this.progress();
      });
    return false;
  }

  private sample(): void {
    const now = this.now();
    this.samples.push({ at: now, pos: this.opts.store.commitLogConfirmed });
    // Keep one sample older than the leave lag, so a lag past it is still measurable.
    while (this.samples.length > 2 && this.samples[1]!.at < now - this.leaveLagMs) this.samples.shift();
  }

  /** How long ago the master had confirmed no more than `held` (0: it holds the newest sample). */
  private lagMs(held: number, now: number): number {
    for (let i = this.samples.length - 1; i >= 0; i--) {
      const s = this.samples[i]!;
      if (s.pos <= held) return i === this.samples.length - 1 && held >= this.opts.store.commitLogConfirmed ? 0 : now - s.at;
    }
    return Infinity;
  }

  private progress(): void {
    const now = this.now();
    let changed = false;
    const present = this.present;
    present.clear();
    for (const r of this.opts.server.liveReplicas()) {
      const id = r.replicaId;
      present.add(id);
      if (this.inSync.has(id)) {
        this.lastHeld.set(id, r.flushedOffset);
        if (this.lagMs(r.flushedOffset, now) > this.leaveLagMs && this.leave(id)) changed = true;
        continue;
      }
      const since = this.candidates.get(id);
      if (since === undefined) {
        if (this.lagMs(r.flushedOffset, now) <= this.joinLagMs) {
          this.candidates.set(id, now);
          if (this.joinIfCaughtUp(id, r.flushedOffset)) changed = true;
        }
      } else if (this.joinIfCaughtUp(id, r.flushedOffset)) changed = true;
      // Too slow to join (sends wait for it meanwhile, so the window is short): it may try again.
      else if (now - since > this.joinLagMs) this.candidates.delete(id);
    }
    // Deleting the current entry while iterating a Set is safe (leave() may delete at once).
    for (const id of this.inSync) if (!present.has(id) && this.leave(id)) changed = true;
    for (const id of this.candidates.keys()) if (!present.has(id)) this.candidates.delete(id);
    if (changed) {
      this.opts.onInSyncChange?.(this.members());
      if (this.inSync.size < this.needed) return this.settleAll('SLAVE_NOT_AVAILABLE');
    }
    if (this.head === this.waiters.length) return;
    const upTo = this.heldByAllUpTo();
    while (this.head < this.waiters.length && this.waiters[this.head]!.end <= upTo) {
      const w = this.waiters[this.head++]!;
      this.answered(w.end);
      w.resolve('SEND_OK');
    }
    this.compact();
  }

  /** A candidate holding every answered send becomes a member. */
  private joinIfCaughtUp(id: number, held: number): boolean {
    if (held < this.answeredUpTo) return false;
    this.candidates.delete(id);
    this.inSync.add(id);
    this.lastHeld.set(id, held);
    return true;
  }

  /** Answers FLUSH_SLAVE_TIMEOUT to the sends waiting past their deadline (they are in deadline order). */
  private expire(): void {
    const now = this.now();
    while (this.head < this.waiters.length && this.waiters[this.head]!.deadline <= now) this.waiters[this.head++]!.resolve('FLUSH_SLAVE_TIMEOUT');
    this.compact();
  }

  private settleAll(outcome: CopiesOutcome): void {
    while (this.head < this.waiters.length) this.waiters[this.head++]!.resolve(outcome);
    this.compact();
  }

  private compact(): void {
    if (this.head === this.waiters.length) {
      this.waiters.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.waiters.length) {
      this.waiters.splice(0, this.head);
      this.head = 0;
    }
  }
}
