import net from 'node:net';
import tls from 'node:tls';
import type { Engine, Logger } from '@apogee/broker';
import { Authorizer, OPEN_AUTH, listenOn } from '@apogee/broker';
import { ConnectionCaps, type HostAddress, RateLimitedWarnings, peerHost } from '@apogee/message';
import { type MqttConfig, resolveMqttConfig } from './config.js';
import { DecodedRecords } from './delivery/decoded-records.js';
import { SharedGroups } from './delivery/shared-groups.js';
import { ConnectHandler } from './handlers/connect.js';
import type { Client, Services } from './handlers/context.js';
import { PacketDispatch } from './handlers/dispatch.js';
import { MqttConnection, type Packet } from './protocol/mqtt-connection.js';
import { Publisher } from './publish/publisher.js';
import { PublishStore } from './publish/publish-store.js';
import { RetainedStore } from './publish/retained-store.js';
import { SessionRegistry } from './session/session-registry.js';
import { type MqttSessionView, sessionView } from './session/session-view.js';
import { ReasonCode } from './protocol/reason-codes.js';
import { type MqttRefusalCounts, MqttRefusalCounters } from './refusal-counters.js';
import { Wills } from './session/wills.js';

export interface MqttGatewayOptions {
  /** The engine the endpoint works on (the in-process Broker, or any other Engine). */
  broker: Engine;
  /** Authentication and topic authorization; default: anonymous clients may do anything. */
  auth?: Authorizer;
  config?: Partial<MqttConfig>;
  logger: Logger;
}

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
  /** QoS 0 deliveries dropped because the connection's outbound buffer was over maxOutboundBufferBytes. */
  droppedSlow: number;
  /** Connections closed at once because their listener had maxConnections open. */
  refusedConnections: number;
  /** Refused CONNECTs, PUBLISHes, SUBSCRIBE filters and connections closed on protocol errors, by operation and reason. */
  refusals: MqttRefusalCounts;
}

/** Where a stream served by MqttGateway.handleStream came from. */
export interface StreamOrigin {
  /** The listener's name: its connection cap and its name in warnings. Default "mqtt". */
  listener?: string;
  /** On a TLS connection, the name of the client's verified certificate (null: none); undefined on plain ones. */
  certificateName?: string | null | undefined;
}

/** How a listener of MqttGateway.listen differs from plain TCP. */
export interface MqttListenerOptions {
  /** The listener's name (its own connection cap; "mqtts" for MQTT over TLS). Default "mqtt". */
  name?: string;
  /** Makes the server that accepts connections (default net.createServer); e.g. a tls.Server for MQTT over TLS. */
  createServer?: (onSocket: (socket: net.Socket) => void) => net.Server;
  /** The name of a connection's verified client certificate (null: none); see MqttConfig.useIdentityAsUsername. */
  certificateName?: (socket: net.Socket) => string | null;
}

/**
 * The MQTT endpoint: TCP (and, through `handleStream`, WebSocket) connections speaking MQTT 3.1,
 * 3.1.1 and 5.0 on mqtt-packet, with sessions whose subscriptions read LMQs from the store.
 * Listening and the connection lifecycle live here; each packet type's behaviour is in
 * `handlers/`, sessions in `session/`, shared groups in `delivery/`. See docs/mqtt.md.
 */
export class MqttGateway {
  readonly config: MqttConfig;
  private readonly svc: Services;
  private readonly connecting: ConnectHandler;
  private readonly dispatch: PacketDispatch;
  private readonly servers: net.Server[] = [];
  private readonly connections = new Set<MqttConnection>();
  private readonly counters = { messagesOut: 0, messagesOutFromMemory: 0, droppedOffline: 0, droppedSlow: 0 };
  private readonly caps: ConnectionCaps;
  private restoring: Promise<number> | null = null;

  constructor(private readonly opts: MqttGatewayOptions) {
    const config = (this.config = resolveMqttConfig(opts.config));
    const engine = opts.broker;
    // Messages from other endpoints reach this gateway's subscriptions through the engine: its
    // filter registry dispatches every send carrying a topic into the matching filters' LMQs.
    const filters = engine.topicFilters;
    const retained = new RetainedStore(engine);
    const publishes = new PublishStore(new Publisher(engine, config), retained);
    const shared = new SharedGroups(engine, filters, opts.logger);
    // Records decoded once for all the sessions that deliver them (fan-out).
    const sessions = new SessionRegistry(engine, filters, shared, new DecodedRecords(config.recordCacheBytes), config, this.counters, opts.logger);
    this.svc = {
      config,
      engine,
      auth: opts.auth ?? new Authorizer(OPEN_AUTH),
      logger: opts.logger,
      refusals: new RateLimitedWarnings(opts.logger),
      refusalCounters: new MqttRefusalCounters(),
      filters,
      publishes,
      retained,
      sessions,
      wills: new Wills(publishes, opts.logger),
      shared,
    };
    this.caps = new ConnectionCaps(config.maxConnections, this.svc.refusals);
    this.connecting = new ConnectHandler(this.svc);
    this.dispatch = new PacketDispatch(this.svc);
  }

