// The group controller (docs/ha-design.md, decision 6): a protocol over etcd keys that every broker of
// a group runs — there is no controller process. It mirrors the group's keys (GroupView: a range, then
// a watch on the prefix) and after every change decides, synchronously, what this broker is:
//
//   master key present, ours, on our live lease  → master (canAck() while the lease is confirmed)
//   master key present, someone else's           → replica of it
//   master key present, ours on another lease     → replica of nobody: a record of our previous
//                                                   process, left to expire (we cannot renew it)
//   master key absent                             → replica of nobody; campaign if we may
//
// We may campaign when we are in the in-sync set, or when the group has no in-sync key yet (a fresh
// group: any member). A campaign publishes `candidates/<id>` = {endOffset} on our lease, waits an
// election window for the others' candidacies, then waits one rank step per eligible candidate with
// a longer log (ties: the lower brokerId first), and sends one txn:
//
//   compare  master CREATE = 0 (absent), epoch MOD = as seen, in-sync MOD = as seen
//   success  put epoch = e+1; put master = {self, epoch e+1} on our lease;
//            put in-sync = {e+1, [self]} (the new master alone, until replicas catch up); delete our candidate key
//
// So the longest log campaigns first and the others only if it fails to; the CAS makes one winner per
// epoch whatever the timing. A txn's answer is not trusted alone (a retried txn may have applied on
// a member that then timed out): the role always follows from the mirrored keys.
//
// Fencing. The master's lease (TTL 2 s) is kept alive every 500 ms; LeaseKeeper knows until when it
// is certainly alive (1.5 s after the send of the last confirmed keepalive) and canAck() is false past
// that instant, synchronously — before etcd can expire the lease and let another member win. Then the
// controller steps down (onFenced, then replica of nobody) and revokes the lease when etcd answers.
// Every broker holds a lease, replica or not: its keepalives also probe the etcd endpoint, which moves
// the watch off a member that stopped answering.
import { EtcdClient, type LeaseId, type Watch } from '@apogee/etcd';
import { campaignTxn, eligible, rankOf, syntheticKv } from './campaign.js';
import { GroupView } from './group-view.js';
import { type InSyncRecord, type MasterRecord, GroupKeys, encodeCandidate, encodeInSync, encodePreferred } from './keys.js';
import { LeaseKeeper } from './lease-keeper.js';

export interface ControllerTimings {
  /** The lease's TTL (etcd's minimum with default timings is 2 s). */
  readonly leaseTtlSeconds: number;
  readonly keepAliveMs: number;
  /** canAck() turns false this long after the send of the last confirmed keepalive (< the TTL). */
  readonly fenceAfterMs: number;
  /** Deadline of each etcd call attempt. */
  readonly callTimeoutMs: number;
  /** How long a campaign waits for the other candidacies. */
  readonly electionWindowMs: number;
  /** Extra wait per eligible candidate with a longer log. */
  readonly rankStepMs: number;
  /** A master that resigned does not campaign for this long (someone else should win). */
  readonly resignHoldoffMs: number;
}

export const DEFAULT_CONTROLLER_TIMINGS: ControllerTimings = {
  leaseTtlSeconds: 2,
  keepAliveMs: 500,
  fenceAfterMs: 1500,
  callTimeoutMs: 400,
  electionWindowMs: 250,
  rankStepMs: 400,
  resignHoldoffMs: 2000,
};

export interface RoleChange {
  readonly role: 'master' | 'replica';
  /** The group's epoch: the master's (0 before any master). */
  readonly epoch: number;
  /** The master to follow (for a replica), ourselves (for the master); null when there is none to follow. */
  readonly master: MasterRecord | null;
}

export interface FenceInfo {
  readonly epoch: number;
  readonly reason: string;
  /** On the controller's clock (`now`): when canAck() turned false, and the send of the last
   * confirmed keepalive. */
  readonly at: number;
  readonly lastConfirmedAt: number;
}

export interface CampaignInfo {
  /** The epoch the campaign asked for. */
  readonly epoch: number;
  readonly endOffset: number;
  readonly won: boolean;
}

