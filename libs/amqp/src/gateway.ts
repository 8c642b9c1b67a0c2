import net from 'node:net';
import { Authorizer, ConfirmBatches, type Engine, type Logger, OPEN_AUTH, type Principal, listenOn } from '@apogee/broker';
import { ConnectionCaps, RateLimitedWarnings, peerHost } from '@apogee/message';
import { AddressError, type AmqpAddress, MAX_LINK_NAME_LENGTH, checkLinkName, illegalCharacterIn, parseAddress } from './address.js';
import type { GuardFailure } from './codec/frame-guard.js';
import { type AmqpConfig, resolveAmqpConfig } from './config.js';
import { GuardedSocket } from './connection/guarded-socket.js';
import {
  type RheaConnection,
  type RheaContext,
  type RheaDelivery,
  type RheaLink,
  type RheaReceiver,
  type RheaSender,
  type RheaSession,
  type Terminus,
  rhea,
  serveConnection,
} from './rhea/index.js';
import { Condition, conditionOfPeerError } from './errors.js';
import { IncomingLink, queueIdFor } from './link/incoming.js';
import { OutgoingLink } from './link/outgoing.js';
import { type ReaderHandle, Readers } from './readers.js';
import { type AmqpRefusalCounts, AmqpRefusalCounters, attachRefusalReason } from './refusal-counters.js';

export interface AmqpGatewayOptions {
  /** The engine the endpoint works on (the in-process Broker, or any other Engine). */
  broker: Engine;
  /** Authentication (SASL PLAIN users, anonymous on/off) and address authorization; default: anyone may do anything. */
  auth?: Authorizer;
  config?: Partial<AmqpConfig>;
  logger: Logger;
}

/** Figures for the metrics endpoint. */
export interface AmqpGatewayStats {
  connections: number;
  links: number;
  readers: number;
  messagesIn: number;
  messagesOut: number;
  rejectedIn: number;
  deadLettered: number;
  connectionErrors: number;
  /** Connections closed at once because their listener had maxConnections open. */
  refusedConnections: number;
  /** Refused logins, opens, attaches and messages, connections closed on protocol errors, by operation and reason. */
  refusals: AmqpRefusalCounts;
}

/** What the gateway keeps per connection. */
interface ConnState {
  readonly id: string;
  readonly socket: GuardedSocket;
  readonly remote: string;
  /** When the socket was accepted (ms). */
  readonly openedAt: number;
  principal: Principal | null;
  links: number;
  readonly incoming: Map<RheaLink, IncomingLink>;
  readonly outgoing: Map<RheaLink, { link: OutgoingLink; handle: ReaderHandle; durable: boolean }>;
  /** Links whose attach is being resolved (reader opening, topic creation). */
  readonly attaching: Set<RheaLink>;
}

/** An AMQP connection as the admin API shows it; links are named from the broker's side (it sends on `sender` links). */
export interface AmqpConnectionView {
  id: string;
  remoteAddress: string;
  openedAt: number;
  username: string | null;
  containerId: string | null;
  links: Array<{ name: string; role: 'sender' | 'receiver'; address: string | null; credit: number; deliveryCount: number; durable?: boolean }>;
}

/**
 * The AMQP 1.0 endpoint: rhea as the server container on each connection, behind a frame guard,
 * with queue and topic addresses mapped onto the broker engine. See docs/amqp.md.
 */
export class AmqpGateway {
  readonly config: AmqpConfig;
  private readonly auth: Authorizer;
  private readonly servers: net.Server[] = [];
  private readonly connections = new Set<ConnState>();
  private readonly readers: Readers;
  /** Refused SASL, opens, attaches and messages, protocol errors: warnings limited per kind (`amqp:<kind>`). */
  private readonly refusals: RateLimitedWarnings;
  /** The same refusals counted by operation and a fixed reason, for the metrics (refusal-counters.ts). */
  private readonly refusalCounters = new AmqpRefusalCounters();
  private readonly caps: ConnectionCaps;
  /** Store confirmations of incoming messages, one wait per link and task. */
  private readonly confirms: ConfirmBatches<IncomingLink, RheaDelivery>;
  private readonly counters = { messagesIn: 0, messagesOut: 0, rejectedIn: 0, deadLettered: 0, connectionErrors: 0 };
  private anonymous: Principal | null | undefined;
  private nextId = 1;
  private closing = false;

