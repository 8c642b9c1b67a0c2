import net from 'node:net';
import type { Appended, Engine, Logger } from '@apogee/broker';
import { Authorizer, BrokerError, ConfirmBatches, OPEN_AUTH, type Principal, listenOn } from '@apogee/broker';
import { type HostAddress, peerHost } from '@apogee/message';
import type { IConnectPacket, IPublishPacket, ISubscribePacket, IUnsubscribePacket, QoS } from 'mqtt-packet';
import { type MqttConfig, resolveMqttConfig } from './config.js';
import { DecodedRecords } from './delivery/decoded-records.js';
import { SharedGroup } from './delivery/shared-group.js';
import { MqttConnection, type Packet } from './protocol/mqtt-connection.js';
import { type PublishInput, Publisher } from './publish/publisher.js';
import { RetainedStore } from './publish/retained-store.js';
import { Session } from './session/session.js';
import type { SubscriptionOptions } from './session/session-types.js';
import { SESSION_NAMESPACE, decodeSessionRecord, isExpired } from './session/session-record.js';
import { InvalidTopicError, lmqOf, parseSharedSubscription, sharedLmqGroup, validateMqttTopicFilter, validateMqttTopicName } from '@apogee/topics';

/** A connection's will, kept until a normal DISCONNECT discards it. */
interface Will {
  clientId: string;
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  delaySeconds: number;
  v5: IPublishPacket['properties'];
}

export interface MqttGatewayOptions {
  /** The engine the endpoint works on (the in-process Broker, or any other Engine). */
  broker: Engine;
  /** Authentication and topic authorization; default: anonymous clients may do anything. */
  auth?: Authorizer;
  config?: Partial<MqttConfig>;
  logger: Logger;
}

/**
 * PUBLISHes of one connection waiting for the store before it stops reading that connection (the
 * broker's own flow control refuses puts at 20,000 in flight across all connections).
 */
const MAX_UNSTORED_PER_CONNECTION = 2000;
/** Appended-but-unwritten bytes in the store past which a QoS 0 publisher's connection waits for the disk. */
const QOS0_HOLD_BYTES = 8 * 1024 * 1024;

/** Figures for the metrics endpoint. */
export interface MqttGatewayStats {
  connections: number;
  sessions: number;
  subscriptions: number;
  /** Topic filters registered in the engine (by every endpoint, and by durable holders). */
  filters: number;
  /** Queues the engine's live feed watches (every endpoint's readers). */
  lmqsWatched: number;
  messagesIn: number;
  messagesOut: number;
  /** Of those, taken by caught-up subscriptions straight from the publish, without a store read. */
  messagesOutFromMemory: number;
  /** Messages skipped because a subscription's backlog exceeded maxQueuedPerSubscription. */
  droppedOffline: number;
}

/**
 * The MQTT endpoint: TCP (and, through `handleStream`, WebSocket) connections speaking MQTT 3.1,
 * 3.1.1 and 5.0 on mqtt-packet, with sessions whose subscriptions read LMQs from the store.
 * See docs/mqtt.md for the design and what is implemented so far.
 */
export class MqttGateway {
  readonly config: MqttConfig;
  private readonly sessions = new Map<string, Session>();
  private readonly auth: Authorizer;
  private readonly principals = new WeakMap<MqttConnection, Principal>();
  /** Shared subscription groups by share name and filter. */
  private readonly sharedGroups = new Map<string, SharedGroup>();
  /** Records decoded once for all the sessions that deliver them (fan-out). */
  private readonly records = new DecodedRecords();
  private readonly publisher: Publisher;
  private readonly retained: RetainedStore;
  private readonly servers: net.Server[] = [];
  private readonly connections = new Set<MqttConnection>();
  private messagesIn = 0;
  private readonly counters = { messagesOut: 0, messagesOutFromMemory: 0, droppedOffline: 0 };
  /** The will of each connection, until a normal DISCONNECT discards it. */
  private readonly wills = new WeakMap<MqttConnection, Will>();
  /** v5 wills waiting out their Will Delay Interval, by client id (a resumed session cancels). */
  private readonly delayedWills = new Map<string, NodeJS.Timeout>();
  private assignedIds = 0;

  constructor(private readonly opts: MqttGatewayOptions) {
    this.confirms = new ConfirmBatches(
      opts.broker,
      (conn, { packet }) => {
        conn.storeSettled(MAX_UNSTORED_PER_CONNECTION);
        this.stored(conn, packet);
      },
      (conn, { session, packet }, err) => {
        conn.storeSettled(MAX_UNSTORED_PER_CONNECTION);
        this.notStored(session, conn, packet, err);
      },
      (err) => opts.logger.error({ err: (err as Error).stack }, 'mqtt: acknowledging a stored publish failed'),
    );
    this.config = resolveMqttConfig(opts.config);
    this.auth = opts.auth ?? new Authorizer(OPEN_AUTH);
    // Messages from other endpoints reach this gateway's subscriptions through the engine: its
    // filter registry dispatches every send carrying a topic into the matching filters' LMQs.
    this.filters = opts.broker.topicFilters;
    this.publisher = new Publisher(opts.broker, this.config);
    this.retained = new RetainedStore(opts.broker);
  }