export interface GroupControllerOptions {
  /** A client (the caller closes it) or `etcd://H:P[,H:P]` (the controller owns the client). */
  readonly etcd: EtcdClient | string;
  readonly cluster: string;
  readonly brokerName: string;
  readonly brokerId: number;
  readonly addr: string;
  readonly haAddr: string;
  /** The end of this broker's commit log: the longest log campaigns first. */
  endOffset(): number;
  /** This broker is the group's preferred master (--preferred-master): it wins ties, and a master hands over to it. */
  readonly preferred?: boolean;
  onRole(change: RoleChange): void;
  /** The master stopped acking: its lease was not confirmed in time, went away, or its key did. */
  onFenced?(info: FenceInfo): void;
  onCampaign?(info: CampaignInfo): void;
  /** etcd unreachable, a garbled key, …: the controller carries on. */
  onError?(error: Error): void;
  readonly timings?: Partial<ControllerTimings>;
  /** A monotonic clock in ms (default performance.now). */
  readonly now?: () => number;
}

export interface ControllerStatus {
  readonly phase: 'new' | 'running' | 'stopped';
  readonly role: 'master' | 'replica' | null;
  readonly brokerId: number;
  readonly epoch: number;
  readonly master: MasterRecord | null;
  readonly inSync: InSyncRecord | null;
  readonly lease: { readonly id: LeaseId; readonly validForMs: number; readonly confirmedAgoMs: number } | null;
  readonly canAck: boolean;
  readonly campaigning: boolean;
}

export class GroupController {
  private readonly etcd: EtcdClient;
  private readonly ownsClient: boolean;
  private readonly keys: GroupKeys;
  private readonly view: GroupView;
  private readonly leases: LeaseKeeper;
  private readonly t: ControllerTimings;
  private readonly now: () => number;
  private phase: 'new' | 'running' | 'stopped' = 'new';
  private role: RoleChange | null = null;
  /** The lease our master key is on, while we are master. */
  private masterLease: LeaseId | null = null;
  private watch: Watch | null = null;
  private campaign: { cancelled: boolean } | null = null;
  private candidatePublished = false;
  private holdoffUntil = -Infinity;
  private evaluateQueued = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sleepers = new Set<() => void>();
  private reportedErrors = '';

  constructor(private readonly o: GroupControllerOptions) {
    if (!Number.isSafeInteger(o.brokerId) || o.brokerId < 0) throw new RangeError(`brokerId must be a whole number ≥ 0, not ${o.brokerId}`);
    this.t = { ...DEFAULT_CONTROLLER_TIMINGS, ...o.timings };
    this.now = o.now ?? (() => performance.now());
    this.ownsClient = typeof o.etcd === 'string';
    this.etcd = typeof o.etcd === 'string' ? new EtcdClient({ endpoints: o.etcd, timeoutMs: this.t.callTimeoutMs }) : o.etcd;
    this.keys = new GroupKeys(o.cluster, o.brokerName);
    this.view = new GroupView(this.keys);
    this.leases = new LeaseKeeper(this.etcd, {
      ttlSeconds: this.t.leaseTtlSeconds,
      intervalMs: this.t.keepAliveMs,
      fenceAfterMs: this.t.fenceAfterMs,
      callTimeoutMs: this.t.callTimeoutMs,
      now: this.now,
      onExpired: (why) => this.leaseExpired(why),
      onError: (e) => this.error(e),
    });
  }

  /** Reads the group's keys, starts watching them and decides the first role. Throws when etcd does
   * not answer (the caller retries); later outages are ridden out. */
  async start(): Promise<void> {
    if (this.phase !== 'new') throw new Error(`group controller already ${this.phase}`);
    this.phase = 'running';
    this.keepLease();
    try {
      await this.sync();
      await this.markPreferred();
    } catch (e) {
      this.stop();
      throw e;
    }
  }

  /** The preferred master's broker id, as the group's `preferred` key names it (null: none). */
  preferredBrokerId(): number | null {
    return this.view.preferred?.value?.brokerId ?? null;
  }