  constructor(private readonly opts: AmqpGatewayOptions) {
    this.config = resolveAmqpConfig(opts.config);
    this.auth = opts.auth ?? new Authorizer(OPEN_AUTH);
    this.readers = new Readers(opts.broker, this.config, opts.logger, this.counters);
    this.refusals = new RateLimitedWarnings(opts.logger);
    this.caps = new ConnectionCaps(this.config.maxConnections, this.refusals);
    this.confirms = new ConfirmBatches<IncomingLink, RheaDelivery>(
      opts.broker,
      (link, d) => link.stored(d),
      (link, d, err) => link.storeFailed(d, err),
      (err) => opts.logger.error({ err: (err as Error).stack }, 'amqp: settling a stored message failed'),
    );
  }

  /**
   * Listens for AMQP over TCP; resolves to the bound "host:port". `createServer` makes another
   * kind of listener (AMQP over TLS: a tls.Server; the TLS protocol header: a net.Server whose
   * sockets pass a gate first); it calls `onSocket` with each socket to serve. `listener` names
   * the listener (its own connection cap: "amqps" for AMQP over TLS).
   */
  async listen(port: number, host = '127.0.0.1', createServer?: (onSocket: (socket: net.Socket) => void) => net.Server, listener = 'amqp'): Promise<string> {
    if (this.anonymous === undefined) {
      const r = await this.auth.authenticate(undefined, undefined, '');
      this.anonymous = r.ok ? r.principal : null;
    }
    const onSocket = (socket: net.Socket) => this.handleSocket(socket, listener);
    const server = createServer ? createServer(onSocket) : net.createServer(onSocket);
    this.servers.push(server);
    return listenOn(server, port, host);
  }

  /** Open connections and their links, for the admin API. */
  connectionViews(): AmqpConnectionView[] {
    const out: AmqpConnectionView[] = [];
    for (const c of this.connections) {
      let containerId: string | null = null;
      const links: AmqpConnectionView['links'] = [];
      for (const [l] of c.incoming) {
        containerId ??= l.connection.remote.open?.container_id ?? null;
        links.push({ name: l.name, role: 'receiver', address: l.remote.attach?.target?.address ?? null, credit: l.credit, deliveryCount: l.delivery_count });
      }
      for (const [l, o] of c.outgoing) {
        containerId ??= l.connection.remote.open?.container_id ?? null;
        links.push({
          name: l.name,
          role: 'sender',
          address: l.remote.attach?.source?.address ?? null,
          credit: l.credit,
          deliveryCount: l.delivery_count,
          durable: o.durable,
        });
      }
      out.push({ id: c.id, remoteAddress: c.remote, openedAt: c.openedAt, username: c.principal?.username ?? null, containerId, links });
    }
    return out;
  }

  stats(): AmqpGatewayStats {
    let links = 0;
    for (const c of this.connections) links += c.links;
    return {
      connections: this.connections.size,
      links,
      readers: this.readers.size,
      ...this.counters,
      refusedConnections: this.caps.refused,
      refusals: this.refusalCounters.snapshot(),
    };
  }

