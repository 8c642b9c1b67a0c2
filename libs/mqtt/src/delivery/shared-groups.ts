import type { Engine, Logger } from '@apogee/broker';
import { lmqOf, parseSharedSubscription, sharedLmqGroup } from '@apogee/topics';
import type { Session } from '../session/session.js';
import type { SubscriptionOptions } from '../session/session-types.js';
import { SharedGroup } from './shared-group.js';

/**
 * The gateway's shared subscription groups (`$share/<share>/<filter>`), by share name and filter:
 * created when the first member joins (its filter registered for dispatch), dropped with the last.
 */
export class SharedGroups {
  private readonly groups = new Map<string, SharedGroup>();

  constructor(
    private readonly engine: Engine,
    /** The engine's topic filter registry (a group's filter is registered while it has members). */
    private readonly filters: Engine['topicFilters'],
    private readonly logger: Logger,
  ) {}

  /** Adds a session to the group of `$share/<share>/<filter>` (creating the group on first use). */
  join(session: Session, full: string, share: string, filter: string, opts: SubscriptionOptions): void {
    const key = `${share}\u0000${filter}`;
    let g = this.groups.get(key);
    if (!g) {
      g = new SharedGroup(share, filter, lmqOf(filter), sharedLmqGroup(share, filter), this.engine, (err) =>
        this.logger.warn({ share, filter, err: (err as Error).message }, 'mqtt: shared subscription error'),
      );
      this.groups.set(key, g);
      this.filters.add(filter);
    }
    session.sharedSubs.set(full, opts);
    session.sharedChanged();
    session.onRoom = () => this.pump(session);
    g.addMember(session, opts);
  }

  /** Takes a session out of the group of `full`; false when it was not subscribed to it. */
  leave(session: Session, full: string): boolean {
    if (!session.sharedSubs.delete(full)) return false;
    session.sharedChanged();
    const parsed = parseSharedSubscription(full);
    if (!parsed) return true;
    const key = `${parsed.group}\u0000${parsed.filter}`;
    const g = this.groups.get(key);
    if (g?.removeMember(session)) {
      this.groups.delete(key);
      this.filters.remove(parsed.filter);
    }
    return true;
  }

  /** Takes a session out of every group it is in (the session ends). */
  leaveAll(session: Session): void {
    for (const full of [...session.sharedSubs.keys()]) this.leave(session, full);
  }

  /** A session came online: its groups may hand it messages, now and whenever it frees room. */
  attach(session: Session): void {
    if (session.sharedSubs.size === 0) return;
    session.onRoom = () => this.pump(session);
    this.pump(session);
  }

  /** Lets the shared groups of a session hand out more (it came online, freed room or left). */
  pump(session: Session): void {
    for (const full of session.sharedSubs.keys()) {
      const parsed = parseSharedSubscription(full);
      if (parsed) this.groups.get(`${parsed.group}\u0000${parsed.filter}`)?.pump();
    }
  }

  /** Stops every group and commits its progress (shutdown); resolves once committed. */
  async flush(): Promise<void> {
    await Promise.all([...this.groups.values()].map((g) => g.flush()));
  }
}
