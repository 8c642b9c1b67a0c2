import net from 'node:net';
import tls from 'node:tls';
import { type RemotingCommand, isResponse, isOneway } from '../command.js';
import { Connection, type ConnectionOptions } from './connection.js';
import { RemotingConnectionError } from './errors.js';
import { PendingRequests } from './pending.js';
import type { RequestHandler } from './server.js';

/** A connection and the requests awaiting a response on it. */
interface Link {
  conn: Connection;
  pending: PendingRequests;
}

export interface RemotingClientOptions extends ConnectionOptions {
  /** Default timeout of invoke(). Default 3,000 ms (RocketMQ's send default). */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
  /**
   * Called on every outgoing request just before it is encoded, e.g. aclSigner(credentials) to
   * sign it (RocketMQ's RPCHook.doBeforeRequest). It may change the request's extension fields.
   */
  beforeRequest?: (request: RemotingCommand) => void;
  /**
   * Connect over TLS with these options (CA, client certificate and key, rejectUnauthorized,
   * servername; host and port come from the address). Default: plain TCP.
   */
  tls?: tls.ConnectionOptions;
}

/**
 * The client side: one connection per "host:port", opened on first use; requests correlated with
 * responses by opaque; requests from the server (broker → client calls) dispatched to handlers.
 */
export class RemotingClient {
  private readonly conns = new Map<string, Promise<Link>>();
  /** Established links by address: requests on them skip the connection promise. */
  private readonly open = new Map<string, Link>();
  private readonly handlers = new Map<number, RequestHandler>();
  private nextOpaque = 1;
  private closed = false;

  constructor(private readonly opts: RemotingClientOptions = {}) {}

  register(code: number, handler: RequestHandler): this {
    this.handlers.set(code, handler);
    return this;
  }

  /**
   * Sends a request and resolves with its response (any response code). The request's opaque and
   * flag are set here (the caller hands over a fresh command; it is not copied).
   */
  invoke(addr: string, request: RemotingCommand, timeoutMs = this.opts.requestTimeoutMs ?? 3000): Promise<RemotingCommand> {
    const link = this.open.get(addr);
    if (link && !link.conn.isClosed) return this.sendOn(link, request, timeoutMs);
    return this.connection(addr).then((l) => this.sendOn(l, request, timeoutMs));
  }

  private sendOn(link: Link, request: RemotingCommand, timeoutMs: number): Promise<RemotingCommand> {
    const opaque = this.nextOpaque++;
    const p = link.pending.add(opaque, request.code, timeoutMs);
    request.opaque = opaque;
    request.flag &= ~3;
    try {
      this.opts.beforeRequest?.(request);
      link.conn.send(request);
    } catch (err) {
      // An unencodable request fails its own promise (never an orphaned pending entry).
      link.pending.fail(opaque, err instanceof Error ? err : new Error(String(err)));
    }
    return p;
  }

  /** Sends a request that gets no response. */
  async oneway(addr: string, request: RemotingCommand): Promise<void> {
    const link = this.open.get(addr);
    const { conn } = link && !link.conn.isClosed ? link : await this.connection(addr);
    request.opaque = this.nextOpaque++;
    request.flag = (request.flag | 2) & ~1;
    this.opts.beforeRequest?.(request);
    conn.send(request);
  }

  close(): void {
    this.closed = true;
    this.open.clear();
    for (const c of this.conns.values())
      void c.then(
        (link) => link.conn.close(),
        () => {},
      );
    this.conns.clear();
  }

  private connection(addr: string): Promise<Link> {
    if (this.closed) return Promise.reject(new RemotingConnectionError('client closed'));
    let c = this.conns.get(addr);
    if (!c) {
      c = this.connect(addr);
      this.conns.set(addr, c);
      c.catch(() => this.conns.delete(addr));
    }
    return c;
  }

  private connect(addr: string): Promise<Link> {
    const colon = addr.lastIndexOf(':');
    const host = addr.slice(0, colon).replace(/^\[|\]$/g, '');
    const port = Number(addr.slice(colon + 1));
    if (colon <= 0 || !Number.isInteger(port)) return Promise.reject(new RemotingConnectionError(`bad address ${JSON.stringify(addr)}; expected host:port`));
    return new Promise((resolve, reject) => {
      const tlsOptions = this.opts.tls;
      const socket = tlsOptions ? tls.connect({ ...tlsOptions, host, port }) : net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RemotingConnectionError(`connect to ${addr} timed out`));
      }, this.opts.connectTimeoutMs ?? 3000);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new RemotingConnectionError(`connect to ${addr} failed: ${err.message}`, err));
      });
      socket.once(tlsOptions ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        const pending = new PendingRequests();
        const conn = new Connection(socket, (cmd) => this.onCommand(cmd, conn, pending), this.opts);
        const link: Link = { conn, pending };
        this.open.set(addr, link);
        conn.onClose(() => {
          if (this.open.get(addr) === link) this.open.delete(addr);
          void this.conns.get(addr)?.then((l) => {
            if (l === link) this.conns.delete(addr);
          });
          // Requests on this connection cannot be answered any more.
          pending.failAll(new RemotingConnectionError(`connection to ${addr} closed`));
        });
        resolve(link);
      });
    });
  }

  private onCommand(cmd: RemotingCommand, conn: Connection, pending: PendingRequests): void {
    if (isResponse(cmd)) {
      pending.complete(cmd);
      return;
    }
    const handler = this.handlers.get(cmd.code);
    if (!handler) return;
    void Promise.resolve()
      .then(() => handler(cmd, conn))
      .then((res) => {
        if (res && !isOneway(cmd)) conn.send({ ...res, opaque: cmd.opaque, flag: res.flag | 1 });
      })
      .catch(() => {});
  }
}