  /** Names this broker in the `preferred` key (--preferred-master), or clears a stale one naming it. */
  private async markPreferred(): Promise<void> {
    const named = this.preferredBrokerId();
    if (this.o.preferred === true && named !== this.o.brokerId) {
      await this.etcd.put(this.keys.preferred, encodePreferred({ brokerId: this.o.brokerId }));
    } else if (this.o.preferred !== true && named === this.o.brokerId) {
      await this.etcd.txn({
        compare: [{ key: this.keys.preferred, target: 'VALUE', value: encodePreferred({ brokerId: this.o.brokerId }) }],
        success: [{ delete: { key: this.keys.preferred } }],
      });
    }
  }

  /** Whether this broker may ack a write now: it is the master and its lease is certainly alive. */
  canAck(): boolean {
    return this.phase === 'running' && this.role?.role === 'master' && this.masterLease !== null && this.leases.id === this.masterLease;
  }

  status(): ControllerStatus {
    const lease = this.leases.id;
    const now = this.now();
    return {
      phase: this.phase,
      role: this.role?.role ?? null,
      brokerId: this.o.brokerId,
      epoch: this.view.epoch?.value ?? 0,
      master: this.view.master?.value ?? null,
      inSync: this.view.inSync?.value ?? null,
      lease: lease === null ? null : { id: lease, validForMs: this.leases.validUntil() - now, confirmedAgoMs: now - this.leases.lastConfirmedAt },
      canAck: this.canAck(),
      campaigning: this.campaign !== null,
    };
  }

  /** The master writes the in-sync set (it must include itself) by CAS on the key's mod revision, and
   * only while its master key is on its lease. False when it is not the master or the set changed
   * since this controller saw it (the watch brings the news; decide again and retry). */
  async setInSync(members: readonly number[]): Promise<boolean> {
    if (!members.includes(this.o.brokerId)) throw new RangeError(`the in-sync set must include the master (${this.o.brokerId})`);
    const lease = this.masterLease;
    if (!this.canAck() || lease === null) return false;
    const record: InSyncRecord = { epoch: this.role!.epoch, members: [...new Set(members)].sort((a, b) => a - b) };
    const value = encodeInSync(record);
    const r = await this.etcd.txn({
      compare: [
        { key: this.keys.master, target: 'LEASE', lease },
        { key: this.keys.inSync, target: 'MOD', modRevision: this.view.inSync?.modRevision ?? 0 },
      ],
      success: [{ put: { key: this.keys.inSync, value } }],
    });
    if (r.succeeded) this.view.put(syntheticKv(this.keys.inSync, value, r.header.revision, '0'));
    this.queueEvaluate();
    return r.succeeded;
  }

  /** Hands mastership over: stops acking, deletes the master key (if still ours) and revokes the
   * lease, then holds off campaigning so another in-sync member wins. False when not the master. */
  async resign(): Promise<boolean> {
    const lease = this.masterLease;
    if (this.role?.role !== 'master' || lease === null) return false;
    this.holdoffUntil = this.now() + this.t.resignHoldoffMs;
    this.after(this.t.resignHoldoffMs, () => this.queueEvaluate());
    this.masterLease = null;
    this.setRole({ role: 'replica', epoch: this.role.epoch, master: null });
    // release() drops the lease at once (the keepalives stop, evaluate() can no longer take the key
    // for ours) and revokes it on etcd, which deletes every key on it — the master key too; the
    // explicit delete makes the hand-over not depend on the revoke.
    const released = this.leases.release();
    try {
      await this.etcd.txn({
        compare: [{ key: this.keys.master, target: 'LEASE', lease }],
        success: [{ delete: { key: this.keys.master } }],
      });
    } finally {
      await released.catch((e: unknown) => this.error(e as Error));
      this.candidatePublished = false;
      this.keepLease();
    }
    return true;
  }

