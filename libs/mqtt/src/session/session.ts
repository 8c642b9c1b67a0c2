import type { AppendedMessage, Engine } from '@apogee/broker';
import { uncompressBody } from '@apogee/message';
import type { IPublishPacket, QoS } from 'mqtt-packet';
import type { MqttConfig } from '../config.js';
import type { DecodedRecord, DecodedRecords } from '../delivery/decoded-records.js';
import type { MqttConnection } from '../protocol/mqtt-connection.js';
import { ReasonCode } from '../protocol/reason-codes.js';
import { InboundQos2 } from './inbound-qos2.js';
import { SessionPersistence } from './session-persistence.js';
import type { SessionRecord } from './session-record.js';
import type { Inflight, SubscriptionOptions, SubscriptionState } from './session-types.js';
import { Subscription, type SubscriptionOwner } from './subscription.js';
import { getV5Properties, isExpiredMessage } from '../publish/v5-properties.js';
import { FilterTrie, TopicProperty } from '@apogee/topics';

/** Gateway-wide counters a session adds to. */
export interface SessionCounters {
  messagesOut: number;
  /** Of those, taken by caught-up subscriptions straight from a send, without a store read. */
  messagesOutFromMemory: number;
  droppedOffline: number;
  /** QoS 0 deliveries dropped because the connection's outbound buffer was full (slow consumer). */
  droppedSlow: number;
}

/**
 * A client's session: its subscriptions (each an LMQ read from the session's own offset), the
 * QoS 1 deliveries awaiting PUBACK, and the inbound QoS 2 packet ids awaiting PUBREL. It outlives
 * the connection when the client asked for a persistent session.
 */
/** Options of one delivery: a subscription's, or several overlapping ones merged. */
interface DeliveryOptions extends SubscriptionOptions {
  subscriptionIds?: number[];
}

const hasWildcard = (filter: string): boolean => filter.includes('+') || filter.includes('#');

/** The in-flight record passed for a QoS 0 delivery (never stored). */
const UNTRACKED: Inflight = { sub: null, lmqOffset: -1 };

/** How many recently delivered commit-log offsets a session remembers to send overlapping matches once. */
const RECENT_DELIVERIES = 20_000;

export class Session implements SubscriptionOwner {
  readonly subs = new Map<string, Subscription>();
  /** Shared subscriptions (`$share/<name>/<filter>` → options); the gateway's groups deliver them. */
  readonly sharedSubs = new Map<string, SubscriptionOptions>();
  /**
   * The session's filters, to find every subscription a topic matches (overlaps go out once);
   * only while some filter has a wildcard (without one no two filters overlap).
   */
  private trie: FilterTrie | null = null;
  /** Subscriptions whose filter has a wildcard (only those can overlap another). */
  private wildcardSubs = 0;
  /** Commit-log offsets recently delivered through one of several overlapping subscriptions. */
  private recent: Map<number, true> | null = null;
  private readonly inflight = new Map<number, Inflight>();
  /**
   * Inbound QoS 2: packet ids stored (or being stored) and not yet released, with the UNIQ_KEY the
   * message is stored under, and the exactly-once store; persisted with the session record.
   */
  readonly inbound = new InboundQos2(
    () => this.persistence?.recordChanged(),
    () => this.flush(),
  );
  /** Outbound QoS 2 packet ids whose PUBREC came (delivered, PUBREL sent) awaiting PUBCOMP; re-sent as PUBREL on resume. */
  readonly pendingComp = new Set<number>();
  private nextPacketId = 1;
  private conn: MqttConnection | null = null;
  /** Subscriptions stopped for lack of in-flight room, in the order they stopped (made on the first). */
  private starved: Set<SubscriptionState> | null = null;
  private draining = false;
  /** Durable state while the session is persistent; null for clean sessions. */
  private persistence: SessionPersistence | null = null;
  /** Seconds the session outlives its connection (-1 = forever); meaningful when persistent. */
  expirySeconds = 0;
  disconnectedAt = 0;
  /** Who may connect to this session (SessionRecord.owner); undefined until a user claims it. */
  owner: string | null | undefined = undefined;

