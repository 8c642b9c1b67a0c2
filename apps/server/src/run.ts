import type http from 'node:http';
import path from 'node:path';
import { Authorizer, Broker, parseAuthConfig } from '@apogee/broker';
import { AmqpGateway } from '@apogee/amqp';
import { BrokerRemotingService } from '@apogee/broker-remoting';
import { MqttGateway, listenWebSocket } from '@apogee/mqtt';
import { formatError } from '@apogee/message';
import { createLogger } from '@apogee/logging';
import { randomBytes } from 'node:crypto';
import { openStore } from '@apogee/store';
import { HaReplica, HaServer, SyncReplication } from '@apogee/ha';
import { advertisedIp, freePort } from './advertised-ip.js';
import type { ServerArgs } from './args.js';
import { amqpSettingsFrom, brokerSettingsFrom, mqttSettingsFrom } from './broker-settings.js';
import { httpLimitsFrom, remotingLimitsFrom } from './listener-limits.js';
import { memoryBudgetSettings } from './memory-budget.js';
import { startMetricsServer } from './metrics-http.js';
import { AdminApi } from './admin/admin-api.js';
import type { ReplicationView } from './admin/context.js';
import { AclEditor } from './admin/acl-editor.js';
import { embeddedNameServer, namesrvCredentialsFrom } from './embedded-namesrv.js';
import { recentLatencyMs } from './admin/recent-latency.js';
import { StatsSampler } from './admin/stats-sampler.js';
import { consoleStatic } from './console-static.js';
import { APOGEE_VERSION } from './version.js';
import { certificateName, serverTls as makeServerTls } from './tls-listeners.js';

/**
 * Runs the all-in-one server: store, NameServer, broker (remoting endpoint), MQTT, AMQP and the metrics port,
 * until SIGTERM/SIGINT; then closes everything in reverse order and flushes the store.
 */
