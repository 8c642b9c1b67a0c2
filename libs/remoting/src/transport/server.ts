import net from 'node:net';
import { ConnectionCap, type RateLimitedWarnings } from '@apogee/message';
import { type RemotingCommand, isResponse, isOneway } from '../command.js';
import { ResponseCode } from '../response-codes.js';
import { Connection, type ConnectionOptions } from './connection.js';
import { RemotingConnectionError } from './errors.js';
import { PartialFrameBudget } from './partial-frame-budget.js';
import { PendingRequests } from './pending.js';
import { responseTo } from './responses.js';

/** Handles one request; returns the response, or null for none (oneway requests). */
export type RequestHandler = (request: RemotingCommand, conn: Connection) => RemotingCommand | null | Promise<RemotingCommand | null>;

export interface RemotingServerOptions extends ConnectionOptions {
  /** Maps a handler error to the response sent back (default: SYSTEM_ERROR with the message). */
  errorResponse?: (request: RemotingCommand, err: unknown) => RemotingCommand;
  /** Called for connection errors worth logging (bad frames). */
  onConnectionError?: (conn: Connection, err: Error) => void;
  /**
   * Called for every request answered with a code other than SUCCESS — by its handler, by
   * `errorResponse` (then `err` is what the handler threw) or, for an unknown code, with
   * REQUEST_CODE_NOT_SUPPORTED — and for a oneway request that would have been answered so (it is
   * not). For logging refusals; which codes are worth a warning is the caller's business.
   */
  onNotSuccess?: (request: RemotingCommand, response: RemotingCommand, conn: Connection, err?: unknown) => void;
  /**
   * A connection with no bytes either way for this long is closed (RocketMQ's
   * serverChannelMaxIdleTimeSeconds, 120 s; its clients heartbeat every 30 s). 0 keeps idle
   * connections forever. Default DEFAULT_IDLE_TIMEOUT_MS.
   */
  idleTimeoutMs?: number;
  /**
   * A connection that has not completed its first frame this long after connecting is closed
   * (a client opens a channel to send on it). 0 for never. Default DEFAULT_FIRST_FRAME_TIMEOUT_MS.
   */
  firstFrameTimeoutMs?: number;
  /**
   * Most bytes of unfinished frames all connections together may hold; past it the connection
   * holding the most is closed. Default DEFAULT_PARTIAL_FRAME_BUDGET_BYTES.
   */
  partialFrameBudgetBytes?: number;
  /**
   * Runs before every request's handler (RocketMQ's RPC hook, e.g. ACL checks): a response
   * returned here is sent instead and the handler is not called.
   */
  guard?: (request: RemotingCommand, conn: Connection) => RemotingCommand | null;
  /** Called when a connection is closed for the partial-frame budget (for logging). */
  onBudgetClose?: (conn: Connection, heldBytes: number, totalBytes: number) => void;
  /**
   * Most connections open at once; a connection past it is closed as soon as it is accepted
   * (counted in `refusedConnections`, warned about through `warnings`). 0 for no limit. Default
   * DEFAULT_MAX_CONNECTIONS.
   */
  maxConnections?: number;
  /** The listener's name in warnings ("namesrv", "broker"). Default "remoting". */
  listenerName?: string;
  /** Where refused connections are reported (rate-limited). Default: nowhere. */
  warnings?: RateLimitedWarnings;
  /**
   * Wraps the handler of accepted sockets: what a socket passes before it is served (TLS: the
   * remoting TLS modes hand over a TLS socket after its handshake, or close the connection).
   * Default: sockets are served as accepted.
   */
  socketGate?: (serve: (socket: net.Socket) => void) => (socket: net.Socket) => void;
}

/** The per-listener limits an embedding server sets from its configuration (all optional, defaults above). */
export type RemotingListenerLimits = Pick<RemotingServerOptions, 'maxConnections' | 'idleTimeoutMs' | 'firstFrameTimeoutMs'>;

/** Default of RemotingServerOptions.maxConnections. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

/** Default of RemotingServerOptions.firstFrameTimeoutMs. */
export const DEFAULT_FIRST_FRAME_TIMEOUT_MS = 10_000;

/** Default of RemotingServerOptions.partialFrameBudgetBytes: 16 maximum-size frames. */
export const DEFAULT_PARTIAL_FRAME_BUDGET_BYTES = 256 * 1024 * 1024;

/** RocketMQ's default for closing an idle server-side channel (NettyServerConfig). */
export const DEFAULT_IDLE_TIMEOUT_MS = 120_000;

/**
 * The server side of the remoting protocol: a request-code dispatch table over framed
 * connections. Unknown codes are answered with REQUEST_CODE_NOT_SUPPORTED, never silence; a bad
 * frame closes that connection only. It can also send requests to a connected client (broker →
 * client calls) and await their responses.
 */
export class RemotingServer {
  private readonly handlers = new Map<number, RequestHandler>();
  private readonly server: net.Server;
  readonly connections = new Set<Connection>();
  private readonly pending = new PendingRequests();
  private nextOpaque = 1;
  private readonly closeListeners: Array<(conn: Connection) => void> = [];
  private readonly partial: PartialFrameBudget<Connection>;
  private readonly connectionOptions: RemotingServerOptions;
  private readonly cap: ConnectionCap;

  constructor(private readonly opts: RemotingServerOptions = {}) {
    this.cap = new ConnectionCap(opts.listenerName ?? 'remoting', opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS, opts.warnings);
    const serve = (socket: net.Socket) => this.accept(socket);
    this.server = net.createServer(opts.socketGate ? opts.socketGate(serve) : serve);
    this.partial = new PartialFrameBudget(opts.partialFrameBudgetBytes ?? DEFAULT_PARTIAL_FRAME_BUDGET_BYTES);
    this.connectionOptions = { ...opts, onPartialBytes: (conn, bytes) => this.onPartialBytes(conn, bytes) };
  }

