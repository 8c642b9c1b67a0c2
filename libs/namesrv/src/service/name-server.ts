import { RateLimitedWarnings } from '@apogee/message';
import {
  AccessValidator,
  type AccessValidatorOptions,
  RemotingServer,
  type RemotingListenerLimits,
  type RemotingServerOptions,
  aclRefusal,
  ipOfPeer,
} from '@apogee/remoting';
import { KvConfigStore } from '../kv-config.js';
import { RouteRegistry } from '../route-registry.js';
import type { BrokerMember } from '../types.js';
import { NAMESRV_HANDLERS, errorResponse, guarded, type NamesrvContext } from './handlers.js';
import { type NamesrvLogger, refusalLog } from './refusal-log.js';

export interface NameServerOptions {
  /** KV config file (kvConfig.json layout); in memory only without it. */
  kvFile?: string;
  /** Milliseconds since the epoch; injected so broker expiry is testable. Default Date.now. */
  clock?: () => number;
  /** Period of the broker expiry scan (RocketMQ: 5 s). Default 5000. */
  scanIntervalMs?: number;
  /**
   * Where refused requests are reported (a rate-limited warning naming the client, the request and
   * the reason; expected answers such as the route of a missing topic at debug). Default: nowhere.
   */
  logger?: NamesrvLogger;
  /**
   * RocketMQ ACL 1.0 signature checks on every request (Apache 4.x checks none here): with
   * `allowAnonymous` false an unsigned route query, topic list or broker registration is refused
   * with SYSTEM_ERROR and Apache's remark texts. Absent: nothing is checked.
   */
  access?: AccessValidatorOptions;
  /** Connection cap, first-frame and idle deadlines of the listener (RemotingServer's defaults when absent). */
  limits?: RemotingListenerLimits;
  /** What accepted sockets pass before they are served (the remoting TLS modes); see RemotingServerOptions.socketGate. */
  socketGate?: RemotingServerOptions['socketGate'];
}

/**
 * The NameServer over sockets: RocketMQ's NameServer requests (100–106, 322, 904) answered from a
 * RouteRegistry and a KvConfigStore. Brokers are dropped when their connection closes or when
 * the periodic scan finds them silent for longer than their timeout (default 120 s). Other
 * request codes get REQUEST_CODE_NOT_SUPPORTED from the transport.
 */
export class NameServer {
  readonly registry: RouteRegistry;
  private readonly clock: () => number;
  private readonly scanIntervalMs: number;
  private readonly kvFile: string | undefined;
  private readonly logger: NamesrvLogger | undefined;
  private readonly socketGate: RemotingServerOptions['socketGate'];
  private readonly warnings: RateLimitedWarnings | undefined;
  private readonly limits: RemotingListenerLimits;
  private kvStore: KvConfigStore | undefined;
  private server: RemotingServer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private validator: AccessValidator | undefined;

  constructor(options: NameServerOptions = {}) {
    this.validator = options.access ? new AccessValidator(options.access) : undefined;
    this.clock = options.clock ?? Date.now;
    this.scanIntervalMs = options.scanIntervalMs ?? 5000;
    if (!(this.scanIntervalMs > 0)) throw new RangeError(`scanIntervalMs must be positive, got ${this.scanIntervalMs}`);
    this.kvFile = options.kvFile;
    this.logger = options.logger;
    this.limits = options.limits ?? {};
    this.socketGate = options.socketGate;
    this.warnings = options.logger ? new RateLimitedWarnings(options.logger) : undefined;
    // orderTopicConf in routes is read from the KV store once it is open.
    this.registry = new RouteRegistry({ clock: this.clock, kv: { get: (ns, key) => this.kvStore?.get(ns, key) } });
  }

  /**
   * Puts new accounts in force for the next request (an edited `auth` section). Only a NameServer
   * started with access checking takes them: ACL cannot be switched on or off while it runs.
   * Throws, changing nothing, when an account is malformed.
   */
  replaceAccess(access: AccessValidatorOptions): void {
    if (this.validator === undefined) throw new Error('this NameServer was started without access checking');
    this.validator = new AccessValidator(access);
  }

  /** The KV config store (available once started). */
  get kv(): KvConfigStore {
    if (this.kvStore === undefined) throw new Error('NameServer not started');
    return this.kvStore;
  }

  /** Opens the KV store, listens, starts the expiry scan; resolves to "host:port". */
  async start(port: number, host = '127.0.0.1'): Promise<string> {
    if (this.server !== undefined) throw new Error('NameServer already started');
    const kv = await KvConfigStore.open(this.kvFile === undefined ? {} : { file: this.kvFile });
    this.kvStore = kv;
    const ctx: NamesrvContext = { registry: this.registry, kv, clock: this.clock };
    const base = { ...this.limits, listenerName: 'namesrv', errorResponse, ...(this.warnings ? { warnings: this.warnings } : {}) };
    const server = new RemotingServer({
      ...base,
      ...(this.logger && this.warnings ? { onNotSuccess: refusalLog(this.logger, this.warnings) } : {}),
      ...(this.validator
        ? {
            guard: (req, conn) => {
              const d = this.validator!.validate(req, ipOfPeer(conn.remote));
              return d.ok ? null : aclRefusal(req, d.message);
            },
          }
        : {}),
      ...(this.socketGate ? { socketGate: this.socketGate } : {}),
    });
    for (const [code, handler] of NAMESRV_HANDLERS) server.register(code, guarded(ctx, handler));
    server.onConnectionClosed((conn) => {
      this.registry.onChannelClosed(conn);
    });
    this.server = server;
    const address = await server.listen(port, host);
    this.timer = setInterval(() => this.scanExpired(), this.scanIntervalMs);
    this.timer.unref();
    const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `${shownHost}:${address.port}`;
  }

  /** Open connections and those refused for the connection cap (metrics); zeros before start. */
  connectionStats(): { open: number; refused: number } {
    return { open: this.server?.connections.size ?? 0, refused: this.server?.refusedConnections ?? 0 };
  }

  /** One expiry scan now (what the interval runs); returns the dropped brokers. */
  scanExpired(): BrokerMember[] {
    return this.registry.scanExpired(this.clock());
  }

  /** Stops the scan, closes every connection and the listener, waits for KV writes. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await server.close();
    this.warnings?.flush();
    await this.kvStore?.flush().catch(() => undefined);
  }
}