  /**
   * Listens for MQTT over TCP (persistent sessions are restored first); resolves to the bound
   * "host:port". `listener` makes it another kind of listener (MQTT over TLS: a tls.Server).
   */
  async listen(port: number, host = '127.0.0.1', listener: MqttListenerOptions = {}): Promise<string> {
    await (this.restoring ??= this.restoreSessions());
    const onSocket = (socket: net.Socket) => {
      // Over TLS one socket read surfaces as several 'data' events (one per batch of records),
      // each uncorking on its own, so answers leave as several small writes; with Nagle the later
      // ones waited for the peer's delayed ACK and a 1,000-deep QoS 1 window stalled (both ends
      // ~40 % CPU, half the throughput). Plain TCP keeps Nagle: there a read is one event turn,
      // and coalescing across turns is what keeps QoS 0 fan-out cheap for subscribers.
      if (socket instanceof tls.TLSSocket) socket.setNoDelay(true);
      this.handleStream(socket, `${socket.remoteAddress}:${socket.remotePort}`, hostOf(socket), {
        listener: listener.name ?? 'mqtt',
        certificateName: listener.certificateName?.(socket),
      });
    };
    const server = listener.createServer ? listener.createServer(onSocket) : net.createServer(onSocket);
    this.servers.push(server);
    return listenOn(server, port, host);
  }

  /**
   * Serves one MQTT connection over any duplex byte stream (a TCP socket or a WebSocket stream).
   * `origin` names the listener it came from ("mqtt", "mqtts", "mqtt-ws", …; each has its own
   * connection cap, maxConnections: past it the stream is destroyed at once) and, on a TLS
   * connection, the name of the client's verified certificate (null: none; used when
   * useIdentityAsUsername is on).
   */
  handleStream(stream: import('node:stream').Duplex, remote: string, peer?: HostAddress, origin: StreamOrigin = {}): void {
    const cap = this.caps.of(origin.listener ?? 'mqtt');
    if (!cap.admit(remote)) {
      this.svc.refusalCounters.count('connect', 'connection_limit');
      stream.on('error', () => {});
      stream.destroy();
      return;
    }
    const certificateName = origin.certificateName;
    const conn = new MqttConnection(stream, {
      maxPacketSize: this.config.maxPacketSize,
      maxOutboundBufferBytes: this.config.maxOutboundBufferBytes,
      maxUserProperties: this.config.maxUserProperties,
      maxFiltersPerPacket: this.config.maxFiltersPerPacket,
      remote,
    });
    this.connections.add(conn);
    let client: Client | null = null;
    const connectTimer = setTimeout(
      () => conn.protocolError('connect_timeout', `no CONNECT within ${this.config.connectTimeoutSeconds} s`),
      this.config.connectTimeoutSeconds * 1000,
    );
    connectTimer.unref();
    conn.onClose((reason) => {
      clearTimeout(connectTimer);
      cap.release();
      this.connections.delete(conn);
      this.svc.wills.connectionClosed(conn, client?.session ?? null);
      if (client && client.session.connection === conn) this.svc.sessions.lost(client.session);
      const protocolError = conn.closedOnProtocolError;
      if (protocolError) {
        this.svc.refusalCounters.count('protocol', protocolError);
        const fields: Record<string, unknown> = { remote };
        if (client) fields['clientId'] = client.session.clientId;
        fields['reason'] = reason;
        this.svc.refusals.warn('mqtt:protocol', fields, 'mqtt: connection closed on a protocol error');
      } else this.opts.logger.debug?.({ remote, reason }, 'mqtt: connection closed');
    });
    // Packets a client pipelines behind its CONNECT wait until authentication is done.
    let queued: Packet[] | null = null;
    const handle = (p: Packet) => {
      try {
        if (!client) return conn.protocolError('unexpected_packet', `${p.cmd} before a successful CONNECT`);
        this.dispatch.handle(client, p);
      } catch (err) {
        this.svc.refusals.warn('mqtt:error', { remote, err: (err as Error).message }, 'mqtt: closing connection after an error');
        conn.close(`error: ${(err as Error).message}`);
      }
    };
    conn.onPacket((p) => {
      if (queued) {
        queued.push(p);
        return;
      }
      if (client) return handle(p);
      if (p.cmd !== 'connect') return conn.protocolError('unexpected_packet', `first packet was ${p.cmd}, not connect`);
      clearTimeout(connectTimer);
      queued = [];
      this.connecting.authenticate(conn, p, certificateName).then(
        (principal) => {
          if (principal && !conn.isClosed) client = this.connecting.connect(conn, p, principal, peer);
          const waiting = queued ?? [];
          queued = null;
          for (const q of waiting) handle(q);
        },
        (err: unknown) => {
          this.svc.refusalCounters.count('connect', 'auth_error');
          this.svc.refusals.warn('mqtt:error', { remote, err: (err as Error).message }, 'mqtt: authentication failed unexpectedly');
          conn.close(`authentication error: ${(err as Error).message}`);
        },
      );
    });
  }

