import type { Engine, Logger } from '@apogee/broker';
import { encodeRegisterBrokerBody, javaCrc32 } from '@apogee/namesrv';
import { type AclCredentials, RemotingClient, type RemotingClientOptions, RequestCode, ResponseCode, aclSigner, makeRequest } from '@apogee/remoting';

export interface RegistrarOptions {
  broker: Engine;
  namesrvAddrs: string[];
  /** Advertised "ip:port" clients connect to. */
  brokerAddr: string;
  logger: Logger;
  /** Re-registration period (RocketMQ registerNameServerPeriod, clamped 10–60 s). Default 30 s. */
  periodMs?: number;
  /** How long the NameServer may go without hearing from us. Default 120 s. */
  heartbeatTimeoutMs?: number;
  /** Signs every registration (a NameServer with anonymous access off); unsigned without. */
  credentials?: AclCredentials;
  /** TLS options for the NameServer connections (when they enforce TLS). Default: plain. */
  tls?: RemotingClientOptions['tls'];
  /** 0 for a group's master (default), > 0 for a replica (RocketMQ's brokerId). */
  brokerId?: number;
  /** The HA address registered beside the broker's (RocketMQ haServerAddr). Default empty. */
  haServerAddr?: string;
  /**
   * The group's epoch, sent as the registration's dataVersion.stateVersion (RocketMQ 5's controller
   * mode): a NameServer keeps a master id's address of the newer epoch, so a deposed master's late
   * registration cannot take the route back. Default 0.
   */
  stateVersion?: number;
}

/**
 * Keeps this broker registered with every NameServer: at start (at once, not after RocketMQ's
 * 10 s, so new topics are routable promptly), every period, and soon after any topic change
 * (coalesced); unregisters on close.
 */
export class NamesrvRegistrar {
  private readonly client: RemotingClient;
  private timer: NodeJS.Timeout | null = null;
  private pending: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;

  constructor(private readonly opts: RegistrarOptions) {
    this.client = new RemotingClient({
      requestTimeoutMs: 3000,
      ...(opts.credentials ? { beforeRequest: aclSigner(opts.credentials) } : {}),
      ...(opts.tls ? { tls: opts.tls } : {}),
    });
    opts.broker.topics.onChange(() => this.registerSoon());
  }

  async start(): Promise<void> {
    await this.registerAll();
    const period = Math.min(60_000, Math.max(10_000, this.opts.periodMs ?? 30_000));
    this.timer = setInterval(() => void this.registerAll(), period);
    this.timer.unref();
  }

  /** Registers within a few milliseconds; bursts of topic changes become one registration. */
  registerSoon(): void {
    if (this.closed || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      void this.registerAll();
    }, 5);
  }

  /** Resolves once every NameServer answered (or failed) a registration with the current topics. */
  registerAll(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await Promise.all(this.opts.namesrvAddrs.map((addr) => this.registerWith(addr)));
      } while (this.again && !this.closed);
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    await this.running;
    await Promise.all(
      this.opts.namesrvAddrs.map(async (addr) => {
        try {
          await this.client.invoke(addr, makeRequest(RequestCode.UNREGISTER_BROKER, { extFields: this.identity() }), 1000);
        } catch {
          // Best effort: the NameServer also drops us when the connection closes.
        }
      }),
    );
    this.client.close();
  }

  private identity(): Record<string, string> {
    const cfg = this.opts.broker.config;
    return { brokerName: cfg.brokerName, brokerAddr: this.opts.brokerAddr, clusterName: cfg.clusterName, brokerId: String(this.opts.brokerId ?? 0) };
  }

  private async registerWith(addr: string): Promise<void> {
    const topics = this.opts.broker.topics;
    const body = encodeRegisterBrokerBody({
      topicConfigs: topics.list().map((t) => ({
        topicName: t.topicName,
        readQueueNums: t.readQueueNums,
        writeQueueNums: t.writeQueueNums,
        perm: t.perm,
        topicSysFlag: t.topicSysFlag,
        order: t.order,
      })),
      dataVersion: { ...topics.dataVersion, stateVersion: this.opts.stateVersion ?? 0 },
      filterServerList: [],
    });
    const ext = {
      ...this.identity(),
      haServerAddr: this.opts.haServerAddr ?? '',
      heartbeatTimeoutMillis: String(this.opts.heartbeatTimeoutMs ?? 120_000),
      compressed: 'false',
      bodyCrc32: String(javaCrc32(body)),
    };
    try {
      const res = await this.client.invoke(addr, makeRequest(RequestCode.REGISTER_BROKER, { extFields: ext, body }));
      if (res.code !== ResponseCode.SUCCESS)
        this.opts.logger.warn({ namesrv: addr, code: res.code, remark: res.remark }, 'broker: NameServer refused registration');
    } catch (err) {
      this.opts.logger.warn({ namesrv: addr, err: (err as Error).message }, 'broker: cannot register with NameServer; will retry');
    }
  }
}