  constructor(
    readonly clientId: string,
    private readonly engine: Engine,
    private readonly records: DecodedRecords,
    private readonly cfg: MqttConfig,
    private readonly onError: (err: unknown) => void,
    /** Gateway-wide counters this session adds to. */
    private readonly counters: SessionCounters = { messagesOut: 0, messagesOutFromMemory: 0, droppedOffline: 0, droppedSlow: 0 },
  ) {}

  get connection(): MqttConnection | null {
    return this.conn;
  }

  /** Survives disconnects (3.1.1 clean=false, 5.0 session expiry > 0). */
  get persistent(): boolean {
    return this.persistence !== null;
  }

  /** Makes the session durable (record + committed offsets) for `expirySeconds` (-1 = forever). */
  makePersistent(expirySeconds: number): void {
    this.expirySeconds = expirySeconds;
    if (!this.persistence) {
      this.persistence = new SessionPersistence(
        this.clientId,
        this.engine,
        () => this.snapshot(),
        () => this.progress(),
        this.onError,
      );
      this.persistence.offsetsChanged();
    }
    this.persistence.recordChanged();
  }

  /** Restores a subscription of a persistent session after a restart, from its committed offset. */
  restore(filter: string, lmq: string, opts: SubscriptionOptions): void {
    const committed = this.persistence?.committedOffset(lmq);
    this.subs.set(filter, new Subscription(this, filter, lmq, opts, committed ?? this.engine.maxOffset(lmq, 0)));
    this.indexFilter(filter);
  }

  /** Adds a new subscription's filter to the overlap index, building it with the first wildcard. */
  private indexFilter(filter: string): void {
    if (hasWildcard(filter)) this.wildcardSubs++;
    if (this.trie !== null) this.trie.add(filter);
    else if (this.wildcardSubs > 0) {
      this.trie = new FilterTrie();
      for (const f of this.subs.keys()) this.trie.add(f);
    }
  }

  /** Drops a removed subscription's filter from the overlap index, and the index with the last wildcard. */
  private unindexFilter(filter: string): void {
    if (hasWildcard(filter)) this.wildcardSubs--;
    if (this.wildcardSubs === 0) this.trie = null;
    else this.trie?.remove(filter);
  }

  /** Writes pending durable state now. */
  flush(): Promise<void> {
    return this.persistence?.flush() ?? Promise.resolve();
  }

  /** Forgets the durable state (clean start or expiry). */
  async forget(): Promise<void> {
    const p = this.persistence;
    this.persistence = null;
    await p?.remove();
  }

  /** Removes a session's durable state without having loaded it (expired at startup). */
  async forgetStored(): Promise<void> {
    this.persistence = new SessionPersistence(
      this.clientId,
      this.engine,
      () => this.snapshot(),
      () => this.progress(),
      this.onError,
    );
    await this.forget();
  }

  /** Records that the shared subscriptions changed. */
  sharedChanged(): void {
    this.persistence?.recordChanged();
  }

  snapshot(): SessionRecord {
    return {
      v: 1,
      expirySeconds: this.expirySeconds,
      disconnectedAt: this.disconnectedAt,
      subs: [...this.subs.values(), ...[...this.sharedSubs].map(([filter, o]) => ({ ...o, filter }))].map((s) => ({
        filter: s.filter,
        qos: s.qos,
        ...(s.noLocal ? { nl: true } : {}),
        ...(s.retainAsPublished ? { rap: true } : {}),
        ...(s.subscriptionId ? { sid: s.subscriptionId } : {}),
      })),
      pendingRel: this.inbound.record(),
      pendingComp: [...this.pendingComp],
      ...(this.owner !== undefined ? { owner: this.owner } : {}),
    };
  }

