import { DEFAULT_TOPIC } from '@apogee/message';
import { type RemotingCommand, RemotingClient, RequestCode, ResponseCode, aclSigner, makeRequest, toExtFields } from '@apogee/remoting';
import { ClientError, ClientErrorCode } from '../errors.js';
import { type ClientLogger, silentLogger } from '../logger.js';
import { DEFAULT_TOPIC_QUEUE_NUMS } from '../protocol/codes.js';
import { type BrokerData, type TopicRoute, masterAddr, parseTopicRoute, routeFromDefault } from '../route/topic-route.js';
import { localIPv4 } from './local-ip.js';
import { type ClientOptions, nameServerList, transportTls } from './options.js';

interface CachedRoute {
  route: TopicRoute;
  /** True when the topic has no route of its own and this one comes from TBW102 (auto-create). */
  fromDefault: boolean;
}

let instanceCounter = 0;

/**
 * What every client object shares: one RemotingClient (a connection per address), the client id,
 * the NameServer list with failover, the topic route cache and the broker address table, and
 * timers/sleeps that all stop on close(). Background failures go to `onError`.
 */
export class ClientInstance {
  readonly clientId: string;
  readonly remoting: RemotingClient;
  readonly logger: ClientLogger;
  readonly requestTimeoutMs: number;
  onError: (err: unknown) => void = () => {};
  /** Called once for each broker address the first time a route names it. */
  onNewBrokerAddr: (addr: string) => void = () => {};

  private readonly nameServers: string[];
  private nsIndex = 0;
  private readonly routes = new Map<string, CachedRoute>();
  private readonly routeFetches = new Map<string, Promise<CachedRoute>>();
  private readonly brokers = new Map<string, BrokerData>();
  private readonly knownAddrs = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sleepers = new Set<() => void>();
  private closedFlag = false;

