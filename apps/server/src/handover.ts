import type { HaServer, SyncReplication } from '@apogee/ha';
import { formatError } from '@apogee/message';
import type { MessageStore } from '@apogee/store';

/** What the hand-over needs of the group controller. */
export interface HandoverController {
  readonly brokerId: number;
  canAck(): boolean;
  /** The broker the group's `preferred` key names (--preferred-master), or null. */
  preferredBrokerId(): number | null;
  /** Deletes this master's key and holds off campaigning, so the caught-up preferred broker wins. */
  resign(): Promise<boolean>;
}

export interface HandoverOptions {
  controller: HandoverController;
  ha: Pick<HaServer, 'liveReplicas'>;
  sync: Pick<SyncReplication, 'members'> | null;
  store: Pick<MessageStore, 'commitLogEnd' | 'commitLogConfirmed' | 'setReadOnly'>;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** How often a master that is not preferred looks for the preferred one (default 1 s). */
  checkMs?: number;
  /** The preferred replica must be this close to take over (default 1 MiB). */
  maxLagBytes?: number;
  /** How long sends stay refused while the preferred replica takes the last bytes (default 3 s). */
  drainMs?: number;
}

/**
 * DLedger's preferred leader for a controlled group (docs/ha-design.md, decision 8): a master that
 * is not the preferred one checks every second whether the preferred broker is connected as its
 * replica, in sync (with --replication sync) and less than `maxLagBytes` behind; then it stops
 * taking sends, waits until that replica holds the whole log, and resigns — the preferred broker,
 * alone at the longest log (and first on ties), wins the election that follows. When the replica
 * does not catch up within `drainMs` the master takes sends again and tries later.
 */
export class PreferredHandover {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private pausedUntil = 0;
  private closed = false;

  constructor(private readonly o: HandoverOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.check(), this.o.checkMs ?? 1000);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
  }

  private preferredReplica(): { replicaId: number; flushedOffset: number } | null {
    const p = this.o.controller.preferredBrokerId();
    if (p === null || p === this.o.controller.brokerId) return null;
    for (const r of this.o.ha.liveReplicas()) if (r.replicaId === p) return r;
    return null;
  }

  private async check(): Promise<void> {
    const { controller, store, log } = this.o;
    if (this.busy || this.closed || Date.now() < this.pausedUntil || !controller.canAck()) return;
    const r = this.preferredReplica();
    if (!r) return;
    if (this.o.sync && !this.o.sync.members().includes(r.replicaId)) return;
    if (store.commitLogConfirmed - r.flushedOffset > (this.o.maxLagBytes ?? 1024 * 1024)) return;
    this.busy = true;
    const target = r.replicaId;
    try {
      store.setReadOnly(`handing the master role over to the preferred master (broker ${target})`);
      log.info({ to: target, end: store.commitLogEnd }, 'apogee: handing over to the preferred master: sends refused until it has the whole log');
      const deadline = Date.now() + (this.o.drainMs ?? 3000);
      while (Date.now() < deadline && !this.closed) {
        const now = this.preferredReplica();
        if (now === null || now.replicaId !== target) break;
        if (store.commitLogConfirmed === store.commitLogEnd && now.flushedOffset >= store.commitLogEnd) {
          log.info({ to: target, end: store.commitLogEnd }, 'apogee: the preferred master holds the whole log: resigning');
          await controller.resign();
          return;
        }
        await new Promise((res) => setTimeout(res, 20));
      }
      // Not caught up in time (or gone): take sends again, try later.
      if (controller.canAck()) store.setReadOnly(null);
      this.pausedUntil = Date.now() + 10_000;
      log.warn({ to: target }, 'apogee: the preferred master did not catch up in time; this master goes on and tries again later');
    } catch (err) {
      log.warn({ err: formatError(err) }, 'apogee: the hand-over to the preferred master failed');
      if (controller.canAck()) store.setReadOnly(null);
      this.pausedUntil = Date.now() + 10_000;
    } finally {
      this.busy = false;
    }
  }
}
