import type { Authorizer, Engine, Logger } from '@apogee/broker';
import { RateLimitedWarnings } from '@apogee/message';
import {
  type AclCredentials,
  RemotingServer,
  type RemotingClientOptions,
  type RemotingListenerLimits,
  type RemotingServerOptions,
  RequestCode,
} from '@apogee/remoting';
import { RemotingAcl } from './acl/remoting-acl.js';
import { ChannelTable } from './channel.js';
import { errorResponse } from './errors-to-response.js';
import { NamesrvRegistrar } from './namesrv-registrar.js';
import * as admin from './processors/admin-processor.js';
import { checkClientConfig } from './processors/check-client-processor.js';
import * as client from './processors/client-processor.js';
import * as consumerManage from './processors/consumer-manage-processor.js';
import type { Processor, ProcessorContext } from './processors/context.js';
import { pullMessage } from './processors/pull-processor.js';
import * as query from './processors/query-processor.js';
import { sendMessage } from './processors/send-processor.js';
import * as transaction from './processors/transaction-processor.js';
import { RefusalLog } from './refusal-log.js';

export interface BrokerServiceOptions {
  broker: Engine;
  /** The address clients are told to connect to ("ip:port"); logged at start. */
  advertisedAddr: string;
  namesrvAddrs: string[];
  logger: Logger;
  /** Largest frame accepted. Default 16 MiB. */
  maxFrameSize?: number;
  /**
   * Users and rules (the config file's `auth` section): requests are checked with RocketMQ ACL
   * 1.0 against them. Absent: nothing is checked.
   */
  auth?: Authorizer;
  /** Remoting peers whose requests are not checked (RocketMQ globalWhiteRemoteAddresses). */
  globalWhiteRemoteAddresses?: readonly string[];
  /** What this broker signs its NameServer registrations with (a NameServer that checks signatures). */
  namesrvCredentials?: AclCredentials;
  /** Connection cap, first-frame and idle deadlines of the listener (RemotingServer's defaults when absent). */
  limits?: RemotingListenerLimits;
  /** What accepted sockets pass before they are served (the remoting TLS modes); see RemotingServerOptions.socketGate. */
  socketGate?: RemotingServerOptions['socketGate'];
  /** TLS options for the connections to the NameServers (when they enforce TLS). Default: plain. */
  namesrvTls?: RemotingClientOptions['tls'];
  /** The id registered with the NameServers: 0 for a group's master (default), > 0 for a replica. */
  brokerId?: number;
  /** The group's HA address ("ip:port") registered with the NameServers (RocketMQ haServerAddr); empty without. */
  haServerAddr?: string;
  /** The group's epoch, registered as dataVersion.stateVersion (see RegistrarOptions.stateVersion). */
  stateVersion?: number;
  /**
   * More fields for GET_BROKER_RUNTIME_INFO's table, read at each request: a replicated group's
   * broker adds its HA fields (brokerRole, masterEpoch, slaveFallBehindMuch, …). The broker's own
   * figures keep their values; a provider that throws is reported in `runtimeInfoError`.
   */
  runtimeInfoExtra?: () => Readonly<Record<string, string>>;
}

const PROCESSORS: ReadonlyArray<[number, Processor]> = [
  [RequestCode.SEND_MESSAGE, sendMessage],
  [RequestCode.SEND_MESSAGE_V2, sendMessage],
  [RequestCode.SEND_BATCH_MESSAGE, sendMessage],
  [RequestCode.PULL_MESSAGE, pullMessage],
  [RequestCode.LITE_PULL_MESSAGE, pullMessage],
  [RequestCode.QUERY_CONSUMER_OFFSET, consumerManage.queryConsumerOffset],
  [RequestCode.UPDATE_CONSUMER_OFFSET, consumerManage.updateConsumerOffset],
  [RequestCode.GET_MAX_OFFSET, consumerManage.getMaxOffset],
  [RequestCode.GET_MIN_OFFSET, consumerManage.getMinOffset],
  [RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, consumerManage.searchOffsetByTimestamp],
  [RequestCode.GET_EARLIEST_MSG_STORETIME, consumerManage.getEarliestMsgStoreTime],
  [RequestCode.HEART_BEAT, client.heartbeat],
  [RequestCode.UNREGISTER_CLIENT, client.unregisterClient],
  [RequestCode.GET_CONSUMER_LIST_BY_GROUP, client.getConsumerListByGroup],
  [RequestCode.LOCK_BATCH_MQ, client.lockBatchMq],
  [RequestCode.UNLOCK_BATCH_MQ, client.unlockBatchMq],
  [RequestCode.CONSUMER_SEND_MSG_BACK, client.consumerSendMsgBack],
  [RequestCode.CHECK_CLIENT_CONFIG, checkClientConfig],
  [RequestCode.QUERY_MESSAGE, query.queryMessage],
  [RequestCode.VIEW_MESSAGE_BY_ID, query.viewMessageById],
  [RequestCode.UPDATE_AND_CREATE_TOPIC, admin.updateAndCreateTopic],
  [RequestCode.DELETE_TOPIC_IN_BROKER, admin.deleteTopicInBroker],
  [RequestCode.GET_ALL_TOPIC_CONFIG, admin.getAllTopicConfig],
  [RequestCode.GET_TOPIC_STATS_INFO, admin.getTopicStatsInfo],
  [RequestCode.GET_CONSUME_STATS, admin.getConsumeStats],
  [RequestCode.GET_CONSUMER_CONNECTION_LIST, admin.getConsumerConnectionList],
  [RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, admin.queryTopicConsumeByWho],
  [RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, admin.updateAndCreateSubscriptionGroup],
  [RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, admin.getAllSubscriptionGroupConfig],
  [RequestCode.DELETE_SUBSCRIPTIONGROUP, admin.deleteSubscriptionGroup],
  [RequestCode.END_TRANSACTION, transaction.endTransaction],
  [RequestCode.APOGEE_LIST_OPEN_TRANSACTIONS, transaction.listOpenTransactions],
];