  /** Closes every connection (amqp:connection:forced) and listener; readers commit their positions. */
  async close(): Promise<void> {
    this.closing = true;
    const servers = this.servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r())));
    for (const c of [...this.connections]) c.socket.closeWithError(Condition.CONNECTION_FORCED, 'the server is shutting down');
    for (const c of [...this.connections]) this.connectionLost(c);
    await this.readers.closeAll();
    await Promise.all(servers);
    this.refusals.flush();
  }

  /**
   * Serves one accepted connection. `listener` names the listener it came from ("amqp", "amqps"):
   * each has its own connection cap (maxConnections); past it the socket is destroyed at once.
   */
  handleSocket(socket: net.Socket, listener = 'amqp'): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const cap = this.caps.of(listener);
    if (this.closing || !cap.admit(remote)) {
      if (!this.closing) this.refusalCounters.count('open', 'connection_limit');
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    socket.once('close', () => cap.release());
    const cfg = this.config;
    const log = this.opts.logger;
    const id = `amqp-${this.nextId++}`;
    const anonymousAllowed = this.anonymous !== null && this.anonymous !== undefined;
    // One rhea container per connection: its SASL callbacks then know which connection they serve.
    const container = rhea.create_container({ id: cfg.containerId });
    container.on('error', (err: unknown) => log.warn({ conn: id, err: (err as Error).message }, 'amqp: error reported by the peer'));
    const guarded = new GuardedSocket(
      socket,
      { maxFrameSize: cfg.maxFrameSize, channelMax: cfg.maxSessionsPerConnection - 1, maxMessageSize: cfg.maxMessageSize, allowNoSasl: anonymousAllowed },
      cfg.containerId,
      (f) => this.onGuardFailure(id, remote, f),
      cfg.maxOutboundBufferBytes,
    );
    const state: ConnState = {
      id,
      socket: guarded,
      remote,
      openedAt: Date.now(),
      principal: null,
      links: 0,
      incoming: new Map(),
      outgoing: new Map(),
      attaching: new Set(),
    };
    this.connections.add(state);
    const mechanisms = container.sasl_server_mechanisms as unknown as {
      enable_anonymous(): void;
      enable_plain(cb: (u: string, p: string) => Promise<boolean>): void;
    };
    if (anonymousAllowed) mechanisms.enable_anonymous();
    mechanisms.enable_plain(async (username, password) => {
      const r = await this.auth.authenticate(username ?? undefined, password ?? '', '');
      if (r.ok) {
        state.principal = r.principal;
        return true;
      }
      this.refusalCounters.count('sasl', r.reason === 'BAD_CREDENTIALS' ? 'bad_credentials' : 'not_authorized');
      this.refusals.warn('amqp:sasl', { conn: id, remote, username, reason: r.reason }, 'amqp: SASL authentication refused');
      // The outcome goes out when this resolves; then the connection ends.
      setImmediate(() => guarded.end());
      return false;
    });
    const conn = container.create_connection({
      id,
      container_id: cfg.containerId,
      max_frame_size: cfg.maxFrameSize,
      channel_max: cfg.maxSessionsPerConnection - 1,
      idle_time_out: cfg.idleTimeoutMs > 0 ? cfg.idleTimeoutMs : undefined,
      require_sasl: !anonymousAllowed,
      reconnect: false,
      receiver_options: { credit_window: 0, autoaccept: false },
      sender_options: { autosettle: true, treat_modified_as_released: false },
    } as never) as unknown as RheaConnection;
    serveConnection(conn);
    const openTimer = setTimeout(() => {
      this.refusalCounters.count('open', 'open_timeout');
      this.refusals.warn('amqp:open', { conn: id, remote, reason: `no open within ${cfg.openTimeoutSeconds} s` }, 'amqp: connection refused');
      guarded.destroy();
    }, cfg.openTimeoutSeconds * 1000);
    openTimer.unref();
    this.wire(state, conn, openTimer);
    conn.accept(guarded);
  }

  private wire(state: ConnState, conn: RheaConnection, openTimer: NodeJS.Timeout): void {
    const log = this.opts.logger;
    const guard = (what: string, fn: (ctx: RheaContext) => void) => (ctx: RheaContext) => {
      try {
        fn(ctx);
      } catch (err) {
        log.error({ conn: state.id, event: what, err: (err as Error).stack }, 'amqp: handler failed; closing the connection');
        state.socket.closeWithError(Condition.INTERNAL_ERROR, `internal error: ${(err as Error).message}`);
      }
    };
    conn.on(
      'connection_open',
      guard('open', (ctx) => {
        clearTimeout(openTimer);
        const containerId = ctx.connection.remote.open?.container_id ?? '';
        // The container id names durable subscriptions and MQTT-style client ids: the rules of link names.
        const bad = containerId.length > MAX_LINK_NAME_LENGTH ? `more than ${MAX_LINK_NAME_LENGTH} characters` : illegalCharacterIn(containerId);
        if (bad) {
          state.principal = null;
          this.refusalCounters.count('open', 'invalid_container_id');
          this.refusals.warn('amqp:open', { conn: state.id, remote: state.remote, reason: `container-id has ${bad}` }, 'amqp: connection refused');
          conn.close({ condition: Condition.INVALID_FIELD, description: `container-id has ${bad}` });
          return;
        }
        if (!state.principal && this.anonymous) state.principal = { ...this.anonymous, clientId: containerId };
        else if (state.principal) state.principal = { ...state.principal, clientId: containerId };
        if (!state.principal) {
          // Cannot happen with SASL required, but never serve an unauthenticated peer.
          this.refusalCounters.count('open', 'authentication_required');
          this.refusals.warn('amqp:open', { conn: state.id, remote: state.remote, containerId, reason: 'authentication required' }, 'amqp: connection refused');
          conn.close({ condition: Condition.UNAUTHORIZED_ACCESS, description: 'authentication required' });
          return;
        }
        log.debug?.({ conn: state.id, remote: state.remote, containerId, user: state.principal.username }, 'amqp: connection open');
      }),
    );
    conn.on(
      'receiver_open',
      guard('attach', (ctx) => this.attachIncoming(state, ctx.receiver!)),
    );
    conn.on(
      'sender_open',
      guard('attach', (ctx) => this.attachOutgoing(state, ctx.sender!)),
    );
    conn.on(
      'message',
      guard('transfer', (ctx) => state.incoming.get(ctx.receiver!)?.onMessage(ctx.delivery!, ctx.message)),
    );
    for (const outcome of ['accepted', 'released', 'modified', 'rejected', 'settled'] as const) {
      conn.on(
        outcome,
        guard(outcome, (ctx) => state.outgoing.get(ctx.sender!)?.link.settled(ctx.delivery!, outcome)),
      );
    }
    const pump = guard('flow', (ctx) => state.outgoing.get(ctx.sender!)?.handle.reader.pump());
    conn.on('sendable', pump);
    conn.on('sender_flow', pump);
    conn.on('sender_draining', pump);
    conn.on(
      'receiver_close',
      guard('detach', (ctx) => this.linkGone(state, ctx.receiver!)),
    );
    conn.on(
      'sender_close',
      guard('detach', (ctx) => this.linkGone(state, ctx.sender!)),
    );
    // Errors in a peer's detach/end/close are its business; handling them keeps rhea from raising them.
    for (const ev of ['receiver_error', 'sender_error', 'session_error', 'connection_error']) conn.on(ev, () => {});
    conn.on(
      'session_close',
      guard('end', (ctx) => this.sessionGone(state, ctx.session!)),
    );
    // rhea reports a lost socket as disconnected and an orderly close as connection_close.
    const lost = () => {
      clearTimeout(openTimer);
      this.connectionLost(state);
    };
    conn.on('disconnected', lost);
    conn.on('connection_close', lost);
    state.socket.socket.once('close', lost);
    conn.on('protocol_error', (err) => this.peerError(state, err as unknown as Error));
    conn.on('error', (err) => this.peerError(state, err as unknown as Error));
  }

  /** rhea found bytes it cannot accept inside well-sized frames: close that connection with the matching error. */
  private peerError(state: ConnState, err: Error): void {
    this.counters.connectionErrors++;
    const condition = conditionOfPeerError(err);
    this.refusalCounters.count(
      'protocol',
      condition === Condition.FRAMING_ERROR ? 'framing_error' : condition === Condition.DECODE_ERROR ? 'decode_error' : 'protocol_violation',
    );
    this.refusals.warn(
      'amqp:protocol',
      { conn: state.id, remote: state.remote, condition, err: err.message },
      'amqp: closing connection after a protocol error',
    );
    state.socket.closeWithError(condition, err.message);
  }

  private onGuardFailure(id: string, remote: string, f: GuardFailure): void {
    this.counters.connectionErrors++;
    this.refusalCounters.count('protocol', f.kind);
    this.refusals.warn(
      'amqp:protocol',
      { conn: id, remote, phase: f.phase, condition: f.condition, description: f.description },
      'amqp: closing connection after a framing error',
    );
  }

  /** Answers the attach and detaches at once with an error (spec 2.6.3: the session and connection stay). */
  private refuse(state: ConnState, link: RheaLink, condition: string, description: string): void {
    const containerId = link.connection.remote.open?.container_id ?? '';
    this.refusalCounters.count('attach', attachRefusalReason(condition));
    this.refusals.warn('amqp:attach', { conn: state.id, remote: state.remote, containerId, link: link.name, condition, description }, 'amqp: link refused');
    link.close({ condition, description });
  }

  private admit(state: ConnState, link: RheaLink): boolean {
    if (state.links >= this.config.maxLinksPerConnection) {
      this.refuse(state, link, Condition.RESOURCE_LIMIT_EXCEEDED, `at most ${this.config.maxLinksPerConnection} links per connection`);
      return false;
    }
    state.links++;
    state.attaching.add(link);
    return true;
  }

  /**
   * The address a link attaches to (its target when it sends, its source when it receives), or
   * null once the attach is refused: too many links, a dynamic node, an illegal address, or
   * `check` throwing an AddressError.
   */
  private attachAddress(
    state: ConnState,
    link: RheaLink,
    terminus: Terminus | null,
    role: 'send' | 'receive',
    check?: (a: AmqpAddress) => void,
  ): AmqpAddress | null {
    // An attach pipelined behind a refused open: the connection is closing, nothing is served.
    if (!state.principal) return null;
    if (!this.admit(state, link)) return null;
    try {
      checkLinkName(link.name);
      if (terminus?.dynamic) throw new AddressError(Condition.NOT_IMPLEMENTED, 'dynamic nodes are not supported');
      const address = parseAddress(terminus?.address ?? undefined, this.config, role);
      check?.(address);
      return address;
    } catch (err) {
      this.refuseAttaching(state, link, err);
      return null;
    }
  }

  /** A client's sending link (Apogee receives). */
  private attachIncoming(state: ConnState, link: RheaReceiver): void {
    const remote = link.remote.attach!;
    const target = (remote.target ?? null) as Terminus | null;
    const address = this.attachAddress(state, link, target, 'send');
    if (!address) return;
    link.set_source(remote.source ?? {});
    link.set_target(target);
    link.local.attach.max_message_size = this.config.maxMessageSize;
    link.local.attach.rcv_settle_mode = 0;
    if (remote.snd_settle_mode !== undefined) link.local.attach.snd_settle_mode = remote.snd_settle_mode;
    const allowed = this.auth.canPublish(state.principal!, address.aclName);
    this.readers.ensureTopic(address).then(
      (topic) => {
        state.attaching.delete(link);
        if (!link.is_open()) {
          state.links--; // detached while the topic was looked up
          return;
        }
        if (!topic) return this.refuseAttached(state, link, Condition.NOT_FOUND, `${address.address} does not exist and auto-creation is off`);
        const socket = state.socket;
        const sock = socket.socket;
        const il = new IncomingLink(link, {
          broker: this.opts.broker,
          cfg: this.config,
          log: this.opts.logger,
          refusals: this.refusals,
          refusalCounters: this.refusalCounters,
          peer: { conn: state.id, remote: state.remote },
          address,
          topic: address.storeTopic,
          queueId: queueIdFor(address, link.name, topic.writeQueueNums),
          allowed,
          bornHost: sock.remoteAddress ? peerHost(sock.remoteAddress, sock.remotePort) : undefined,
          wasOversize: () => socket.takeOversize(link.session.remote.channel ?? 0, link.remote.handle ?? 0),
          counters: this.counters,
          confirms: this.confirms,
        });
        state.incoming.set(link, il);
        il.start();
      },
      (err: unknown) => {
        state.attaching.delete(link);
        this.refuseAttached(state, link, Condition.INTERNAL_ERROR, `cannot open ${address.address}: ${(err as Error).message}`);
      },
    );
  }

  /** A client's receiving link (Apogee sends). */
  private attachOutgoing(state: ConnState, link: RheaSender): void {
    const remote = link.remote.attach!;
    const source = (remote.source ?? null) as Terminus | null;
    const address = this.attachAddress(state, link, source, 'receive', (a) => {
      // A queue or dead-letter reader takes every message of its store topic (a plain queue's
      // topic also holds MQTT publishes under `<queue>/…`): the rules must cover all of it.
      const whole = a.kind === 'topic' || this.auth.mayAccessStoreTopic(state.principal!, a.storeTopic, 'read');
      if (!whole || !this.auth.canSubscribe(state.principal!, a.aclName))
        throw new AddressError(Condition.UNAUTHORIZED_ACCESS, `not authorized to receive from ${a.address}`);
    });
    if (!address) return;
    link.set_source(source);
    link.set_target(remote.target ?? {});
    // The receiver chooses: settled = at most once; otherwise Apogee waits for its outcome.
    link.local.attach.snd_settle_mode = remote.snd_settle_mode === 1 ? 1 : 0;
    link.local.attach.rcv_settle_mode = remote.rcv_settle_mode ?? 0;
    const durable = address.kind === 'topic' && ((source?.durable ?? 0) > 0 || source?.expiry_policy === 'never');
    const principal = state.principal!;
    const containerId = link.connection.remote.open?.container_id ?? '';
    const req = { address, subscription: durable ? { containerId, linkName: link.name } : null, canRead: (t: string) => this.auth.canRead(principal, t) };
    // A topic subscription reads its filter's LMQ and needs no store topic to read: it is
    // registered at once (before the attach is answered), so a message sent right after the
    // attach is not missed; the store topic is still looked up (and created) as for a queue.
    const early =
      address.kind === 'topic' && (this.config.autoCreate || this.opts.broker.topics.get(address.storeTopic)) ? this.readers.acquire(req, null) : null;
    this.readers
      .ensureTopic(address)
      .then(async (topic) => {
        if (early) return early;
        if (!topic) return null;
        return this.readers.acquire(req, topic);
      })
      .then(
        (handle) => {
          state.attaching.delete(link);
          if (!handle) return this.refuseAttached(state, link, Condition.NOT_FOUND, `${address.address} does not exist and auto-creation is off`);
          if (!link.is_open()) {
            void this.readers.release(handle);
            state.links--; // detached while the reader opened
            return;
          }
          const trace = { tracer: this.opts.broker.tracer, client: containerId, remoteAddress: state.remote };
          const ol = new OutgoingLink(link, handle.reader, state.socket, this.config.maxUnsettledPerLink, this.opts.logger, this.counters, trace);
          state.outgoing.set(link, { link: ol, handle, durable });
          handle.reader.add(ol);
        },
        (err: unknown) => {
          state.attaching.delete(link);
          // The store topic's lookup failed after the subscription was registered: let it go.
          early?.then((h) => this.readers.release(h)).catch(() => {});
          this.refuseAttached(state, link, Condition.INTERNAL_ERROR, `cannot open ${address.address}: ${(err as Error).message}`);
        },
      );
  }

  private refuseAttaching(state: ConnState, link: RheaLink, err: unknown): void {
    state.attaching.delete(link);
    state.links--;
    if (err instanceof AddressError) return this.refuse(state, link, err.condition, err.description);
    throw err;
  }

  private refuseAttached(state: ConnState, link: RheaLink, condition: string, description: string): void {
    state.links--;
    if (link.is_open()) this.refuse(state, link, condition, description);
  }

  /** The peer detached a link. A durable subscription detached with closed=true is deleted (spec 3.5.3). */
  private linkGone(state: ConnState, link: RheaLink): void {
    if (state.attaching.has(link)) return; // counted down when its attach resolves
    this.linkLost(state, link, link.remote.detach?.closed === true);
  }

  private sessionGone(state: ConnState, session: RheaSession): void {
    for (const l of [...state.incoming.keys(), ...state.outgoing.keys()]) if (l.session === session) this.linkLost(state, l);
  }

  private connectionLost(state: ConnState): void {
    if (!this.connections.delete(state)) return;
    for (const l of [...state.incoming.keys(), ...state.outgoing.keys()]) this.linkLost(state, l);
    state.attaching.clear();
  }

  /**
   * A link ended (detached, or with its session or connection): its reader reference goes;
   * durable subscriptions keep their position unless `closeDurable` (a detach with closed=true).
   */
  private linkLost(state: ConnState, link: RheaLink, closeDurable = false): void {
    if (state.incoming.delete(link)) {
      state.links--;
      return;
    }
    const o = state.outgoing.get(link);
    if (!o) return;
    state.outgoing.delete(link);
    state.links--;
    o.link.close();
    void this.readers
      .release(o.handle, o.durable && closeDurable)
      .catch((err: unknown) => this.opts.logger.warn({ err: (err as Error).message }, 'amqp: closing a reader failed'));
  }
}