  /** Per subscription, the first offset not yet acknowledged (what a resume starts from). */
  private *progress(): Generator<{ sub: SubscriptionState; offset: number }> {
    const low = new Map<SubscriptionState, number>();
    for (const f of this.inflight.values()) {
      if (!f.sub) continue;
      const cur = low.get(f.sub);
      if (cur === undefined || f.lmqOffset < cur) low.set(f.sub, f.lmqOffset);
    }
    for (const sub of this.subs.values()) yield { sub, offset: low.get(sub) ?? sub.readOffset };
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  /** Binds a connection and starts (or resumes) delivery. */
  attach(conn: MqttConnection): void {
    this.conn = conn;
    // QoS 2 exchanges that got as far as PUBREL continue with PUBREL [MQTT-4.4.0-1].
    for (const id of this.pendingComp) conn.send({ cmd: 'pubrel', messageId: id });
    if (this.disconnectedAt !== 0) {
      this.disconnectedAt = 0;
      this.persistence?.recordChanged();
    }
    for (const sub of this.subs.values()) this.startReading(sub);
  }

  /** The connection is gone: stop delivery; unacknowledged messages are read again on resume. */
  detach(): void {
    this.conn = null;
    this.disconnectedAt = Date.now();
    for (const sub of this.subs.values()) this.stopReading(sub);
    const lost: Array<() => void> = [];
    for (const f of this.inflight.values()) {
      if (f.sub && f.lmqOffset < f.sub.readOffset) f.sub.readOffset = f.lmqOffset;
      if (f.lost) lost.push(f.lost);
    }
    this.inflight.clear();
    for (const fn of lost) fn();
    // Unacknowledged messages are read again on resume: they must not count as already sent.
    this.recent = null;
    this.persistence?.recordChanged();
    this.persistence?.offsetsChanged();
  }

  /** Subscriptions held, shared ones included (MqttConfig.maxSubscriptionsPerSession bounds it). */
  get subscriptionCount(): number {
    return this.subs.size + this.sharedSubs.size;
  }

  /** Whether `filter` (as written, `$share/…` included) is already a subscription of this session. */
  hasSubscription(filter: string): boolean {
    return this.subs.has(filter) || this.sharedSubs.has(filter);
  }

  /** Adds or replaces a subscription; returns true when the filter is new to this session. */
  subscribe(filter: string, lmq: string, opts: SubscriptionOptions): boolean {
    const existing = this.subs.get(filter);
    if (existing) {
      // Same filter again: new options replace the old [MQTT-3.8.4-3].
      existing.setOptions(opts);
      this.persistence?.recordChanged();
      return false;
    }
    // A new subscription sees messages published from now on.
    const sub = new Subscription(this, filter, lmq, opts, this.engine.maxOffset(lmq, 0));
    this.subs.set(filter, sub);
    this.indexFilter(filter);
    this.persistence?.recordChanged();
    this.persistence?.offsetsChanged();
    if (this.conn) this.startReading(sub);
    return true;
  }

  /** Removes a subscription; returns whether it existed. */
  unsubscribe(filter: string): boolean {
    const sub = this.subs.get(filter);
    if (!sub) return false;
    this.subs.delete(filter);
    this.unindexFilter(filter);
    this.stopReading(sub);
    for (const [id, f] of this.inflight) if (f.sub === sub) this.inflight.delete(id);
    this.persistence?.recordChanged();
    return true;
  }

  /** PUBACK (QoS 1) from the client: frees an in-flight slot. */
  acknowledge(packetId: number): void {
    const f = this.inflight.get(packetId);
    if (!f) return;
    this.inflight.delete(packetId);
    f.done?.();
    this.persistence?.offsetsChanged();
    this.refill();
  }

  /**
   * PUBREC (QoS 2) from the client: it has the message, so progress moves on; the packet id is
   * kept (durably) until PUBCOMP, and the PUBREL goes out once that is recorded.
   */
  received(packetId: number): void {
    const conn = this.conn;
    const f = this.inflight.get(packetId);
    f?.done?.();
    if (!this.inflight.delete(packetId) && !this.pendingComp.has(packetId)) {
      conn?.send({ cmd: 'pubrel', messageId: packetId, ...(conn.protocolVersion === 5 ? { reasonCode: ReasonCode.PACKET_IDENTIFIER_NOT_FOUND } : {}) });
      return;
    }
    this.pendingComp.add(packetId);
    this.persistence?.offsetsChanged();
    this.persistence?.recordChanged();
    void this.flush().then(() => conn?.send({ cmd: 'pubrel', messageId: packetId }));
  }

  /** PUBCOMP (QoS 2) from the client: the exchange is over. */
  completed(packetId: number): void {
    if (!this.pendingComp.delete(packetId)) return;
    this.persistence?.recordChanged();
    this.refill();
  }

  /**
   * Room again: subscriptions that stopped for lack of in-flight room resume, oldest first, as
   * many as there is room for — not every subscription per acknowledgement. A resumed one that
   * finds nothing to send gives its turn on (see pump), so none waits for an ack that never comes.
   */
  private refill(): void {
    let room = this.room();
    const starved = this.starved;
    for (const sub of starved ?? []) {
      if (room <= 0) break;
      starved!.delete(sub);
      if (this.subs.get(sub.filter) !== sub) continue;
      this.pump(sub);
      room--;
    }
    this.onRoom?.();
  }

  private get starving(): boolean {
    return this.starved !== null && this.starved.size > 0;
  }

  /** Free QoS 1/2 in-flight slots (ours and the client's Receive Maximum). */
  private room(): number {
    const conn = this.conn;
    if (!conn) return 0;
    return Math.min(this.cfg.maxInflight, conn.clientReceiveMaximum) - this.inflight.size - this.pendingComp.size;
  }

  /** Authorization of each delivery by topic (set per connection); null = everything. */
  canRead: ((topic: string) => boolean) | null = null;

  /** Called when in-flight room frees up (shared subscriptions wait for it). */
  onRoom: (() => void) | null = null;

  private startReading(sub: Subscription): void {
    if (sub.watching) return;
    sub.watching = true;
    this.engine.live.watch(sub.lmq, 0, sub);
    this.pump(sub);
  }

  private stopReading(sub: Subscription): void {
    if (!sub.watching) return;
    sub.watching = false;
    this.engine.live.unwatch(sub.lmq, 0, sub);
  }

  /** Arrivals in a subscription's LMQ (its reader in the live feed). */
  subscriptionWoken(sub: Subscription, max: number): void {
    // Arrivals the subscription already has (delivered from memory) need no read at all.
    if (max > sub.readOffset || sub.reading || this.starving) this.pump(sub);
  }

  /** A just-appended message offered to a subscription's reader (see deliverLive). */
  subscriptionOffered(sub: Subscription, m: AppendedMessage): boolean {
    return this.deliverLive(sub, m);
  }

  /**
   * A message just appended to the subscription's LMQ, from memory: delivered now when the
   * subscription is caught up exactly to it (no read in progress, nothing before it unread) and
   * has room; otherwise the LMQ read delivers it once it is written. Returns whether it went out.
   */
  private deliverLive(sub: SubscriptionState, m: AppendedMessage): boolean {
    const conn = this.conn;
    if (!conn || conn.isClosed || sub.reading || sub.readOffset !== m.offset || this.subs.get(sub.filter) !== sub) return false;
    if (conn.outboundFull) return false;
    if (sub.qos > 0 && this.room() <= 0) return false;
    sub.readOffset = m.offset + 1;
    this.counters.messagesOutFromMemory++;
    // The message as sent is a decoded record, unless its sender compressed the body.
    this.deliverDecoded(
      conn,
      sub,
      m.sysFlag === 0 ? m : { topic: m.topic, properties: m.properties, body: uncompressBody(m.body, m.sysFlag) },
      m.offset,
      m.commitLogOffset,
    );
    this.persistence?.offsetsChanged();
    return true;
  }

  /** Reads the subscription's LMQ from its offset and delivers, within the in-flight window. */
  pump(sub: SubscriptionState): void {
    if (!this.conn || this.conn.isClosed) return;
    if (sub.reading) {
      sub.again = true;
      return;
    }
    // Nothing unread (the usual case after a delivery from memory): no read is started at all.
    if (!this.starving && this.engine.maxOffset(sub.lmq, 0) <= sub.readOffset) return;
    sub.reading = true;
    sub.again = false;
    this.read(sub).then(
      () => {
        sub.reading = false;
        if (sub.again) this.pump(sub);
        else if (this.starving && this.room() > 0) this.refill();
      },
      (err: unknown) => {
        sub.reading = false;
        this.onError(err);
      },
    );
  }

  private async read(sub: SubscriptionState): Promise<void> {
    for (;;) {
      const conn = this.conn;
      if (!conn || conn.isClosed || !this.subs.has(sub.filter) || this.subs.get(sub.filter) !== sub) return;
      if (conn.outboundFull) {
        // Slow consumer: QoS 0 arrivals are dropped (counted), QoS 1/2 wait in the LMQ.
        if (sub.qos === 0) this.dropUnread(sub);
        this.waitDrain(conn);
        return;
      }
      // QoS 1/2 deliveries in flight stay within ours and the client's Receive Maximum [MQTT-3.3.4-9].
      const window = Math.min(this.cfg.maxInflight, conn.clientReceiveMaximum);
      const room = sub.qos > 0 ? window - this.inflight.size - this.pendingComp.size : this.cfg.readBatch;
      if (room <= 0) {
        (this.starved ??= new Set()).add(sub); // an acknowledgement pumps it again
        return;
      }
      // Nothing new: no store read (a cheap synchronous check; arrivals pump again).
      const end = this.engine.maxOffset(sub.lmq, 0);
      if (end <= sub.readOffset) return;
      // A backlog beyond maxQueuedPerSubscription loses its oldest messages (documented limit).
      const max = this.cfg.maxQueuedPerSubscription;
      if (max > 0) {
        if (end - sub.readOffset > max) {
          this.counters.droppedOffline += end - max - sub.readOffset;
          sub.readOffset = end - max;
          this.persistence?.offsetsChanged();
        }
      }
      const r = await this.engine.read(sub.lmq, 0, sub.readOffset, Math.min(room, this.cfg.readBatch));
      if (r.status !== 'FOUND') {
        // Expired or skipped entries: continue where the store says; otherwise nothing new.
        if (r.status !== 'OFFSET_OVERFLOW_ONE' && r.status !== 'NO_MESSAGE_IN_QUEUE' && r.nextOffset !== sub.readOffset) {
          sub.readOffset = r.nextOffset;
          continue;
        }
        return;
      }
      for (const m of r.messages) {
        if (this.conn !== conn || conn.isClosed) return;
        // The buffer filled up within the batch: the rest waits (QoS 1/2) or is dropped (QoS 0) above.
        if (conn.outboundFull) break;
        this.deliver(conn, sub, m.record, m.queueOffset, m.commitLogOffset);
        sub.readOffset = m.queueOffset + 1;
      }
      this.persistence?.offsetsChanged();
    }
  }

  /** A QoS 0 subscription's unread messages skipped for a full outbound buffer (counted). */
  private dropUnread(sub: SubscriptionState): void {
    const end = this.engine.maxOffset(sub.lmq, 0);
    if (end <= sub.readOffset) return;
    this.counters.droppedSlow += end - sub.readOffset;
    sub.readOffset = end;
    this.persistence?.offsetsChanged();
  }

  /** Sends a retained message matching a new subscription (retain flag set; no LMQ progress). */
  deliverRetained(record: Buffer, opts: SubscriptionOptions): void {
    const conn = this.conn;
    if (!conn || conn.isClosed) return;
    if (conn.outboundFull && opts.qos === 0) {
      this.counters.droppedSlow++;
      return;
    }
    const m = this.decode(record, -1, false);
    const packet = m && this.toPublish(conn, m, opts, 'retained');
    if (packet) this.sendPublish(conn, packet, { sub: null, lmqOffset: -1 });
  }

  /** Room for another QoS 1/2 delivery within ours and the client's Receive Maximum. */
  hasRoom(): boolean {
    const conn = this.conn;
    if (!conn || conn.isClosed || conn.outboundFull) return false;
    return this.inflight.size + this.pendingComp.size < Math.min(this.cfg.maxInflight, conn.clientReceiveMaximum);
  }

  /**
   * Sends a message of a shared subscription. 'skipped' = not for this client (expired, own under
   * No Local) and counts as done; 'full' = no room now.
   */
  deliverShared(m: DecodedRecord, opts: SubscriptionOptions, done: () => void, lost: () => void): 'sent' | 'skipped' | 'full' {
    const conn = this.conn;
    if (!conn || conn.isClosed || (opts.qos > 0 && !this.hasRoom())) return 'full';
    if (opts.qos === 0 && conn.outboundFull) {
      // Slow consumer: the group's QoS 0 message is dropped for this member (counted), as if sent.
      this.counters.droppedSlow++;
      done();
      return 'sent';
    }
    const packet = this.toPublish(conn, m, opts, 'live');
    if (!packet || !this.sendPublish(conn, packet, { sub: null, lmqOffset: -1, done, lost })) return 'skipped';
    if (packet.qos === 0) done();
    return 'sent';
  }

  /**
   * Sends a PUBLISH, tracking QoS 1/2 ones in flight. A packet too big for the client's Maximum
   * Packet Size is discarded as if delivered [MQTT-3.1.2-25]; returns whether it went out.
   */
  private sendPublish(conn: MqttConnection, packet: IPublishPacket, inflight: Inflight): boolean {
    if (packet.qos > 0) {
      packet.messageId = this.allocatePacketId();
      this.inflight.set(packet.messageId, inflight);
    }
    if (!conn.send(packet)) {
      if (packet.messageId) this.inflight.delete(packet.messageId);
      return false;
    }
    this.counters.messagesOut++;
    return true;
  }

  /**
   * The PUBLISH for a stored message, or null when it must not be sent: expired (v5 Message
   * Expiry), the subscriber's own message under No Local, or undecodable.
   */
  private toPublish(
    conn: MqttConnection,
    m: DecodedRecord,
    options: DeliveryOptions | null,
    kind: 'live' | 'retained',
    /** For LMQ deliveries: the subscription read, whose options (merged with overlapping ones) apply. */
    sub: SubscriptionState | null = null,
    commitLogOffset = -1,
  ): IPublishPacket | null {
    try {
      const props = m.properties;
      const now = Date.now();
      if (isExpiredMessage(props, now)) return null;
      const topic = props.get(TopicProperty.TOPIC) ?? m.topic;
      // ACLs hold on every delivery path: live, retained, offline backlog and shared.
      if (this.canRead && !this.canRead(topic)) return null;
      const own = props.get(TopicProperty.CLIENT_ID) === this.clientId;
      const opts = sub !== null ? this.optionsFor(sub, topic, own, commitLogOffset) : options;
      if (!opts) return null;
      if (opts.noLocal && own) return null;
      const published = Number(props.get(TopicProperty.QOS) ?? '0');
      const qos = Math.min(Number.isInteger(published) ? published : 0, opts.qos) as QoS;
      // Retained deliveries carry retain = 1; live ones 0 unless Retain As Published [MQTT-3.3.1-12].
      const retain = kind === 'retained' || (opts.retainAsPublished === true && props.get(TopicProperty.RETAIN) === 'true');
      const packet: IPublishPacket = { cmd: 'publish', topic, payload: m.body, qos, dup: false, retain };
      if (conn.protocolVersion === 5) {
        const p = getV5Properties(props, now);
        if (opts.subscriptionIds && opts.subscriptionIds.length > 0)
          p.subscriptionIdentifier = opts.subscriptionIds.length === 1 ? opts.subscriptionIds[0]! : opts.subscriptionIds;
        else if (opts.subscriptionId) p.subscriptionIdentifier = opts.subscriptionId;
        if (Object.keys(p).length > 0) packet.properties = p;
      }
      return packet;
    } catch (err) {
      this.onError(err);
      return null;
    }
  }

  /**
   * Delivers one LMQ entry. When several of the session's subscriptions match the topic, the
   * message goes out once, at the highest of their QoS, with all their subscription identifiers
   * [MQTT-3.3.4-2/-4]; the other subscriptions' readers skip it when they reach it.
   */
  private deliver(conn: MqttConnection, sub: SubscriptionState, record: Buffer, lmqOffset: number, commitLogOffset: number): void {
    if (this.recent?.has(commitLogOffset) === true) return;
    // Other online readers of this LMQ get the same record: decode it once for all of them.
    const m = this.decode(record, commitLogOffset, this.engine.live.readers(sub.lmq, 0) > 1);
    if (m) this.deliverDecoded(conn, sub, m, lmqOffset, commitLogOffset);
  }

  private deliverDecoded(conn: MqttConnection, sub: SubscriptionState, m: DecodedRecord, lmqOffset: number, commitLogOffset: number): void {
    if (this.recent?.has(commitLogOffset) === true) return;
    const packet = this.toPublish(conn, m, null, 'live', sub, commitLogOffset);
    // QoS 0 deliveries are not tracked: no in-flight record for them.
    if (packet && this.sendPublish(conn, packet, packet.qos > 0 ? { sub, lmqOffset } : UNTRACKED) && this.engine.tracer.deliveries)
      this.engine.tracer.delivered({
        protocol: 'mqtt',
        group: sub.lmq,
        client: this.clientId,
        remoteAddress: conn.opts.remote,
        topic: sub.lmq,
        queueId: 0,
        queueOffset: lmqOffset,
        commitLogOffset,
        properties: m.properties,
        reconsumeTimes: 0,
      });
  }

  /** The record decoded (through the shared cache), or null when it cannot be (reported). */
  private decode(record: Buffer, commitLogOffset: number, shared: boolean): DecodedRecord | null {
    try {
      return this.records.get(commitLogOffset, record, shared);
    } catch (err) {
      this.onError(err);
      return null;
    }
  }

  private optionsFor(sub: SubscriptionState, topic: string, own: boolean, commitLogOffset: number): DeliveryOptions | null {
    // Without wildcard filters a topic matches one subscription only: its own.
    const filters = this.subs.size > 1 && this.trie !== null ? this.trie.match(topic) : [];
    if (filters.length <= 1) return sub;
    const merged: DeliveryOptions = { qos: 0, subscriptionIds: [] };
    let wanted = false;
    for (const f of filters) {
      const s = this.subs.get(f);
      if (!s) continue;
      if (s.noLocal && own) continue;
      wanted = true;
      if (s.qos > merged.qos) merged.qos = s.qos;
      if (s.retainAsPublished) merged.retainAsPublished = true;
      if (s.subscriptionId) merged.subscriptionIds!.push(s.subscriptionId);
    }
    this.remember(commitLogOffset);
    return wanted ? merged : null;
  }

  private remember(commitLogOffset: number): void {
    const recent = (this.recent ??= new Map());
    recent.set(commitLogOffset, true);
    if (recent.size > RECENT_DELIVERIES) recent.delete(recent.keys().next().value as number);
  }

  private allocatePacketId(): number {
    for (let i = 0; i < 65535; i++) {
      const id = this.nextPacketId;
      this.nextPacketId = id === 65535 ? 1 : id + 1;
      if (!this.inflight.has(id) && !this.pendingComp.has(id)) return id;
    }
    throw new Error('no free packet identifier');
  }

  private waitDrain(conn: MqttConnection): void {
    // Every subscription is pumped again once the socket drains.
    if (this.draining) return;
    this.draining = true;
    conn.stream.once('drain', () => {
      this.draining = false;
      for (const s of this.subs.values()) this.pump(s);
    });
  }
}