  /** Stops like a killed process: no resign, no revoke — the lease runs out on etcd. Releases every
   * timer, the watch and (when owned) the client. */
  stop(): void {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    this.masterLease = null;
    if (this.campaign) this.campaign.cancelled = true;
    this.campaign = null;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const wake of this.sleepers) wake();
    this.sleepers.clear();
    this.watch?.cancel();
    this.watch = null;
    this.leases.stop();
    if (this.ownsClient) this.etcd.close();
  }

  /** A clean shutdown: resigns if master, revokes the lease (our candidate key goes with it), stops. */
  async close(): Promise<void> {
    if (this.phase === 'stopped') return;
    try {
      if (this.role?.role === 'master') await this.resign();
      await this.leases.release();
    } catch (e) {
      this.error(e as Error);
    } finally {
      this.stop();
    }
  }

  // ---- the mirror ----

  /** Range the prefix, reset the view, and watch from the revision after. */
  private async sync(): Promise<void> {
    this.watch?.cancel();
    this.watch = null;
    const r = await this.etcd.range(this.keys.prefix, { prefix: true });
    if (this.phase !== 'running') return;
    this.view.reset(r.kvs, r.header.revision);
    this.watch = this.etcd.watch(
      this.keys.prefix,
      { prefix: true, fromRevision: r.header.revision + 1 },
      {
        onEvent: (e) => {
          if (e.type === 'put') this.view.put(e.kv);
          else this.view.delete(e.kv.key.toString('utf8'), e.kv.modRevision);
          this.queueEvaluate();
        },
        // The history we need is gone: read the state afresh.
        onCompacted: (revision) => {
          this.error(new Error(`group ${this.keys.prefix}: the watch's history was compacted (to revision ${revision}); reading the group afresh`));
          this.resync();
        },
        onError: (e, stopped) => {
          this.error(e);
          if (stopped) this.resync();
        },
      },
    );
    this.evaluate();
  }

  private resync(): void {
    if (this.phase !== 'running') return;
    this.sync().catch((e: unknown) => {
      this.error(e as Error);
      this.after(this.t.electionWindowMs, () => this.resync());
    });
  }

  // ---- the decision ----

  /** Evaluate once after the current batch of watch events (a txn's puts arrive one by one). */
  private queueEvaluate(): void {
    if (this.evaluateQueued) return;
    this.evaluateQueued = true;
    queueMicrotask(() => {
      this.evaluateQueued = false;
      this.evaluate();
    });
  }

  /** The table at the top of the file. Synchronous; starts a campaign when one is due. */
  private evaluate(): void {
    if (this.phase !== 'running') return;
    const errors = this.view.errors().join('; ');
    if (errors !== this.reportedErrors) {
      this.reportedErrors = errors;
      if (errors) this.error(new Error(`group ${this.keys.prefix}: ${errors}`));
    }
    const m = this.view.master;
    const epoch = this.view.epoch?.value ?? 0;
    if (m) {
      this.cancelCampaign();
      this.withdrawCandidacy();
      const rec = m.value;
      const ours = rec !== null && rec.brokerId === this.o.brokerId;
      // Ours on our live lease: lease IDs are unique, so this process wrote it — by the txn of our
      // campaign, also when its answer was lost and a retry on another member reported a failure.
      if (ours && m.lease !== '0' && m.lease === this.leases.id) {
        this.masterLease = m.lease;
        this.setRole({ role: 'master', epoch: rec.epoch, master: rec });
        return;
      }
      this.stepDown('the master key is not on our lease');
      this.setRole({ role: 'replica', epoch: rec?.epoch ?? epoch, master: rec !== null && !ours ? rec : null });
      return;
    }
    this.stepDown('the master key is gone');
    this.setRole({ role: 'replica', epoch, master: null });
    if (this.mayCampaign()) this.startCampaign();
  }

  private mayCampaign(): boolean {
    return this.now() >= this.holdoffUntil && eligible(this.view, this.o.brokerId);
  }

  private setRole(next: RoleChange): void {
    const prev = this.role;
    if (prev && prev.role === next.role && prev.epoch === next.epoch && sameMaster(prev.master, next.master)) return;
    this.role = next;
    this.emit(() => this.o.onRole(next));
  }

  /** Leaves the master role (if held): canAck() is false from here on. */
  private stepDown(reason: string): void {
    if (this.role?.role !== 'master') return;
    this.masterLease = null;
    const info: FenceInfo = { epoch: this.role.epoch, reason, at: this.now(), lastConfirmedAt: this.leases.lastConfirmedAt };
    this.setRole({ role: 'replica', epoch: this.role.epoch, master: null });
    this.emit(() => this.o.onFenced?.(info));
  }

  private leaseExpired(why: 'unconfirmed' | 'gone'): void {
    if (this.phase !== 'running') return;
    const reason = why === 'gone' ? 'etcd says the lease is gone' : `no keepalive confirmed for ${this.t.fenceAfterMs} ms`;
    this.stepDown(reason);
    this.candidatePublished = false; // it went with the lease
    this.keepLease();
    this.queueEvaluate();
  }

  /** Holds a lease at all times (retrying while etcd is away). */
  private keepLease(): void {
    if (this.phase !== 'running') return;
    this.leases.ensure().catch((e: unknown) => {
      this.error(e as Error);
      this.after(this.t.keepAliveMs, () => this.keepLease());
    });
  }

  // ---- the campaign ----

  private startCampaign(): void {
    if (this.campaign) return;
    const c = { cancelled: false };
    this.campaign = c;
    this.runCampaign(c)
      .catch((e: unknown) => this.error(e as Error))
      .finally(() => {
        if (this.campaign === c) this.campaign = null;
        // Not won (or cancelled): look again after a window, whatever the watch says meanwhile.
        if (this.phase === 'running' && this.role?.role !== 'master') this.after(this.t.electionWindowMs, () => this.queueEvaluate());
      });
  }

  private cancelCampaign(): void {
    if (this.campaign) this.campaign.cancelled = true;
    this.campaign = null;
  }

  private async runCampaign(c: { cancelled: boolean }): Promise<void> {
    const lease = await this.leases.ensure();
    if (c.cancelled) return;
    const endOffset = this.o.endOffset();
    await this.etcd.put(this.keys.candidate(this.o.brokerId), encodeCandidate({ endOffset }), { lease });
    this.candidatePublished = true;
    await this.sleep(this.t.electionWindowMs);
    if (c.cancelled) return;
    const rank = rankOf(this.view, this.o.brokerId, endOffset);
    if (rank > 0) await this.sleep(rank * this.t.rankStepMs);
    if (c.cancelled || this.view.master !== null || !this.mayCampaign() || this.leases.id !== lease) return;
    const campaign = campaignTxn(this.keys, this.view, { brokerId: this.o.brokerId, addr: this.o.addr, haAddr: this.o.haAddr }, lease);
    const r = await this.etcd.txn(campaign.txn);
    this.emit(() => this.o.onCampaign?.({ epoch: campaign.master.epoch, endOffset, won: r.succeeded }));
    if (!r.succeeded || c.cancelled) return;
    // Apply our own txn now (the watch repeats it later; the view ignores old news).
    this.candidatePublished = false;
    const { puts, deletes } = campaign.applied(r.header.revision);
    for (const kv of puts) this.view.put(kv);
    for (const key of deletes) this.view.delete(key, r.header.revision);
    this.evaluate();
  }

  /** Our candidate key is of no use once there is a master (it would only skew the next ranking). */
  private withdrawCandidacy(): void {
    if (!this.candidatePublished) return;
    this.candidatePublished = false;
    this.etcd.delete(this.keys.candidate(this.o.brokerId)).catch((e: unknown) => this.error(e as Error));
  }

  // ---- timers ----

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.sleepers.delete(wake);
        resolve();
      };
      this.sleepers.add(wake);
      this.after(ms, wake);
    });
  }

  private after(ms: number, fn: () => void): void {
    if (this.phase === 'stopped') return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  /** Runs one of the owner's callbacks: a throw there is reported, and never breaks the controller. */
  private emit(callback: () => void): void {
    try {
      callback();
    } catch (e) {
      this.error(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private error(e: Error): void {
    if (this.phase !== 'running') return;
    try {
      this.o.onError?.(e);
    } catch {
      // nowhere left to report it
    }
  }
}

function sameMaster(a: MasterRecord | null, b: MasterRecord | null): boolean {
  if (a === null || b === null) return a === b;
  return a.brokerId === b.brokerId && a.epoch === b.epoch && a.addr === b.addr && a.haAddr === b.haAddr;
}