export async function runServer(args: ServerArgs): Promise<void> {
  const log = createLogger({ level: args.logLevel });
  const stopRequested = watchStopSignals(log);
  const dataDir = path.resolve(args.dataDir);
  const brokerSettings = brokerSettingsFrom(args.brokerSettings, args.configFile ?? 'config');
  // -- memory budget: its shares, unless the config file's mqtt section sets recordCacheBytes --
  const budget = memoryBudgetSettings(args.memoryBudget);
  const mqttSettings = { ...budget.mqtt, ...mqttSettingsFrom(args.mqttSettings, args.configFile ?? 'config') };
  const amqpSettings = amqpSettingsFrom(args.amqpSettings, args.configFile ?? 'config');
  const authConfig = parseAuthConfig(args.authSettings, args.configFile ?? 'config');
  const remotingLimits = remotingLimitsFrom(args.remotingSettings, args.configFile ?? 'config');
  const httpLimits = httpLimitsFrom(args.httpSettings, args.configFile ?? 'config');
  const auth = new Authorizer(authConfig);
  // With an `auth` section, the remoting port and the NameServer check RocketMQ ACL 1.0 too.
  const aclOn = args.authSettings !== undefined;
  // The embedded broker signs its NameServer registrations with a credential made per start and
  // known only inside this process (docs/security.md).
  const internal = { accessKey: `apogee-broker-${randomBytes(8).toString('hex')}`, secretKey: randomBytes(24).toString('base64') };
  // Certificate files are checked before anything opens: a bad one stops the start with its name.
  const serverTls = makeServerTls(args, log);
  const tlsCtx = serverTls.context;
  if (tlsCtx) log.info({ ...tlsCtx.summary, clientAuth: tlsCtx.settings.clientAuth, remotingTls: serverTls.remotingMode }, 'apogee: TLS certificate loaded');
  const ip = advertisedIp(args.brokerIp, args.listenHost);
  const brokerPort = args.brokerPort === 0 ? await freePort(args.listenHost) : args.brokerPort;
  const advertised = `${ip}:${brokerPort}`;
  const store = await openStore(
    { dataDir: path.join(dataDir, 'store'), flushMode: args.flush, storeHost: { address: ip, port: brokerPort }, ...budget.store },
    log,
  );
  log.info({ dataDir, flush: args.flush, memoryBudgetMiB: args.memoryBudget, ...budget.store, ...budget.mqtt, ...store.stats() }, 'apogee: store open');
  const stopReloads = serverTls.watchReloads();
  const closers: Array<() => Promise<unknown>> = [() => store.close(), async () => stopReloads()];
  const tlsListeners: Record<string, string> = {};
  const shutdown = async () => {
    for (const c of closers.reverse()) {
      try {
        await c();
      } catch (err) {
        log.error({ err: formatError(err) }, 'apogee: error while stopping');
      }
    }
  };
  try {
    // A broker of a cluster registers with the NameServers it is given; else one runs here.
    const namesrv =
      args.namesrvAddrs.length === 0
        ? embeddedNameServer({
            dataDir,
            logger: log,
            limits: remotingLimits,
            socketGate: serverTls.remotingGate('namesrv'),
            acl: aclOn ? { auth, internal } : null,
          })
        : null;
    let namesrvAddr: string | null = null;
    if (namesrv) {
      const addr = await listenOrExplain(() => namesrv.start(args.namesrvPort, args.listenHost), 'NameServer', args.listenHost, args.namesrvPort);
      namesrvAddr = addr;
      closers.push(() => namesrv.close());
      log.info({ addr, tls: serverTls.remotingMode }, 'apogee: namesrv listening');
      if (serverTls.remotingMode !== 'disabled') tlsListeners['namesrv'] = `${addr} (${serverTls.remotingMode})`;
    } else log.info({ namesrv: args.namesrvAddrs }, 'apogee: no NameServer here: the broker registers with the ones given (--namesrv)');
    const registerWith = namesrvAddr === null ? args.namesrvAddrs : [namesrvAddr.replace(/^0\.0\.0\.0:/, '127.0.0.1:')];
    const namesrvCredentials = namesrv ? (aclOn ? internal : undefined) : namesrvCredentialsFrom(process.env);

    const replica = args.haMaster !== null;
    // A master streams its log to replicas from the HA port (registered with the NameServers as
    // haServerAddr, so it listens before the first registration); with --replication sync its
    // sends wait for the in-sync replicas.
    const ha = args.haPort !== null ? new HaServer({ store, log }) : null;
    const sync =
      ha && args.replication === 'sync' && !replica
        ? new SyncReplication({
            server: ha,
            store,
            minInSyncReplicas: args.minInSyncReplicas,
            onInSyncChange: (members) =>
              log.info({ inSync: members, copies: members.length + 1, min: args.minInSyncReplicas }, 'apogee: in-sync replicas changed'),
          })
        : null;
    if (sync) closers.push(async () => sync.close());
    const broker = await Broker.open({
      store,
      configDir: path.join(dataDir, 'config'),
      config: { ...brokerSettings, brokerName: args.brokerName, clusterName: args.clusterName },
      logger: log,
      role: replica ? 'replica' : 'master',
      ...(sync ? { replication: sync } : {}),
    });
    closers.push(() => broker.close());
    let haServerAddr: string | undefined;
    if (ha && args.haPort !== null) {
      const haPort = args.haPort;
      const server = ha;
      const haAddr = await listenOrExplain(() => server.listen(haPort, args.listenHost), 'HA port', args.listenHost, haPort);
      closers.push(() => server.close());
      haServerAddr = `${ip}:${haAddr.slice(haAddr.lastIndexOf(':') + 1)}`;
      log.info(
        { addr: haAddr, replication: args.replication, minInSyncReplicas: args.minInSyncReplicas },
        'apogee: HA port listening: replicas stream the commit log from here (no authentication: keep it private)',
      );
    }
    const brokerGate = serverTls.remotingGate('broker');
    const namesrvTls = serverTls.namesrvClientTls();
    const service = new BrokerRemotingService({
      broker,
      advertisedAddr: advertised,
      namesrvAddrs: registerWith,
      logger: log,
      limits: remotingLimits,
      ...(aclOn ? { auth, globalWhiteRemoteAddresses: authConfig.globalWhiteRemoteAddresses } : {}),
      ...(namesrvCredentials ? { namesrvCredentials } : {}),
      ...(brokerGate ? { socketGate: brokerGate } : {}),
      ...(namesrvTls ? { namesrvTls } : {}),
      brokerId: replica ? (args.brokerId ?? 1) : 0,
      ...(haServerAddr !== undefined ? { haServerAddr } : {}),
    });
    const bound = await listenOrExplain(() => service.start(brokerPort, args.listenHost), 'broker', args.listenHost, brokerPort);
    closers.push(() => service.close());
    let follower: HaReplica | null = null;
    if (args.haMaster !== null) {
      follower = new HaReplica({ store, master: hostPort(args.haMaster), replicaId: args.brokerId ?? 1, log });
      follower.start();
      const following = follower;
      closers.push(() => following.stop());
      log.info({ master: args.haMaster, brokerId: args.brokerId ?? 1 }, "apogee: replica: following the master's commit log; sends are refused here");
    }
    if (brokerGate) tlsListeners['broker'] = `${bound} (${serverTls.remotingMode})`;
    log.info(
      { listen: bound, advertised, brokerName: args.brokerName, cluster: args.clusterName, tls: serverTls.remotingMode },
      'apogee: broker listening; clients are told to connect to the advertised address',
    );
    if (aclOn)
      log.info(
        { accounts: auth.accounts().length, allowAnonymous: authConfig.allowAnonymous },
        'apogee: RocketMQ ACL 1.0 on the broker and NameServer ports (docs/security.md)',
      );

    // An endpoint switched off (`--mqtt-port off`, `--amqp-port off`) does not run; what it owns
    // in the engine (durable topic filters of its sessions and subscriptions) keeps working.
    let mqtt: MqttGateway | null = null;
    let mqttAddr: string | null = null;
    let mqttWsAddr: string | null = null;
    // A replica's endpoints would write (sessions, publishes): MQTT and AMQP clients use the master.
    const mqttPort = replica ? null : args.mqttPort;
    if (replica) log.info({}, 'apogee: replica: the MQTT and AMQP endpoints do not run here');
    if (mqttPort !== null) {
      const gateway = new MqttGateway({ broker, config: mqttSettings, auth, logger: log });
      mqtt = gateway;
      log.info({ users: authConfig.users.length, allowAnonymous: authConfig.allowAnonymous }, 'apogee: authentication for MQTT');
      mqttAddr = await listenOrExplain(() => gateway.listen(mqttPort, args.listenHost), 'MQTT endpoint', args.listenHost, mqttPort);
      closers.push(() => gateway.close());
      log.info({ addr: mqttAddr }, 'apogee: MQTT listening (3.1, 3.1.1, 5.0; see docs/mqtt.md for what is implemented)');
      const mqttsPort = args.mqttsPort;
      if (tlsCtx && mqttsPort !== null) {
        const addr = await listenOrExplain(
          () => gateway.listen(mqttsPort, args.listenHost, { name: 'mqtts', createServer: serverTls.tlsServer('mqtts'), certificateName }),
          'MQTT over TLS endpoint',
          args.listenHost,
          mqttsPort,
        );
        tlsListeners['mqtts'] = addr;
        log.info({ addr, useIdentityAsUsername: gateway.config.useIdentityAsUsername }, 'apogee: MQTT over TLS listening');
      }
      const wsPort = args.mqttWsPort;
      if (wsPort !== null) {
        const mqttWs = await listenOrExplain(() => listenWebSocket(gateway, wsPort, args.listenHost), 'MQTT WebSocket endpoint', args.listenHost, wsPort);
        closers.push(() => mqttWs.close());
        mqttWsAddr = mqttWs.addr;
        log.info({ addr: mqttWs.addr, path: '/mqtt' }, 'apogee: MQTT over WebSocket listening');
      } else log.info({}, 'apogee: MQTT over WebSocket is off (--mqtt-ws-port off)');
      const wssPort = args.mqttWssPort;
      if (tlsCtx && wssPort !== null) {
        const wss = await listenOrExplain(
          () =>
            listenWebSocket(gateway, wssPort, args.listenHost, '/mqtt', { name: 'mqtt-wss', createServer: serverTls.httpsServer('mqtt-wss'), certificateName }),
          'MQTT secure WebSocket endpoint',
          args.listenHost,
          wssPort,
        );
        closers.push(() => wss.close());
        tlsListeners['mqttWss'] = wss.addr;
        log.info({ addr: wss.addr, path: '/mqtt' }, 'apogee: MQTT over secure WebSocket listening');
      }
    } else if (!replica) log.info({}, 'apogee: the MQTT endpoint is off (--mqtt-port off)');

    let amqp: AmqpGateway | null = null;
    let amqpAddr: string | null = null;
    const amqpPort = replica ? null : args.amqpPort;
    if (amqpPort !== null) {
      const gateway = new AmqpGateway({ broker, config: amqpSettings, auth, logger: log });
      amqp = gateway;
      // With a certificate the plain port also serves AMQP's TLS protocol header (spec 5.2.1).
      const plainServer = tlsCtx ? serverTls.amqpHeaderServer('amqp') : undefined;
      amqpAddr = await listenOrExplain(() => gateway.listen(amqpPort, args.listenHost, plainServer), 'AMQP endpoint', args.listenHost, amqpPort);
      closers.push(() => gateway.close());
      log.info({ addr: amqpAddr, tlsHeader: tlsCtx !== null }, 'apogee: AMQP 1.0 listening (see docs/amqp.md)');
      if (tlsCtx) tlsListeners['amqpTlsHeader'] = amqpAddr;
      const amqpsPort = args.amqpsPort;
      if (tlsCtx && amqpsPort !== null) {
        const addr = await listenOrExplain(
          () => gateway.listen(amqpsPort, args.listenHost, serverTls.tlsServer('amqps'), 'amqps'),
          'AMQP over TLS endpoint',
          args.listenHost,
          amqpsPort,
        );
        tlsListeners['amqps'] = addr;
        log.info({ addr }, 'apogee: AMQP 1.0 over TLS listening');
      }
    } else if (!replica) log.info({}, 'apogee: the AMQP endpoint is off (--amqp-port off)');

    let http: http.Server | null = null;
    const adminDeps = {
      broker,
      mqtt,
      amqp,
      authConfig: () => auth.config,
      aclEditor: new AclEditor({ configFile: args.configFile, aclOn, authorizer: auth, log }),
      dataDir,
      version: APOGEE_VERSION,
      startedAt: Date.now(),
      fsyncLatencyMs: recentLatencyMs(broker.fsyncLatency),
      replication: () => replicationView(args, store.commitLogConfirmed, ha, follower, sync),
      listeners: () => ({ namesrv: namesrvAddr, broker: advertised, mqtt: mqttAddr, mqttWs: mqttWsAddr, amqp: amqpAddr, ...tlsListeners }),
    };
    const stats = new StatsSampler(adminDeps, () => (namesrv?.connectionStats().open ?? 0) + service.connectionStats().open);
    stats.start();
    closers.push(async () => stats.stop());
    const admin = new AdminApi({ ...adminDeps, stats }, auth, log);
    const mqttStats = mqtt ? () => mqtt.stats() : undefined;
    const amqpStats = amqp ? () => amqp.stats() : undefined;
    http = await listenOrExplain(
      () =>
        startMetricsServer(broker, args.httpPort, args.listenHost, {
          mqtt: mqttStats,
          amqp: amqpStats,
          limits: httpLimits,
          log,
          admin,
          dataDir,
          console: consoleStatic(),
          listeners: () => [...(namesrv ? [{ listener: 'namesrv', ...namesrv.connectionStats() }] : []), { listener: 'broker', ...service.connectionStats() }],
          createServer: tlsCtx ? serverTls.httpsServer('https') : undefined,
        }),
      'metrics HTTP',
      args.listenHost,
      args.httpPort,
    );
    const httpAddr = http.address();
    closers.push(() => new Promise<void>((r) => http!.close(() => r())));
    const httpShown = typeof httpAddr === 'object' && httpAddr ? `${httpAddr.address}:${httpAddr.port}` : String(httpAddr);
    if (tlsCtx) tlsListeners['https'] = httpShown;
    log.info({ addr: httpShown, https: tlsCtx !== null }, 'apogee: metrics on /metrics, the admin API on /api/v1');
    if (tlsCtx) log.info({ ...tlsListeners, clientAuth: tlsCtx.settings.clientAuth }, 'apogee: TLS listeners open');
    else log.info({}, 'apogee: no TLS listeners (no --tls-cert / --tls-key)');
    log.info({ role: broker.role, namesrv: namesrvAddr, broker: advertised, mqtt: mqttAddr, mqttWs: mqttWsAddr, amqp: amqpAddr }, 'apogee: ready');
  } catch (err) {
    await shutdown();
    throw err;
  }
  const keepAlive = setInterval(() => {}, 1 << 30);
  const signal = await stopRequested;
  log.info({ signal }, 'apogee: shutting down');
  clearInterval(keepAlive);
  await shutdown();
  log.info({}, 'apogee: stopped cleanly');
  log.flush();
}