  /** The engine's registry of topic filters, which this gateway's subscriptions register in. */
  private readonly filters: Engine['topicFilters'];

  private restoring: Promise<number> | null = null;

  /** Listens for MQTT over TCP (persistent sessions are restored first); resolves to the bound "host:port". */
  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    await (this.restoring ??= this.restoreSessions());
    const server = net.createServer((socket) => this.handleStream(socket, `${socket.remoteAddress}:${socket.remotePort}`, hostOf(socket)));
    this.servers.push(server);
    return listenOn(server, port, host);
  }

  /** Serves one MQTT connection over any duplex byte stream (a TCP socket or a WebSocket stream). */
  handleStream(stream: import('node:stream').Duplex, remote: string, peer?: HostAddress): void {
    const conn = new MqttConnection(stream, { maxPacketSize: this.config.maxPacketSize, remote });
    this.connections.add(conn);
    let session: Session | null = null;
    const connectTimer = setTimeout(() => conn.close('no CONNECT in time'), this.config.connectTimeoutSeconds * 1000);
    connectTimer.unref();
    conn.onClose((reason) => {
      clearTimeout(connectTimer);
      this.connections.delete(conn);
      const will = this.wills.get(conn);
      if (will) this.fireWill(will, session);
      if (session && session.connection === conn) this.sessionLost(session);
      this.opts.logger.debug?.({ remote, reason }, 'mqtt: connection closed');
    });
    // Packets a client pipelines behind its CONNECT wait until authentication is done.
    let queued: Packet[] | null = null;
    const handle = (p: Packet) => {
      try {
        if (!session) return conn.close(`${p.cmd} before a successful CONNECT`);
        this.onPacket(session, conn, p, peer);
      } catch (err) {
        this.opts.logger.warn({ remote, err: (err as Error).message }, 'mqtt: closing connection after an error');
        conn.close(`error: ${(err as Error).message}`);
      }
    };
    conn.onPacket((p) => {
      if (queued) {
        queued.push(p);
        return;
      }
      if (session) return handle(p);
      if (p.cmd !== 'connect') return conn.close(`first packet was ${p.cmd}, not connect`);
      clearTimeout(connectTimer);
      queued = [];
      this.authenticate(conn, p).then(
        (principal) => {
          if (principal && !conn.isClosed) session = this.onConnect(conn, p, principal);
          const waiting = queued ?? [];
          queued = null;
          for (const q of waiting) handle(q);
        },
        (err: unknown) => {
          this.opts.logger.warn({ remote, err: (err as Error).message }, 'mqtt: authentication failed unexpectedly');
          conn.close(`authentication error: ${(err as Error).message}`);
        },
      );
    });
  }

  stats(): MqttGatewayStats {
    let subscriptions = 0;
    for (const s of this.sessions.values()) subscriptions += s.subs.size;
    return { connections: this.connections.size, sessions: this.sessions.size, subscriptions, filters: this.filters.size, lmqsWatched: this.opts.broker.live.size, messagesIn: this.messagesIn, messagesOut: this.counters.messagesOut, messagesOutFromMemory: this.counters.messagesOutFromMemory, droppedOffline: this.counters.droppedOffline };
  }

  /** Closes every connection and listener; persistent sessions' state is flushed. */
  async close(): Promise<void> {
    for (const t of this.delayedWills.values()) clearTimeout(t);
    this.delayedWills.clear();
    // A server shutdown is not the clients' fault: their wills are not published.
    for (const c of this.connections) this.wills.delete(c);
    for (const c of [...this.connections]) c.close('server shutting down');
    for (const t of this.expiryTimers.values()) clearTimeout(t);
    this.expiryTimers.clear();
    for (const g of this.sharedGroups.values()) g.flush();
    // Sessions commit offsets only up to what is written (deliveries from memory run ahead of the
    // write): write everything first, so a clean shutdown redelivers nothing.
    await this.opts.broker.flush().catch((err: unknown) => this.opts.logger.warn({ err: (err as Error).message }, 'mqtt: store flush before the last session commits failed'));
    await Promise.all([...this.sessions.values()].map((s) => s.flush()));
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  /** Checks the CONNECT's credentials; on refusal answers CONNACK with the protocol's code and closes. */
  private async authenticate(conn: MqttConnection, p: IConnectPacket): Promise<Principal | null> {
    const v5 = (p.protocolVersion ?? 4) === 5;
    const r = await this.auth.authenticate(p.username, p.password, p.clientId ?? '');
    if (r.ok) return r.principal;
    conn.setProtocolVersion(p.protocolVersion ?? 4);
    // 3.1.1: 4 bad user name or password, 5 not authorized; 5.0: 0x86 / 0x87.
    const bad = r.reason === 'BAD_CREDENTIALS';
    conn.send(v5 ? { cmd: 'connack', reasonCode: bad ? 0x86 : 0x87, sessionPresent: false } : { cmd: 'connack', returnCode: bad ? 4 : 5, sessionPresent: false });
    this.opts.logger.info({ remote: conn.opts.remote, username: p.username, reason: r.reason }, 'mqtt: connection refused');
    conn.close(`authentication refused: ${r.reason}`);
    return null;
  }

  private onConnect(conn: MqttConnection, p: IConnectPacket, principal: Principal): Session | null {
    const v = p.protocolVersion ?? 4;
    conn.setProtocolVersion(v);
    const v5 = v === 5;
    let clientId = p.clientId ?? '';
    let assigned: string | undefined;
    // Seconds the session outlives the connection: -1 = forever (3.1.1 clean=false, v5 0xFFFFFFFF).
    const requested = v5 ? (p.properties?.sessionExpiryInterval ?? 0) : p.clean === false ? -1 : 0;
    const sessionExpiry = requested === 0xffffffff ? -1 : requested;
    if (clientId === '') {
      // 3.1.1 allows an empty id only with a clean session [MQTT-3.1.3-8]; 5.0 assigns one.
      if (!v5 && p.clean === false) {
        conn.send({ cmd: 'connack', returnCode: 2, sessionPresent: false });
        conn.close('empty client id with a persistent session');
        return null;
      }
      clientId = `apogee-${process.pid}-${Date.now().toString(36)}-${(this.assignedIds++).toString(36)}`;
      assigned = clientId;
    }
    if (v5 && p.properties?.maximumPacketSize) conn.clientMaxPacketSize = p.properties.maximumPacketSize;
    if (v5 && p.properties?.receiveMaximum) conn.clientReceiveMaximum = p.properties.receiveMaximum;
    if (v5 && p.properties?.topicAliasMaximum) conn.clientTopicAliasMaximum = Math.min(p.properties.topicAliasMaximum, this.config.outboundTopicAliasMaximum);
    if (p.will) {
      try {
        validateMqttTopicName(p.will.topic, { maxTopicLength: this.config.maxTopicLength, maxTopicLevels: this.config.maxTopicLevels });
      } catch (err) {
        if (!(err instanceof InvalidTopicError)) throw err;
        // 5.0: 0x90 Topic Name invalid; 3.1.1 has no code for it: refuse as unavailable.
        conn.send(v5 ? { cmd: 'connack', reasonCode: 0x90, sessionPresent: false } : { cmd: 'connack', returnCode: 3, sessionPresent: false });
        conn.close(`invalid will topic: ${err.reason}`);
        return null;
      }
      const payload = typeof p.will.payload === 'string' ? Buffer.from(p.will.payload) : p.will.payload;
      // Will properties travel with the will message, except the delay, which is the server's business.
      const { willDelayInterval, ...willProps } = (v5 ? p.will.properties : undefined) ?? {};
      if (!this.auth.canPublish({ ...principal, clientId }, p.will.topic)) {
        conn.send(v5 ? { cmd: 'connack', reasonCode: 0x87, sessionPresent: false } : { cmd: 'connack', returnCode: 5, sessionPresent: false });
        conn.close('will topic not authorized');
        return null;
      }
      this.wills.set(conn, { clientId, topic: p.will.topic, payload, qos: (p.will.qos ?? 0) as QoS, retain: p.will.retain === true, delaySeconds: willDelayInterval ?? 0, v5: willProps });
    }
    // A session resumed within the Will Delay Interval keeps its will unpublished [MQTT-3.1.3-9].
    const delayed = this.delayedWills.get(clientId);
    if (delayed && p.clean === false) {
      clearTimeout(delayed);
      this.delayedWills.delete(clientId);
    }
    // A second connection with the same id takes the session over [MQTT-3.1.4-3].
    const existing = this.sessions.get(clientId);
    const old = existing?.connection;
    if (old) {
      // Detach first, so the old connection's close does not end (or expire) the session being taken over.
      existing!.detach();
      if (old.protocolVersion === 5) old.send({ cmd: 'disconnect', reasonCode: 0x8e });
      old.close('session taken over by a new connection');
    }
    let session = existing;
    // A session that was not persistent ended with the connection just taken over [MQTT-3.1.2-6].
    if (session && old && !session.persistent) {
      this.dropSession(session);
      session = undefined;
    }
    let present = false;
    const clean = v5 ? p.clean !== false : p.clean !== false;
    if (session && clean) {
      this.dropSession(session);
      session = undefined;
    }
    if (session) present = true;
    else {
      session = this.newSession(clientId);
      this.sessions.set(clientId, session);
    }
    this.cancelExpiry(clientId);
    if (sessionExpiry !== 0) session.makePersistent(sessionExpiry);
    else if (session.persistent) void session.forget();
    let keepAlive = p.keepalive ?? 0;
    const max = this.config.maxKeepAliveSeconds;
    const serverKeepAlive = max > 0 && (keepAlive === 0 || keepAlive > max) ? max : undefined;
    if (serverKeepAlive !== undefined) keepAlive = serverKeepAlive;
    if (v5) {
      const props: Record<string, unknown> = {
        receiveMaximum: this.config.receiveMaximum,
        maximumPacketSize: this.config.maxPacketSize,
        topicAliasMaximum: this.config.topicAliasMaximum,
        retainAvailable: true,
        wildcardSubscriptionAvailable: true,
        subscriptionIdentifiersAvailable: true,
        sharedSubscriptionAvailable: true,
      };
      if (assigned) props['assignedClientIdentifier'] = assigned;
      // Request Response Information: a topic prefix this client may use for responses.
      if (p.properties?.requestResponseInformation) props['responseInformation'] = `reply/${clientId}/`;
      if (serverKeepAlive !== undefined) props['serverKeepAlive'] = serverKeepAlive;
      conn.send({ cmd: 'connack', reasonCode: 0, sessionPresent: present, properties: props });
    } else {
      conn.send({ cmd: 'connack', returnCode: 0, sessionPresent: present });
    }
    conn.startKeepAlive(keepAlive);
    // The principal's id is the session's (an assigned id replaces the empty one it was checked with).
    const who: Principal = { ...principal, clientId };
    session.canRead = (topic) => this.auth.canRead(who, topic);
    this.principals.set(conn, who);
    session.attach(conn);
    if (session.sharedSubs.size > 0) {
      session.onRoom = () => this.pumpShared(session!);
      this.pumpShared(session);
    }
    return session;
  }

  private onPacket(session: Session, conn: MqttConnection, p: Packet, peer?: HostAddress): void {
    switch (p.cmd) {
      case 'publish':
        return this.onPublish(session, conn, p, peer);
      case 'puback':
        return session.acknowledge(p.messageId ?? 0);
      case 'pubrec':
        return session.received(p.messageId ?? 0);
      case 'pubcomp':
        return session.completed(p.messageId ?? 0);
      case 'pubrel':
        if (session.pendingRel.delete(p.messageId ?? 0)) session.pendingRelChanged();
        if (conn.inboundQos2.delete(p.messageId ?? 0)) conn.inboundInflight--;
        conn.send({ cmd: 'pubcomp', messageId: p.messageId ?? 0 });
        return;
      case 'subscribe':
        return this.onSubscribe(session, conn, p);
      case 'unsubscribe':
        return this.onUnsubscribe(session, conn, p);
      case 'pingreq':
        conn.send({ cmd: 'pingresp' });
        return;
      case 'disconnect': {
        // v5 may change the session expiry on the way out (not from 0 [MQTT-3.14.2-2]).
        const e = conn.protocolVersion === 5 ? p.properties?.sessionExpiryInterval : undefined;
        if (e !== undefined && session.persistent) session.makePersistent(e === 0xffffffff ? -1 : e);
        else if (e !== undefined && e > 0 && !session.persistent) {
          conn.send({ cmd: 'disconnect', reasonCode: 0x82 });
          conn.close('session expiry set on DISCONNECT after CONNECT asked for 0');
          return;
        }
        if (e === 0 && session.persistent) void session.forget();
        // A normal DISCONNECT discards the will; v5 reason 0x04 asks for it to be published.
        if (!(conn.protocolVersion === 5 && p.reasonCode === 0x04)) this.wills.delete(conn);
        conn.close('client disconnected');
        return;
      }
      case 'connect':
        // A second CONNECT is a protocol violation [MQTT-3.1.0-2].
        if (conn.protocolVersion === 5) conn.send({ cmd: 'disconnect', reasonCode: 0x82 });
        conn.close('second CONNECT on one connection');
        return;
      default:
        if (conn.protocolVersion === 5) conn.send({ cmd: 'disconnect', reasonCode: 0x82 });
        conn.close(`unexpected ${p.cmd} from a client`);
    }
  }

  private onPublish(session: Session, conn: MqttConnection, p: IPublishPacket, peer?: HostAddress): void {
    const v5 = conn.protocolVersion === 5;
    const alias = v5 ? p.properties?.topicAlias : undefined;
    if (alias !== undefined) {
      // Topic Alias (client → server) [MQTT-3.3.2-8..12]: 1..topicAliasMaximum, set with a topic, used without.
      if (alias === 0 || alias > this.config.topicAliasMaximum) {
        conn.send({ cmd: 'disconnect', reasonCode: 0x94 });
        conn.close(`topic alias ${alias} is outside 1..${this.config.topicAliasMaximum}`);
        return;
      }
      const aliases = this.aliasesOf(conn);
      if (p.topic === '') {
        const t = aliases.get(alias);
        if (t === undefined) {
          conn.send({ cmd: 'disconnect', reasonCode: 0x82 });
          conn.close(`topic alias ${alias} used before it was set`);
          return;
        }
        p.topic = t;
      } else aliases.set(alias, p.topic);
    }
    if (v5 && p.properties?.responseTopic !== undefined) {
      try {
        validateMqttTopicName(p.properties.responseTopic);
      } catch (err) {
        if (!(err instanceof InvalidTopicError)) throw err;
        conn.send({ cmd: 'disconnect', reasonCode: 0x82 });
        conn.close(`invalid response topic: ${err.reason}`);
        return;
      }
    }
    try {
      validateMqttTopicName(p.topic, { maxTopicLength: this.config.maxTopicLength, maxTopicLevels: this.config.maxTopicLevels });
    } catch (err) {
      if (!(err instanceof InvalidTopicError)) throw err;
      if (v5) conn.send({ cmd: 'disconnect', reasonCode: 0x90 });
      conn.close(`invalid topic name: ${err.reason}`);
      return;
    }
    const id = p.messageId ?? 0;
    const principal = this.principals.get(conn);
    if (principal && !this.auth.canPublish(principal, p.topic)) {
      this.opts.logger.info({ clientId: session.clientId, topic: p.topic }, 'mqtt: publish not authorized');
      // 5.0 says so (0x87); 3.1.1 has no negative ack, so the message is acknowledged and dropped.
      if (p.qos === 1) conn.send(v5 ? { cmd: 'puback', messageId: id, reasonCode: 0x87 } : { cmd: 'puback', messageId: id });
      else if (p.qos === 2) conn.send(v5 ? { cmd: 'pubrec', messageId: id, reasonCode: 0x87 } : { cmd: 'pubrec', messageId: id });
      return;
    }
    const pending = p.qos === 2 ? session.pendingRel.get(id) : undefined;
    if (pending?.stored) {
      // A re-sent QoS 2 PUBLISH we already stored: acknowledge, do not store twice.
      conn.send({ cmd: 'pubrec', messageId: id });
      return;
    }
    if (p.qos > 0) {
      // The client may have at most Receive Maximum QoS 1/2 PUBLISHes unacknowledged [MQTT-3.3.4-7].
      if (v5 && conn.inboundInflight >= this.config.receiveMaximum) {
        conn.send({ cmd: 'disconnect', reasonCode: 0x93 });
        conn.close(`receive maximum of ${this.config.receiveMaximum} exceeded`);
        return;
      }
      conn.inboundInflight++;
      if (p.qos === 2) conn.inboundQos2.add(id);
    }
    const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
    const input: PublishInput = { topic: p.topic, payload, qos: p.qos, retain: p.retain, clientId: session.clientId };
    if (v5 && p.properties) input.v5 = p.properties;
    if (peer) input.bornHost = peer;
    if (p.qos < 2 && !p.retain && this.storeNow(session, conn, p, input)) return;
    const store = p.qos === 2 ? this.storeExactlyOnce(session, id, input, pending) : this.storePublish(input);
    conn.storeStarted(MAX_UNSTORED_PER_CONNECTION);
    store.then(
      () => {
        conn.storeSettled(MAX_UNSTORED_PER_CONNECTION);
        this.stored(conn, p);
      },
      (err: unknown) => {
        conn.storeSettled(MAX_UNSTORED_PER_CONNECTION);
        this.notStored(session, conn, p, err);
      },
    );
  }

  /**
   * The common QoS 0/1 publish, without a promise chain: appended now (and handed to caught-up
   * subscribers from memory); QoS 1 is acknowledged once the store confirms it, QoS 0 only slows
   * its connection down while the disk lags. False when it has to take the promise path (new
   * store topic).
   */
  private storeNow(session: Session, conn: MqttConnection, p: IPublishPacket, input: PublishInput): boolean {
    let r: Appended | null;
    try {
      r = this.publisher.publishNow(input);
    } catch (err) {
      this.messagesIn++;
      this.notStored(session, conn, p, err);
      return true;
    }
    if (r === null) return false;
    this.messagesIn++;
    const engine = this.opts.broker;
    if (p.qos === 0) {
      if (engine.unconfirmedBytes > QOS0_HOLD_BYTES) conn.holdReading(engine.whenConfirmed(r));
      return true;
    }
    conn.storeStarted(MAX_UNSTORED_PER_CONNECTION);
    this.confirms.add(conn, { session, packet: p }, r);
    return true;
  }

  /** QoS 1 publishes appended by storeNow, acknowledged per connection and task in one wait. */
  private readonly confirms: ConfirmBatches<MqttConnection, { session: Session; packet: IPublishPacket }>;

  /** The publish is stored: acknowledge it (QoS 1 PUBACK, QoS 2 PUBREC). */
  private stored(conn: MqttConnection, p: IPublishPacket): void {
    const id = p.messageId ?? 0;
    if (p.qos === 1) {
      conn.inboundInflight--;
      conn.send({ cmd: 'puback', messageId: id });
    } else if (p.qos === 2) conn.send({ cmd: 'pubrec', messageId: id });
  }

  /** The publish could not be stored: QoS 0 is dropped (logged); QoS 1/2 get a failure (v5) or the connection closes (3.1.1). */
  private notStored(session: Session, conn: MqttConnection, p: IPublishPacket, err: unknown): void {
    this.logNotStored(session, p, err);
    if (p.qos === 0) return;
    const id = p.messageId ?? 0;
    conn.inboundInflight--;
    if (conn.inboundQos2.delete(id) && session.pendingRel.delete(id)) session.pendingRelChanged();
    if (conn.protocolVersion === 5) {
      // 0x97 Quota exceeded for busy/full, 0x80 otherwise; the message was not stored.
      const reasonCode = err instanceof BrokerError && (err.kind === 'SYSTEM_BUSY' || err.kind === 'SERVICE_NOT_AVAILABLE') ? 0x97 : 0x80;
      conn.send({ cmd: p.qos === 1 ? 'puback' : 'pubrec', messageId: id, reasonCode });
    } else {
      // 3.1.1 has no negative acknowledgement: close so the client re-sends later.
      conn.close(`publish could not be stored: ${(err as Error).message}`);
    }
  }

  /** Refusals come in floods when the store is busy: one log line per second, with a count of the rest. */
  private logNotStored(session: Session, p: IPublishPacket, err: unknown): void {
    this.notStoredCount++;
    const now = Date.now();
    if (now - this.notStoredLoggedAt < 1000) return;
    this.opts.logger.warn({ clientId: session.clientId, topic: p.topic, err: (err as Error).message, refusedSinceLastLog: this.notStoredCount }, 'mqtt: publish not stored');
    this.notStoredLoggedAt = now;
    this.notStoredCount = 0;
  }

  private notStoredCount = 0;
  private notStoredLoggedAt = 0;

  private onSubscribe(session: Session, conn: MqttConnection, p: ISubscribePacket): void {
    const v5 = conn.protocolVersion === 5;
    const granted: number[] = [];
    const retainedFor: Array<{ filter: string; opts: SubscriptionOptions }> = [];
    const subscriptionId = v5 ? p.properties?.subscriptionIdentifier : undefined;
    for (const s of p.subscriptions) {
      try {
        validateMqttTopicFilter(s.topic, { maxTopicLength: this.config.maxTopicLength, maxTopicLevels: this.config.maxTopicLevels });
        const shared = parseSharedSubscription(s.topic, { maxTopicLength: this.config.maxTopicLength, maxTopicLevels: this.config.maxTopicLevels });
        const principal = this.principals.get(conn);
        if (principal && !this.auth.canSubscribe(principal, shared ? shared.filter : s.topic)) {
          // 0x80 in both versions: the server does not reveal that a rule exists (5.0 allows either).
          granted.push(0x80);
          continue;
        }
        if (shared) {
          if (v5 && s.nl) {
            // No Local on a shared subscription is a protocol error [MQTT-3.8.3-4].
            conn.send({ cmd: 'disconnect', reasonCode: 0x82 });
            conn.close('no local on a shared subscription');
            return;
          }
          const qos = Math.min(s.qos, 2) as QoS;
          const opts: SubscriptionOptions = { qos };
          if (subscriptionId) opts.subscriptionId = subscriptionId;
          this.joinShared(session, s.topic, shared.group, shared.filter, opts);
          // Retained messages are not sent for shared subscriptions.
          granted.push(qos);
          continue;
        }
      } catch (err) {
        if (!(err instanceof InvalidTopicError)) throw err;
        granted.push(v5 ? 0x8f : 0x80);
        continue;
      }
      const qos = Math.min(s.qos, 2) as QoS;
      const opts: SubscriptionOptions = { qos };
      if (v5 && s.nl) opts.noLocal = true;
      if (v5 && s.rap) opts.retainAsPublished = true;
      if (subscriptionId) opts.subscriptionId = subscriptionId;
      const isNew = session.subscribe(s.topic, lmqOf(s.topic), opts);
      if (isNew) this.filters.add(s.topic);
      // v5 Retain Handling: 0 always send retained, 1 only for a new subscription, 2 never.
      const rh = v5 ? (s.rh ?? 0) : 0;
      if (rh === 0 || (rh === 1 && isNew)) retainedFor.push({ filter: s.topic, opts });
      granted.push(qos);
    }
    const suback = { cmd: 'suback' as const, messageId: p.messageId ?? 0, granted };
    const after = () => {
      conn.send(suback);
      // Retained messages follow the SUBACK.
      for (const r of retainedFor) {
        this.retained.find(r.filter).then(
          (records) => {
            for (const rec of records) session.deliverRetained(rec, r.opts);
          },
          (err: unknown) => this.opts.logger.warn({ clientId: session.clientId, filter: r.filter, err: (err as Error).message }, 'mqtt: retained lookup failed'),
        );
      }
    };
    // A persistent session's subscriptions are durable before the client hears they exist.
    if (session.persistent) void session.flush().then(after);
    else after();
  }

  private onUnsubscribe(session: Session, conn: MqttConnection, p: IUnsubscribePacket): void {
    const codes: number[] = [];
    for (const f of p.unsubscriptions) {
      let had: boolean;
      if (session.sharedSubs.has(f)) had = this.leaveShared(session, f);
      else {
        had = session.unsubscribe(f);
        if (had) this.filters.remove(f);
      }
      codes.push(had ? 0 : 0x11);
    }
    if (conn.protocolVersion === 5) conn.send({ cmd: 'unsuback', messageId: p.messageId ?? 0, granted: codes });
    else conn.send({ cmd: 'unsuback', messageId: p.messageId ?? 0, granted: [] });
  }

  /** Publishes a will now, or after its v5 delay (capped by the session's expiry). */
  private fireWill(will: Will, session: Session | null): void {
    const publish = () => {
      this.delayedWills.delete(will.clientId);
      this.storePublish({ topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain, clientId: will.clientId, v5: will.v5 }).catch((err: unknown) =>
        this.opts.logger.warn({ clientId: will.clientId, topic: will.topic, err: (err as Error).message }, 'mqtt: will message not stored'),
      );
    };
    const expiry = session?.persistent ? session.expirySeconds : 0;
    const delay = expiry < 0 ? will.delaySeconds : Math.min(will.delaySeconds, expiry);
    if (delay <= 0) return publish();
    const old = this.delayedWills.get(will.clientId);
    if (old) clearTimeout(old);
    const t = setTimeout(publish, Math.min(delay * 1000, 2 ** 31 - 1));
    t.unref();
    this.delayedWills.set(will.clientId, t);
  }

  private readonly topicAliases = new WeakMap<MqttConnection, Map<number, string>>();

  private aliasesOf(conn: MqttConnection): Map<number, string> {
    let m = this.topicAliases.get(conn);
    if (!m) this.topicAliases.set(conn, (m = new Map()));
    return m;
  }

  /**
   * QoS 2 in: the packet id and the message's UNIQ_KEY are made durable before the message is
   * stored, so a PUBLISH re-sent after a crash is looked up by that key instead of stored twice.
   */
  private async storeExactlyOnce(session: Session, id: number, input: PublishInput, pending: { uniq: string; stored: boolean; storing?: Promise<void> } | undefined): Promise<void> {
    if (pending?.storing) return pending.storing;
    let entry = pending;
    if (!entry) {
      entry = { uniq: this.publisher.newUniqKey(), stored: false };
      session.pendingRel.set(id, entry);
      session.pendingRelChanged();
    }
    const e = entry;
    e.storing = (async () => {
      await session.flush();
      // A surviving intent from before a crash: the message may be in the store already.
      if (pending && (await this.publisher.wasStored(input.topic, e.uniq))) {
        e.stored = true;
        return;
      }
      await this.storePublish({ ...input, uniqKey: e.uniq });
      e.stored = true;
    })().finally(() => {
      e.storing = undefined;
    });
    return e.storing;
  }

  /** Stores a publish and keeps the retained index in step; resolves once both are durable. */
  private async storePublish(input: PublishInput): Promise<void> {
    this.messagesIn++;
    const offset = await this.publisher.publish(input);
    // The retained index follows the stored record; an empty payload clears it [MQTT-3.3.1-10].
    if (input.retain) await this.retained.set(input.topic, offset, input.payload.length === 0);
  }

  private newSession(clientId: string): Session {
    return new Session(clientId, this.opts.broker, this.records, this.config, (err) => this.opts.logger.warn({ clientId, err: (err as Error).message }, 'mqtt: session error'), this.counters);
  }

  private sessionLost(session: Session): void {
    session.detach();
    // Its unacknowledged shared messages went back to their groups: hand them to other members.
    this.pumpShared(session);
    if (!session.persistent) {
      this.dropSession(session);
      return;
    }
    void session.flush();
    this.scheduleExpiry(session);
  }

  /** Adds a session to the group of `$share/<share>/<filter>` (creating the group on first use). */
  private joinShared(session: Session, full: string, share: string, filter: string, opts: SubscriptionOptions): void {
    const key = `${share}\u0000${filter}`;
    let g = this.sharedGroups.get(key);
    if (!g) {
      g = new SharedGroup(share, filter, lmqOf(filter), sharedLmqGroup(share, filter), this.opts.broker, (err) =>
        this.opts.logger.warn({ share, filter, err: (err as Error).message }, 'mqtt: shared subscription error'),
      );
      this.sharedGroups.set(key, g);
      this.filters.add(filter);
    }
    session.sharedSubs.set(full, opts);
    session.sharedChanged();
    session.onRoom = () => this.pumpShared(session);
    g.addMember(session, opts);
  }

  private leaveShared(session: Session, full: string): boolean {
    if (!session.sharedSubs.delete(full)) return false;
    session.sharedChanged();
    const parsed = parseSharedSubscription(full);
    if (!parsed) return true;
    const key = `${parsed.group}\u0000${parsed.filter}`;
    const g = this.sharedGroups.get(key);
    if (g?.removeMember(session)) {
      this.sharedGroups.delete(key);
      this.filters.remove(parsed.filter);
    }
    return true;
  }

  /** Lets the shared groups of a session hand out more (it came online or freed room). */
  private pumpShared(session: Session): void {
    for (const full of session.sharedSubs.keys()) {
      const parsed = parseSharedSubscription(full);
      if (parsed) this.sharedGroups.get(`${parsed.group}\u0000${parsed.filter}`)?.pump();
    }
  }

  private dropSession(session: Session): void {
    for (const full of [...session.sharedSubs.keys()]) this.leaveShared(session, full);
    this.cancelExpiry(session.clientId);
    for (const f of [...session.subs.keys()]) {
      session.unsubscribe(f);
      this.filters.remove(f);
    }
    session.detach();
    void session.forget().catch((err: unknown) => this.opts.logger.warn({ clientId: session.clientId, err: (err as Error).message }, 'mqtt: could not remove session state'));
    if (this.sessions.get(session.clientId) === session) this.sessions.delete(session.clientId);
  }

  private readonly expiryTimers = new Map<string, NodeJS.Timeout>();

  /** A disconnected persistent session ends after its expiry (never for -1). */
  private scheduleExpiry(session: Session): void {
    this.cancelExpiry(session.clientId);
    if (session.expirySeconds < 0) return;
    const left = session.disconnectedAt + session.expirySeconds * 1000 - Date.now();
    // setTimeout holds at most ~24.8 days; longer expiries re-arm.
    const t = setTimeout(() => {
      this.expiryTimers.delete(session.clientId);
      if (session.connection) return;
      if (session.disconnectedAt + session.expirySeconds * 1000 > Date.now()) this.scheduleExpiry(session);
      else this.dropSession(session);
    }, Math.max(0, Math.min(left, 2 ** 31 - 1)));
    t.unref();
    this.expiryTimers.set(session.clientId, t);
  }

  private cancelExpiry(clientId: string): void {
    const t = this.expiryTimers.get(clientId);
    if (t) clearTimeout(t);
    this.expiryTimers.delete(clientId);
  }

  /**
   * Brings persistent sessions back after a restart: their subscriptions register for dispatch at
   * once (offline messages keep landing in their LMQs) and resume from their committed offsets.
   */
  async restoreSessions(): Promise<number> {
    const now = Date.now();
    let restored = 0;
    const expired: string[] = [];
    for (const { key, value } of this.opts.broker.metadata.scan(SESSION_NAMESPACE)) {
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
          this.joinShared(s, sub.filter, shared.group, shared.filter, opts);
          continue;
        }
        s.restore(sub.filter, lmqOf(sub.filter), opts);
        this.filters.add(sub.filter);
      }
      // Plain ids come from records that only kept stored ones; pairs may not have been stored yet.
      for (const e of rec.pendingRel) s.pendingRel.set(typeof e === 'number' ? e : e[0], typeof e === 'number' ? { uniq: '', stored: true } : { uniq: e[1], stored: false });
      for (const id of rec.pendingComp ?? []) s.pendingComp.add(id);
      this.sessions.set(key, s);
      this.scheduleExpiry(s);
      restored++;
    }
    for (const clientId of expired) await this.newSession(clientId).forgetStored();
    if (restored + expired.length > 0) this.opts.logger.info({ restored, expired: expired.length }, 'mqtt: persistent sessions restored');
    return restored;
  }
}

function hostOf(socket: net.Socket): HostAddress | undefined {
  return socket.remoteAddress ? peerHost(socket.remoteAddress, socket.remotePort) : undefined;
}