  constructor(opts: ClientOptions, remoting?: RemotingClient) {
    this.nameServers = nameServerList(opts.nameServer);
    if (this.nameServers.length === 0) throw new ClientError(ClientErrorCode.ILLEGAL_ARGUMENT, 'nameServer must name at least one "host:port"');
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 3000;
    this.logger = opts.logger ?? silentLogger;
    const tls = transportTls(opts.tls);
    this.remoting =
      remoting ??
      new RemotingClient({ requestTimeoutMs: this.requestTimeoutMs, connectTimeoutMs: this.requestTimeoutMs, ...signerOf(opts), ...(tls ? { tls } : {}) });
    const instance = opts.instanceName ?? `${process.pid}#${++instanceCounter}#${Date.now().toString(36)}`;
    this.clientId = `${localIPv4()}@${instance}`;
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Sends a request; network failures become ClientError NETWORK (any response code resolves). */
  invoke(addr: string, cmd: RemotingCommand, timeoutMs: number = this.requestTimeoutMs): Promise<RemotingCommand> {
    if (this.closedFlag) return Promise.reject(new ClientError(ClientErrorCode.STATE, 'client is shut down'));
    const code = cmd.code;
    return this.remoting.invoke(addr, cmd, timeoutMs).catch((err: unknown) => {
      throw networkError(addr, code, err);
    });
  }

  async oneway(addr: string, cmd: RemotingCommand): Promise<void> {
    if (this.closedFlag) throw new ClientError(ClientErrorCode.STATE, 'client is shut down');
    try {
      await this.remoting.oneway(addr, cmd);
    } catch (err) {
      throw networkError(addr, cmd.code, err);
    }
  }

  /** Asks the NameServers in turn, starting with the last one that answered, until one answers. */
  async invokeNameServer(cmd: RemotingCommand, timeoutMs: number = this.requestTimeoutMs): Promise<RemotingCommand> {
    let last: unknown;
    for (let i = 0; i < this.nameServers.length; i++) {
      const idx = (this.nsIndex + i) % this.nameServers.length;
      try {
        const res = await this.invoke(this.nameServers[idx]!, cmd, timeoutMs);
        this.nsIndex = idx;
        return res;
      } catch (err) {
        last = err;
        if (err instanceof ClientError && err.code === ClientErrorCode.STATE) throw err;
      }
    }
    throw last;
  }

  /**
   * Route of a topic, from the cache unless `force`. With `allowDefault`, a topic the NameServer
   * does not know gets the TBW102 route (the producer's auto-create path).
   */
  async getRoute(topic: string, opts: { force?: boolean; allowDefault?: boolean } = {}): Promise<CachedRoute> {
    const cached = this.routes.get(topic);
    if (cached && !opts.force) return cached;
    let p = this.routeFetches.get(topic);
    if (!p) {
      p = this.fetchRoute(topic, opts.allowDefault ?? false).finally(() => this.routeFetches.delete(topic));
      this.routeFetches.set(topic, p);
    }
    return p;
  }

  /** Topics whose routes are cached (and refreshed periodically). */
  cachedTopics(): string[] {
    return [...this.routes.keys()];
  }

  cachedRoute(topic: string): TopicRoute | undefined {
    return this.routes.get(topic)?.route;
  }

  /** Re-reads every cached route; failures go to onError and keep the old route. */
  async refreshRoutes(): Promise<void> {
    await Promise.all(
      [...this.routes].map(([topic, entry]) => this.getRoute(topic, { force: true, allowDefault: entry.fromDefault }).catch((err) => this.onError(err))),
    );
  }

  /** Address of broker `brokerName`, id `brokerId` if known, else its master. */
  brokerAddr(brokerName: string, brokerId = 0): string | undefined {
    const bd = this.brokers.get(brokerName);
    if (!bd) return undefined;
    return bd.brokerAddrs[String(brokerId)] ?? masterAddr(bd);
  }

  masterAddr(brokerName: string): string | undefined {
    const bd = this.brokers.get(brokerName);
    return bd ? masterAddr(bd) : undefined;
  }

  /** Master address of a broker, refreshing `topic`'s route once if it is unknown. */
  async requireMasterAddr(brokerName: string, topic: string): Promise<string> {
    let addr = this.masterAddr(brokerName);
    if (addr === undefined) {
      await this.getRoute(topic, { force: true }).catch(() => undefined);
      addr = this.masterAddr(brokerName);
    }
    if (addr === undefined) throw new ClientError(ClientErrorCode.NO_ROUTE, `no master address known for broker ${brokerName}`);
    return addr;
  }

  /** Addresses of the brokers named by the routes of `topics` (default: all cached routes). */
  brokerAddrs(opts: { mastersOnly: boolean; topics?: readonly string[] }): string[] {
    const names = new Set<string>();
    for (const topic of opts.topics ?? this.cachedTopics()) for (const bd of this.routes.get(topic)?.route.brokerDatas ?? []) names.add(bd.brokerName);
    const out = new Set<string>();
    for (const name of names) {
      const bd = this.brokers.get(name);
      if (!bd) continue;
      if (opts.mastersOnly) {
        const m = masterAddr(bd);
        if (m) out.add(m);
      } else for (const a of Object.values(bd.brokerAddrs)) out.add(a);
    }
    return [...out].sort();
  }

  /** Runs `fn` every `ms` (unref'd) until close(); errors go to onError. */
  every(ms: number, fn: () => Promise<void> | void): void {
    let running = false;
    const t = setInterval(() => {
      if (running || this.closedFlag) return;
      running = true;
      Promise.resolve()
        .then(fn)
        .catch((err) => this.onError(err))
        .finally(() => (running = false));
    }, ms);
    t.unref();
    this.timers.add(t);
  }

  /** Resolves after `ms`, or at once when the instance closes. The timer does not hold the process. */
  sleep(ms: number): Promise<void> {
    if (this.closedFlag) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.sleepers.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      t.unref();
      this.sleepers.add(done);
    });
  }

  /** Stops timers, wakes sleepers and closes every connection. */
  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    for (const wake of [...this.sleepers]) wake();
    this.remoting.close();
  }

  private async fetchRoute(topic: string, allowDefault: boolean): Promise<CachedRoute> {
    const res = await this.queryRoute(topic);
    if (res.code === ResponseCode.SUCCESS && res.body && res.body.length > 0)
      return this.store(topic, { route: parseTopicRoute(res.body), fromDefault: false });
    const notExist = res.code === ResponseCode.TOPIC_NOT_EXIST || res.code === ResponseCode.SUCCESS;
    if (!notExist) throw ClientError.fromResponse(`GET_ROUTEINFO_BY_TOPIC ${topic}`, res);
    if (allowDefault && topic !== DEFAULT_TOPIC) {
      const def = await this.queryRoute(DEFAULT_TOPIC);
      if (def.code === ResponseCode.SUCCESS && def.body && def.body.length > 0) {
        return this.store(topic, { route: routeFromDefault(parseTopicRoute(def.body), DEFAULT_TOPIC_QUEUE_NUMS), fromDefault: true });
      }
      throw new ClientError(
        ClientErrorCode.NO_ROUTE,
        `topic ${topic} does not exist and the default topic ${DEFAULT_TOPIC} has no route to auto-create it from`,
        {
          responseCode: res.code,
          remark: res.remark ?? '',
        },
      );
    }
    throw new ClientError(ClientErrorCode.NO_ROUTE, `no route for topic ${topic}: ${res.remark ?? 'TOPIC_NOT_EXIST'}`, {
      responseCode: res.code,
      remark: res.remark ?? '',
    });
  }

  private queryRoute(topic: string): Promise<RemotingCommand> {
    return this.invokeNameServer(makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: toExtFields({ topic, acceptStandardJsonOnly: true }) }));
  }

  private store(topic: string, entry: CachedRoute): CachedRoute {
    // A default-derived route never replaces a topic's real one.
    const prev = this.routes.get(topic);
    if (entry.fromDefault && prev && !prev.fromDefault) return prev;
    this.routes.set(topic, entry);
    for (const bd of entry.route.brokerDatas) {
      this.brokers.set(bd.brokerName, bd);
      for (const addr of Object.values(bd.brokerAddrs)) {
        if (this.knownAddrs.has(addr)) continue;
        this.knownAddrs.add(addr);
        this.onNewBrokerAddr(addr);
      }
    }
    return entry;
  }
}

function networkError(addr: string, code: number, err: unknown): ClientError {
  if (err instanceof ClientError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new ClientError(ClientErrorCode.NETWORK, `request ${code} to ${addr}: ${msg}`, { addr, cause: err });
}

export function isNetworkError(err: unknown): boolean {
  return err instanceof ClientError && err.code === ClientErrorCode.NETWORK;
}

/** The request signer for ClientOptions' keys; none without them, an error for half a pair. */
function signerOf(opts: ClientOptions): { beforeRequest?: (request: RemotingCommand) => void } {
  if (opts.accessKey === undefined && opts.secretKey === undefined) return {};
  if (!opts.accessKey || !opts.secretKey) throw new ClientError(ClientErrorCode.ILLEGAL_ARGUMENT, 'accessKey and secretKey go together');
  return {
    beforeRequest: aclSigner({
      accessKey: opts.accessKey,
      secretKey: opts.secretKey,
      ...(opts.securityToken === undefined ? {} : { securityToken: opts.securityToken }),
    }),
  };
}