/**
 * Resolves with the first SIGTERM or SIGINT. The handlers are installed before anything starts, so a
 * signal during start-up stops the server cleanly once it is up, and they stay installed: a repeated
 * signal while stopping (Ctrl-C reaches both `npm start` and the server, and npm forwards it again) is
 * logged, not left to Node's default action, which would end the process before the store is flushed.
 */
function watchStopSignals(log: { info(obj: object, msg: string): void }): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let first: NodeJS.Signals | null = null;
    const onSignal = (signal: NodeJS.Signals) => {
      if (first === null) {
        first = signal;
        resolve(signal);
      } else log.info({ signal }, 'apogee: already stopping; the store is being flushed (SIGKILL ends it at once)');
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

/** This broker's place in its group for the admin API's cluster view. */
function replicationView(args: ServerArgs, confirmed: number, ha: HaServer | null, follower: HaReplica | null, sync: SyncReplication | null): ReplicationView {
  if (follower && args.haMaster !== null)
    return { brokerId: args.brokerId ?? 1, role: 'SLAVE', following: { master: args.haMaster, connected: follower.connected, lagBytes: follower.lagBytes } };
  const view: ReplicationView = { brokerId: 0, role: 'MASTER' };
  if (ha) {
    const inSync = new Set(sync?.members() ?? []);
    view.replication = sync ? 'sync' : 'async';
    view.replicas = ha.replicas().map((r) => ({
      replicaId: r.replicaId,
      remote: r.remote,
      ackedOffset: r.ackedOffset,
      lagBytes: Math.max(0, confirmed - r.ackedOffset),
      ...(sync ? { inSync: inSync.has(r.replicaId) } : {}),
    }));
  }
  return view;
}

function hostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(addr.slice(i + 1)) };
}

async function listenOrExplain<T>(start: () => Promise<T>, what: string, host: string, port: number): Promise<T> {
  try {
    return await start();
  } catch (err) {
    throw new Error(`cannot start the ${what} on ${host}:${port}: ${(err as Error).message}`);
  }
}