/**
 * The broker's RocketMQ remoting endpoint: request processors over the engine, channel
 * bookkeeping (a closed connection leaves its groups and lets go of held pulls), and NameServer
 * registration. Unknown request codes get REQUEST_CODE_NOT_SUPPORTED from the transport. Every
 * refused or failed request is logged (RefusalLog).
 */
export class BrokerRemotingService {
  private readonly server: RemotingServer;
  private readonly channels: ChannelTable;
  private readonly registrar: NamesrvRegistrar;
  private readonly refusals: RefusalLog;

  constructor(opts: BrokerServiceOptions) {
    const refusals = (this.refusals = new RefusalLog(opts.logger));
    const acl = opts.auth ? new RemotingAcl(opts.auth, opts.globalWhiteRemoteAddresses) : undefined;
    this.server = new RemotingServer({
      ...opts.limits,
      listenerName: 'broker',
      warnings: new RateLimitedWarnings(opts.logger),
      errorResponse,
      ...(acl ? { guard: acl.guard } : {}),
      ...(opts.maxFrameSize === undefined ? {} : { maxFrameSize: opts.maxFrameSize }),
      ...(opts.socketGate ? { socketGate: opts.socketGate } : {}),
      onNotSuccess: (req, res, conn, err) => refusals.notSuccess(req, res, conn, err, this.channels.existing(conn)?.clientId),
      onConnectionError: (conn, err) => refusals.badFrame(conn, err, this.channels.existing(conn)?.clientId),
    });
    this.channels = new ChannelTable(this.server);
    const ctx: ProcessorContext = { broker: opts.broker, server: this.server, channels: this.channels, brokerAddr: opts.advertisedAddr };
    const processors: ReadonlyArray<[number, Processor]> = [
      ...PROCESSORS,
      [RequestCode.GET_BROKER_RUNTIME_INFO, admin.getBrokerRuntimeInfo(opts.runtimeInfoExtra)],
    ];
    for (const [code, p] of processors) this.server.register(code, (req, conn) => p(ctx, req, conn));
    this.server.onConnectionClosed((conn) => {
      const ch = this.channels.existing(conn);
      if (!ch) return;
      ch.markClosed();
      opts.broker.channelClosed(ch);
    });
    this.registrar = new NamesrvRegistrar({
      broker: opts.broker,
      namesrvAddrs: opts.namesrvAddrs,
      brokerAddr: opts.advertisedAddr,
      logger: opts.logger,
      ...(opts.namesrvCredentials ? { credentials: opts.namesrvCredentials } : {}),
      ...(opts.namesrvTls ? { tls: opts.namesrvTls } : {}),
      ...(opts.brokerId !== undefined ? { brokerId: opts.brokerId } : {}),
      ...(opts.haServerAddr !== undefined ? { haServerAddr: opts.haServerAddr } : {}),
      ...(opts.stateVersion !== undefined ? { stateVersion: opts.stateVersion } : {}),
    });
  }

  /** Listens, then registers with the NameServers. Returns the bound "host:port". */
  async start(port: number, host: string): Promise<string> {
    const a = await this.server.listen(port, host);
    await this.registrar.start();
    return `${a.address}:${a.port}`;
  }

  /** Open connections and those refused for the connection cap (metrics). */
  connectionStats(): { open: number; refused: number } {
    return { open: this.server.connections.size, refused: this.server.refusedConnections };
  }

  /** Registers with the NameServers now (tests, admin). */
  register(): Promise<void> {
    return this.registrar.registerAll();
  }

  async close(): Promise<void> {
    await this.registrar.close();
    await this.server.close();
    this.refusals.flush();
  }
}