  /** Connections closed at once because `maxConnections` were open. */
  get refusedConnections(): number {
    return this.cap.refused;
  }

  /** Bytes of unfinished frames all connections hold now. */
  get partialFrameBytes(): number {
    return this.partial.totalBytes;
  }

  private onPartialBytes(conn: Connection, bytes: number): void {
    const victim = this.partial.update(conn, bytes);
    if (victim) {
      const total = this.partial.totalBytes;
      const held = this.partial.heldBy(victim);
      this.opts.onBudgetClose?.(victim, held, total);
      victim.close(
        new RemotingConnectionError(
          `closed: it held ${held} of the ${total} bytes of unfinished frames all connections hold, over the budget of ${this.partial.limitBytes}`,
        ),
      );
    }
  }

  register(code: number, handler: RequestHandler): this {
    this.handlers.set(code, handler);
    return this;
  }

  onConnectionClosed(fn: (conn: Connection) => void): void {
    this.closeListeners.push(fn);
  }

  listen(port: number, host = '127.0.0.1'): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  /** Stops accepting, closes every connection, fails requests in flight. */
  close(): Promise<void> {
    for (const c of this.connections) c.close();
    this.pending.failAll(new RemotingConnectionError('server closed'));
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Sends a request to a client and awaits its response. */
  invoke(conn: Connection, request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    const opaque = this.nextOpaque++;
    const p = this.pending.add(opaque, request.code, timeoutMs);
    conn.send({ ...request, opaque });
    return p;
  }

  /** Sends a oneway request to a client. */
  oneway(conn: Connection, request: RemotingCommand): void {
    conn.send({ ...request, opaque: this.nextOpaque++, flag: (request.flag | 2) & ~1 });
  }

  /**
   * Serves one accepted socket (the plain listener's, or a TLS listener's once its handshake is
   * done): the connection cap, the first-frame and idle deadlines apply to every one.
   */
  accept(socket: net.Socket): void {
    if (!this.cap.admit(`${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`)) {
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    let firstFrame: NodeJS.Timeout | null = null;
    const conn = new Connection(
      socket,
      (cmd) => {
        if (firstFrame) {
          clearTimeout(firstFrame);
          firstFrame = null;
        }
        this.onCommand(cmd, conn);
      },
      this.connectionOptions,
    );
    this.connections.add(conn);
    const firstFrameMs = this.opts.firstFrameTimeoutMs ?? DEFAULT_FIRST_FRAME_TIMEOUT_MS;
    if (firstFrameMs > 0) {
      firstFrame = setTimeout(() => conn.close(new RemotingConnectionError(`closed: no complete frame within ${firstFrameMs} ms of connecting`)), firstFrameMs);
      firstFrame.unref();
    }
    const idle = this.opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    if (idle > 0) {
      socket.setTimeout(idle);
      socket.once('timeout', () => conn.close());
    }
    conn.onClose((err) => {
      if (firstFrame) clearTimeout(firstFrame);
      this.cap.release();
      this.connections.delete(conn);
      this.partial.remove(conn);
      if (err && (err as NodeJS.ErrnoException).code !== 'ECONNRESET') this.opts.onConnectionError?.(conn, err);
      for (const fn of this.closeListeners) fn(conn);
    });
  }

  private onCommand(cmd: RemotingCommand, conn: Connection): void {
    if (isResponse(cmd)) {
      this.pending.complete(cmd);
      return;
    }
    if (this.opts.guard) {
      let refusal: RemotingCommand | null;
      try {
        refusal = this.opts.guard(cmd, conn);
      } catch (err) {
        this.fail(cmd, conn, err);
        return;
      }
      if (refusal) {
        this.reply(cmd, conn, refusal);
        return;
      }
    }
    const handler = this.handlers.get(cmd.code);
    if (!handler) {
      const res = responseTo(cmd, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, `request code ${cmd.code} not supported`);
      this.opts.onNotSuccess?.(cmd, res, conn);
      if (!isOneway(cmd)) conn.send(res);
      return;
    }
    let result: RemotingCommand | null | Promise<RemotingCommand | null>;
    try {
      result = handler(cmd, conn);
    } catch (err) {
      this.fail(cmd, conn, err);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (res) => this.reply(cmd, conn, res),
        (err) => this.fail(cmd, conn, err),
      );
    } else {
      this.reply(cmd, conn, result);
    }
  }

  private reply(req: RemotingCommand, conn: Connection, res: RemotingCommand | null): void {
    if (!res) return;
    if (res.code !== ResponseCode.SUCCESS) this.opts.onNotSuccess?.(req, res, conn);
    if (isOneway(req)) return;
    // Handlers hand over a fresh response: stamped in place, not copied.
    res.opaque = req.opaque;
    res.flag |= 1;
    try {
      conn.send(res);
    } catch (err) {
      // A response that cannot be encoded becomes an error response, not an unhandled rejection.
      this.fail(req, conn, err);
    }
  }

  private fail(req: RemotingCommand, conn: Connection, err: unknown): void {
    const res = this.opts.errorResponse?.(req, err) ?? responseTo(req, ResponseCode.SYSTEM_ERROR, err instanceof Error ? err.message : String(err));
    this.opts.onNotSuccess?.(req, res, conn, err);
    if (!isOneway(req)) conn.send(res);
  }
}