  stats(): MqttGatewayStats {
    const { sessions, publishes, filters, engine } = this.svc;
    return {
      connections: this.connections.size,
      sessions: sessions.size,
      subscriptions: sessions.subscriptions(),
      filters: filters.size,
      lmqsWatched: engine.live.size,
      messagesIn: publishes.messagesIn,
      messagesOut: this.counters.messagesOut,
      messagesOutFromMemory: this.counters.messagesOutFromMemory,
      droppedOffline: this.counters.droppedOffline,
      droppedSlow: this.counters.droppedSlow,
      refusedConnections: this.caps.refused,
      refusals: this.svc.refusalCounters.snapshot(),
    };
  }

  /**
   * Sessions for the admin API, in client-id order: connected ones only unless `all`, those whose
   * client id starts with `prefix`, at most `limit`.
   */
  sessionViews(opts: { all?: boolean; prefix?: string; limit?: number } = {}): MqttSessionView[] {
    const out: MqttSessionView[] = [];
    for (const s of this.svc.sessions.list()) {
      if (opts.prefix !== undefined && !s.clientId.startsWith(opts.prefix)) continue;
      if (!opts.all && s.connection === null) continue;
      out.push(sessionView(s));
    }
    out.sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
    return opts.limit === undefined ? out : out.slice(0, opts.limit);
  }

  /** One client's session, or undefined. */
  sessionViewOf(clientId: string): MqttSessionView | undefined {
    const s = this.svc.sessions.get(clientId);
    return s ? sessionView(s) : undefined;
  }

  /**
   * Disconnects a client (admin action): a v5 client is told DISCONNECT 0x98 (administrative
   * action) first. Its will is published and a persistent session stays, as on any lost
   * connection. False when the client is not connected.
   */
  disconnectClient(clientId: string): boolean {
    const conn = this.svc.sessions.get(clientId)?.connection;
    if (!conn || conn.isClosed) return false;
    if (conn.protocolVersion === 5) conn.send({ cmd: 'disconnect', reasonCode: ReasonCode.ADMINISTRATIVE_ACTION });
    conn.close('disconnected by an administrator');
    return true;
  }

  /** Retained messages whose topic matches `filter` (records; at most `limit`). */
  retainedMessages(filter: string, limit: number): Promise<Buffer[]> {
    return this.svc.retained.find(filter, limit);
  }

  /** Closes every connection and listener; persistent sessions' state is flushed. */
  async close(): Promise<void> {
    const { wills, sessions, shared } = this.svc;
    wills.close();
    // A server shutdown is not the clients' fault: their wills are not published.
    for (const c of this.connections) wills.discard(c);
    for (const c of [...this.connections]) c.close('server shutting down');
    sessions.close();
    // Sessions and shared groups commit offsets only up to what is written (deliveries from
    // memory run ahead of the write): write everything first, so a clean shutdown redelivers nothing.
    await this.opts.broker
      .flush()
      .catch((err: unknown) => this.opts.logger.warn({ err: (err as Error).message }, 'mqtt: store flush before the last session commits failed'));
    await shared.flush();
    await sessions.flush();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.svc.refusals.flush();
  }

  /**
   * Brings persistent sessions back after a restart: their subscriptions register for dispatch at
   * once (offline messages keep landing in their LMQs) and resume from their committed offsets.
   */
  restoreSessions(): Promise<number> {
    return this.svc.sessions.restore();
  }
}

function hostOf(socket: net.Socket): HostAddress | undefined {
  return socket.remoteAddress ? peerHost(socket.remoteAddress, socket.remotePort) : undefined;
}
