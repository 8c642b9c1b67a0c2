import type { Engine, Logger } from '@apogee/broker';
import { lmqOf, parseSharedSubscription } from '@apogee/topics';
import type { MqttConfig } from '../config.js';
import type { DecodedRecords } from '../delivery/decoded-records.js';
import type { SharedGroups } from '../delivery/shared-groups.js';
import { ReasonCode } from '../protocol/reason-codes.js';
import { SESSION_NAMESPACE, decodeSessionRecord, isExpired } from './session-record.js';
import { Session, type SessionCounters } from './session.js';
import type { SubscriptionOptions } from './session-types.js';

/**
 * The gateway's sessions by client id: opening one for a CONNECT (takeover of a connected one,
 * clean start), ending it with its connection or after its expiry, and bringing persistent ones
 * back after a restart.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, Session>();
  private readonly expiryTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly engine: Engine,
    /** The engine's topic filter registry, which the sessions' subscriptions register in. */
    private readonly filters: Engine['topicFilters'],
    private readonly shared: SharedGroups,
    private readonly records: DecodedRecords,
    private readonly config: MqttConfig,
    private readonly counters: SessionCounters,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.sessions.size;
  }

  /** The session of a client id, live or waiting offline. */
  get(clientId: string): Session | undefined {
    return this.sessions.get(clientId);
  }

  /** Every session (admin listings). */
  list(): IterableIterator<Session> {
    return this.sessions.values();
  }

  /** Subscriptions of every session (shared ones not counted). */
  subscriptions(): number {
    let n = 0;
    for (const s of this.sessions.values()) n += s.subs.size;
    return n;
  }

  /**
   * Whether `username` (undefined: anonymous) may connect as `clientId`: a session, live or stored,
   * belongs to the user who created it, so another user can neither take it over nor empty it.
   */
  mayConnect(clientId: string, username: string | undefined): boolean {
    const owner = this.sessions.get(clientId)?.owner;
    return owner === undefined || owner === (username ?? null);
  }

  /**
   * The session for a CONNECT of `clientId`; `present` when an existing one is resumed. A second
   * connection with the same id takes the session over [MQTT-3.1.4-3]; a clean start drops it.
   */
  open(clientId: string, clean: boolean): { session: Session; present: boolean } {
    const existing = this.sessions.get(clientId);
    const old = existing?.connection;
    if (old) {
      // Detach first, so the old connection's close does not end (or expire) the session being taken over.
      existing!.detach();
      if (old.protocolVersion === 5) old.send({ cmd: 'disconnect', reasonCode: ReasonCode.SESSION_TAKEN_OVER });
      old.close('session taken over by a new connection');
    }
    let session = existing;
    // A session that was not persistent ended with the connection just taken over [MQTT-3.1.2-6].
    if (session && old && !session.persistent) {
      this.drop(session);
      session = undefined;
    }
    if (session && clean) {
      this.drop(session);
      session = undefined;
    }
    const present = session !== undefined;
    if (!session) {
      session = this.newSession(clientId);
      this.sessions.set(clientId, session);
    }
    this.cancelExpiry(clientId);
    return { session, present };
  }

  /** The session's connection is gone: a clean session ends, a persistent one waits out its expiry. */
  lost(session: Session): void {
    session.detach();
    // Its unacknowledged shared messages went back to their groups: hand them to other members.
    this.shared.pump(session);
    if (!session.persistent) {
      this.drop(session);
      return;
    }
    void session.flush();
    this.scheduleExpiry(session);
  }

  /** Ends a session: its subscriptions go, its durable state is removed. */
  drop(session: Session): void {
    this.shared.leaveAll(session);
    this.cancelExpiry(session.clientId);
    for (const f of [...session.subs.keys()]) {
      session.unsubscribe(f);
      this.filters.remove(f);
    }
    session.detach();
    void session
      .forget()
      .catch((err: unknown) => this.logger.warn({ clientId: session.clientId, err: (err as Error).message }, 'mqtt: could not remove session state'));
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
  }

  /** Stops the expiry timers (shutdown). */
  close(): void {
    for (const t of this.expiryTimers.values()) clearTimeout(t);
    this.expiryTimers.clear();
  }

  /** Writes every session's pending durable state. */
  async flush(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.flush()));
  }

  /**
   * Brings persistent sessions back after a restart: their subscriptions register for dispatch at
   * once (offline messages keep landing in their LMQs) and resume from their committed offsets.
   */
  async restore(): Promise<number> {
    const now = Date.now();
    let restored = 0;
    const expired: string[] = [];
    for (const { key, value } of this.engine.metadata.scan(SESSION_NAMESPACE)) {
      const rec = decodeSessionRecord(value);
      if (!rec || isExpired(rec, now)) {
        expired.push(key);
        continue;
      }
      const s = this.newSession(key);
      s.makePersistent(rec.expirySeconds);
      // A session that was connected when the process stopped counts as disconnected now.
      s.disconnectedAt = rec.disconnectedAt || now;
      for (const sub of rec.subs) {
        const opts: SubscriptionOptions = { qos: sub.qos };
        if (sub.nl) opts.noLocal = true;
        if (sub.rap) opts.retainAsPublished = true;
        if (sub.sid) opts.subscriptionId = sub.sid;
        const shared = parseSharedSubscription(sub.filter);
        if (shared) {
          this.shared.join(s, sub.filter, shared.group, shared.filter, opts);
          continue;
        }
        s.restore(sub.filter, lmqOf(sub.filter), opts);
        this.filters.add(sub.filter);
      }
      if (rec.owner !== undefined) s.owner = rec.owner;
      s.inbound.restore(rec.pendingRel);
      for (const id of rec.pendingComp ?? []) s.pendingComp.add(id);
      this.sessions.set(key, s);
      this.scheduleExpiry(s);
      restored++;
    }
    for (const clientId of expired) await this.newSession(clientId).forgetStored();
    if (restored + expired.length > 0) this.logger.info({ restored, expired: expired.length }, 'mqtt: persistent sessions restored');
    return restored;
  }

  private newSession(clientId: string): Session {
    return new Session(
      clientId,
      this.engine,
      this.records,
      this.config,
      (err) => this.logger.warn({ clientId, err: (err as Error).message }, 'mqtt: session error'),
      this.counters,
    );
  }

  /** A disconnected persistent session ends after its expiry (never for -1). */
  private scheduleExpiry(session: Session): void {
    this.cancelExpiry(session.clientId);
    if (session.expirySeconds < 0) return;
    const left = session.disconnectedAt + session.expirySeconds * 1000 - Date.now();
    // setTimeout holds at most ~24.8 days; longer expiries re-arm.
    const t = setTimeout(
      () => {
        this.expiryTimers.delete(session.clientId);
        if (session.connection) return;
        if (session.disconnectedAt + session.expirySeconds * 1000 > Date.now()) this.scheduleExpiry(session);
        else this.drop(session);
      },
      Math.max(0, Math.min(left, 2 ** 31 - 1)),
    );
    t.unref();
    this.expiryTimers.set(session.clientId, t);
  }

  private cancelExpiry(clientId: string): void {
    const t = this.expiryTimers.get(clientId);
    if (t) clearTimeout(t);
    this.expiryTimers.delete(clientId);
  }
}
