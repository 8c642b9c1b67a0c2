// One lease, kept alive: a grant, then a keepalive every `intervalMs` (one at a time: the next is
// sent only after the last answered or failed). The keeper knows until when the lease is certainly
// alive on etcd: a keepalive that etcd confirms was processed after we sent it, so the lease lives
// at least TTL seconds from the send; we count `fenceAfterMs` (less than the TTL — a margin for the
// two clocks' rates and for etcd's expiry check) from the send of the last confirmed one. Past that
// instant `alive()` is false at once, synchronously, whatever the timers do; the `onExpired` callback
// follows from a timer.
import type { EtcdClient, LeaseId } from '@apogee/etcd';

export interface LeaseKeeperOptions {
  readonly ttlSeconds: number;
  readonly intervalMs: number;
  readonly fenceAfterMs: number;
  /** Deadline of each keepalive attempt at one endpoint. */
  readonly callTimeoutMs: number;
  readonly now: () => number;
  /** The lease can no longer be counted on (not confirmed within fenceAfterMs, or etcd says gone).
   * The keeper has dropped it; the next `ensure()` grants a new one. */
  readonly onExpired: (why: 'unconfirmed' | 'gone', lease: LeaseId) => void;
  readonly onError: (error: Error) => void;
}

export class LeaseKeeper {
  private lease: LeaseId | null = null;
  private confirmedAt = -Infinity;
  private loop: NodeJS.Timeout | null = null;
  private fence: NodeJS.Timeout | null = null;
  private granting: Promise<LeaseId> | null = null;
  private stopped = false;

  constructor(
    private readonly etcd: EtcdClient,
    private readonly o: LeaseKeeperOptions,
  ) {}

  /** The lease, if it is certainly alive. */
  get id(): LeaseId | null {
    return this.alive() ? this.lease : null;
  }

  alive(): boolean {
    return this.lease !== null && this.o.now() < this.validUntil();
  }

  /** The instant (on `now()`) until which the lease is certainly alive. */
  validUntil(): number {
    return this.lease === null ? -Infinity : this.confirmedAt + this.o.fenceAfterMs;
  }

  /** Since when (on `now()`) the lease is confirmed: the send of the last confirmed keepalive. */
  get lastConfirmedAt(): number {
    return this.confirmedAt;
  }

  /** The live lease, granted now if there is none. */
  ensure(): Promise<LeaseId> {
    if (this.stopped) return Promise.reject(new Error('lease keeper stopped'));
    if (this.alive()) return Promise.resolve(this.lease!);
    this.granting ??= this.grant().finally(() => (this.granting = null));
    return this.granting;
  }

  private async grant(): Promise<LeaseId> {
    const sentAt = this.o.now();
    const g = await this.etcd.leaseGrant(this.o.ttlSeconds, { timeoutMs: this.o.callTimeoutMs });
    if (this.stopped) {
      // Stopped while the grant was on its way: nobody will keep this lease; give it back.
      this.etcd.leaseRevoke(g.id, { timeoutMs: this.o.callTimeoutMs }).catch(() => {});
      throw new Error('lease keeper stopped');
    }
    this.lease = g.id;
    this.confirmed(sentAt);
    this.schedule();
    return g.id;
  }

  private schedule(): void {
    if (this.loop) clearTimeout(this.loop);
    this.loop = this.stopped ? null : setTimeout(() => void this.keepAlive(), this.o.intervalMs);
  }

  private async keepAlive(): Promise<void> {
    this.loop = null;
    const lease = this.lease;
    if (this.stopped || lease === null) return;
    const sentAt = this.o.now();
    try {
      const ttl = await this.etcd.leaseKeepAliveOnce(lease, { timeoutMs: this.o.callTimeoutMs });
      if (this.stopped || this.lease !== lease) return;
      if (ttl <= 0) return this.drop('gone');
      // Once the deadline has passed the lease stays dropped even if this answer says it lived on:
      // `alive()` never turns true again for the same lease, so an owner that saw it false (and
      // stopped acking) need not wonder. The fence timer may simply not have fired yet.
      if (this.o.now() >= this.validUntil()) return this.drop('unconfirmed');
      this.confirmed(sentAt);
    } catch (e) {
      if (this.stopped || this.lease !== lease) return;
      this.o.onError(e as Error);
    }
    this.schedule();
  }

  private confirmed(sentAt: number): void {
    this.confirmedAt = Math.max(this.confirmedAt, sentAt);
    if (this.fence) clearTimeout(this.fence);
    this.fence = setTimeout(() => this.checkFence(), Math.max(0, this.validUntil() - this.o.now()));
  }

  private checkFence(): void {
    this.fence = null;
    if (this.stopped || this.lease === null) return;
    if (this.alive()) {
      this.fence = setTimeout(() => this.checkFence(), Math.max(0, this.validUntil() - this.o.now()));
      return;
    }
    this.drop('unconfirmed');
  }

  private drop(why: 'unconfirmed' | 'gone'): void {
    const lease = this.lease!;
    this.lease = null;
    this.confirmedAt = -Infinity;
    if (this.fence) clearTimeout(this.fence);
    if (this.loop) clearTimeout(this.loop);
    this.fence = this.loop = null;
    // An unconfirmed lease may still live on etcd: revoke it when etcd answers, so that nothing keeps
    // the master key it may carry (best effort: it expires anyway).
    if (why === 'unconfirmed') this.etcd.leaseRevoke(lease, { timeoutMs: this.o.callTimeoutMs }).catch(() => {});
    this.o.onExpired(why, lease);
  }

  /** Gives the lease up: revoked on etcd (its keys go at once); the next `ensure()` grants another.
   * No `onExpired` for it: the owner chose this. */
  async release(): Promise<void> {
    const lease = this.lease;
    this.lease = null;
    this.confirmedAt = -Infinity;
    if (this.fence) clearTimeout(this.fence);
    if (this.loop) clearTimeout(this.loop);
    this.fence = this.loop = null;
    if (lease !== null) await this.etcd.leaseRevoke(lease, { timeoutMs: this.o.callTimeoutMs });
  }

  /** Stops the keepalives, leaving the lease to expire on etcd (what a killed process does). */
  stop(): void {
    this.stopped = true;
    this.lease = null;
    if (this.fence) clearTimeout(this.fence);
    if (this.loop) clearTimeout(this.loop);
    this.fence = this.loop = null;
  }
}
