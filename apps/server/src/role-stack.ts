import path from 'node:path';
import { type AuthConfig, type Authorizer, Broker, type CopiesOutcome, type ReplicationGate } from '@apogee/broker';
import { AmqpGateway } from '@apogee/amqp';
import { BrokerRemotingService } from '@apogee/broker-remoting';
import { MqttGateway, listenWebSocket } from '@apogee/mqtt';
import { formatError } from '@apogee/message';
import type { MessageStore } from '@apogee/store';
import { HaReplica, HaServer, SyncReplication } from '@apogee/ha';
import type { ServerArgs } from './args.js';
import type { amqpSettingsFrom, brokerSettingsFrom, mqttSettingsFrom } from './broker-settings.js';
import type { httpLimitsFrom, remotingLimitsFrom } from './listener-limits.js';
import { collectReplicationStats, replicationRuntimeInfo, startMetricsServer } from './metrics-http.js';
import { AdminApi } from './admin/admin-api.js';
import { AclEditor } from './admin/acl-editor.js';
import type { ReplicationView } from './admin/context.js';
import type { embeddedNameServer } from './embedded-namesrv.js';
import { recentLatencyMs } from './admin/recent-latency.js';
import { StatsSampler } from './admin/stats-sampler.js';
import { consoleStatic } from './console-static.js';
import { APOGEE_VERSION } from './version.js';
import { PreferredHandover } from './handover.js';
import { certificateName, type serverTls as makeServerTls } from './tls-listeners.js';

/** A broker's place in its group: the group's master at an epoch, or a replica following the master's HA port. */
export type StackRole = { kind: 'master'; epoch: number } | { kind: 'replica'; haMaster: string | null; epoch: number };

/** What a stack needs of the group controller (--controller): fencing and the in-sync set in etcd. */
export interface StackController {
  /** This broker's id in its group (in the in-sync set). */
  readonly brokerId: number;
  /** Whether this broker may ack a write now: the master, with its lease certainly alive. */
  canAck(): boolean;
  /** Writes the group's in-sync set (it includes the master) by CAS; false when that did not happen. */
  setInSync(members: readonly number[]): Promise<boolean>;
  /** The group's preferred master (--preferred-master), or null. */
  preferredBrokerId(): number | null;
  /** Gives the master role up (for the preferred master). */
  resign(): Promise<boolean>;
}

interface StackLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What every role's stack is built on: the process's settings and what outlives a role change (the store, the NameServer). */
export interface StackContext {
  args: ServerArgs;
  log: StackLogger & Parameters<typeof Broker.open>[0]['logger'];
  store: MessageStore;
  dataDir: string;
  ip: string;
  brokerPort: number;
  advertised: string;
  brokerSettings: ReturnType<typeof brokerSettingsFrom>;
  mqttSettings: ReturnType<typeof mqttSettingsFrom>;
  amqpSettings: ReturnType<typeof amqpSettingsFrom>;
  authConfig: AuthConfig;
  auth: Authorizer;
  aclOn: boolean;
  remotingLimits: ReturnType<typeof remotingLimitsFrom>;
  httpLimits: ReturnType<typeof httpLimitsFrom>;
  serverTls: ReturnType<typeof makeServerTls>;
  namesrv: ReturnType<typeof embeddedNameServer> | null;
  namesrvAddr: string | null;
  registerWith: string[];
  namesrvCredentials: { accessKey: string; secretKey: string } | undefined;
  /** Listener descriptions of what outlives the stack (the NameServer's TLS mode). */
  baseTlsListeners: Record<string, string>;
  /** With --controller: the group controller (roles come from it). */
  controller?: StackController;
}

/** One role's engine and endpoints, running. */
export interface RoleStack {
  broker: Broker;
  /** Closes the endpoints and the engine in reverse order of opening (the store stays open). */
  close(): Promise<void>;
}

/**
 * Opens the engine and the endpoints of a role on the open store: a master runs the broker, its
 * HA port (and synchronous replication), MQTT, AMQP and HTTP; a replica runs the broker read-only,
 * follows its master's HA port, and serves remoting and HTTP only. A role change closes the stack
 * and opens the other one (the listeners come back on the same ports).
 */
export async function startRoleStack(ctx: StackContext, role: StackRole): Promise<RoleStack> {
  const { args, log, store, dataDir, ip, brokerPort, advertised, brokerSettings, mqttSettings, amqpSettings, authConfig, auth, aclOn } = ctx;
  const { remotingLimits, httpLimits, serverTls, namesrv, namesrvAddr, registerWith, namesrvCredentials } = ctx;
  const tlsCtx = serverTls.context;
  const tlsListeners: Record<string, string> = { ...ctx.baseTlsListeners };
  const replicaId = args.brokerId ?? 1;
  const closers: Array<() => Promise<unknown>> = [];
  try {
    return await open();
  } catch (err) {
    await closeAll(closers, log);
    throw err;
  }

  async function open(): Promise<RoleStack> {
    const replica = role.kind === 'replica';
    // A master streams its log to replicas from the HA port (registered with the NameServers as
    // haServerAddr, so it listens before the first registration); with --replication sync its
    // sends wait for the in-sync replicas.
    const ha = args.haPort !== null && !replica ? new HaServer({ store, log }) : null;
    const controller = ctx.controller;
    // With a controller the in-sync set lives in etcd: a member leaves it there before sends stop
    // waiting for it (only in-sync members may be elected), and joins are recorded after the fact.
    const inSyncInEtcd = (members: readonly number[]) => (controller ? controller.setInSync([controller.brokerId, ...members]) : Promise.resolve(true));
    // The in-sync set is kept with --replication sync (sends wait for it) and with a controller
    // whatever the mode (only its members may be elected; with async replication they may lack
    // the last acknowledged sends, which is what async means).
    const sync = args.replication === 'sync';
    const inSync =
      ha && !replica && (sync || controller)
        ? new SyncReplication({
            server: ha,
            store,
            minInSyncReplicas: sync ? args.minInSyncReplicas : 1,
            onInSyncChange: (members) => {
              log.info({ inSync: members, copies: members.length + 1, replication: args.replication }, 'apogee: in-sync replicas changed');
              inSyncInEtcd(members).catch((err: unknown) => log.warn({ err: formatError(err) }, 'apogee: cannot record the in-sync set in etcd'));
            },
            ...(controller ? { confirmLeave: inSyncInEtcd } : {}),
          })
        : null;
    if (inSync) closers.push(async () => inSync.close());
    const waitFor = sync ? inSync : null;
    const gate = controller ? fencedGate(controller, waitFor) : waitFor;
    if (controller && ha && !replica && !args.preferredMaster) {
      const handover = new PreferredHandover({ controller, ha, sync: inSync, store, log });
      handover.start();
      closers.push(async () => handover.close());
    }
    // A new master's log starts its epoch where it ends now (docs/ha-design.md, decision 2).
    if (role.kind === 'master' && role.epoch > store.currentEpoch()) await store.beginEpoch(role.epoch);
    const broker = await Broker.open({
      store,
      configDir: path.join(dataDir, 'config'),
      config: { ...brokerSettings, brokerName: args.brokerName, clusterName: args.clusterName },
      logger: log,
      role: replica ? 'replica' : 'master',
      ...(gate ? { replication: gate } : {}),
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
    let follower: HaReplica | null = null;
    const replicationStats = () =>
      collectReplicationStats({
        brokerId: replica ? replicaId : 0,
        epoch: Math.max(role.epoch, store.currentEpoch()),
        confirmedOffset: store.commitLogConfirmed,
        ha,
        sync: inSync,
        replication: args.replication,
        follower,
        haMaster: role.kind === 'replica' ? role.haMaster : null,
      });
    const service = new BrokerRemotingService({
      runtimeInfoExtra: () => replicationRuntimeInfo(replicationStats()),
      broker,
      advertisedAddr: advertised,
      namesrvAddrs: registerWith,
      logger: log,
      limits: remotingLimits,
      ...(aclOn ? { auth, globalWhiteRemoteAddresses: authConfig.globalWhiteRemoteAddresses } : {}),
      ...(namesrvCredentials ? { namesrvCredentials } : {}),
      ...(brokerGate ? { socketGate: brokerGate } : {}),
      ...(namesrvTls ? { namesrvTls } : {}),
      brokerId: replica ? replicaId : 0,
      stateVersion: role.epoch,
      ...(haServerAddr !== undefined ? { haServerAddr } : {}),
    });
    const bound = await listenOrExplain(() => service.start(brokerPort, args.listenHost), 'broker', args.listenHost, brokerPort);
    closers.push(() => service.close());
    if (role.kind === 'replica' && role.haMaster === null) log.info({ brokerId: replicaId }, 'apogee: replica of no master yet: waiting for the controller');
    if (role.kind === 'replica' && role.haMaster !== null) {
      // Replicated metadata (topic and group configs, topic filters) reaches the engine's caches.
      follower = new HaReplica({ store, master: hostPort(role.haMaster), replicaId, log, onMetaApplied: () => void broker.reloadMetadata() });
      follower.start();
      const following = follower;
      closers.push(() => following.stop());
      log.info({ master: role.haMaster, brokerId: replicaId }, "apogee: replica: following the master's commit log; sends are refused here");
    }
    if (brokerGate) tlsListeners['broker'] = `${bound} (${serverTls.remotingMode})`;
    log.info(
      { listen: bound, advertised, brokerName: args.brokerName, cluster: args.clusterName, tls: serverTls.remotingMode },
      'apogee: broker listening; clients are told to connect to the advertised address',
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
      replication: () => ({
        ...replicationView(role, replicaId, store.commitLogConfirmed, ha, follower, inSync, args.replication),
        epoch: store.currentEpoch(),
      }),
      listeners: () => ({ namesrv: namesrvAddr, broker: advertised, mqtt: mqttAddr, mqttWs: mqttWsAddr, amqp: amqpAddr, ...tlsListeners }),
    };
    const stats = new StatsSampler(adminDeps, () => (namesrv?.connectionStats().open ?? 0) + service.connectionStats().open);
    stats.start();
    closers.push(async () => stats.stop());
    const admin = new AdminApi({ ...adminDeps, stats }, auth, log);
    const mqttStats = mqtt ? () => mqtt.stats() : undefined;
    const amqpStats = amqp ? () => amqp.stats() : undefined;
    const http = await listenOrExplain(
      () =>
        startMetricsServer(broker, args.httpPort, args.listenHost, {
          replication: replicationStats,
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
    closers.push(
      () =>
        new Promise<void>((r) => {
          http.close(() => r());
          // Keep-alive connections (a console polling) would hold the close open.
          http.closeAllConnections();
        }),
    );
    const httpShown = typeof httpAddr === 'object' && httpAddr ? `${httpAddr.address}:${httpAddr.port}` : String(httpAddr);
    if (tlsCtx) tlsListeners['https'] = httpShown;
    log.info({ addr: httpShown, https: tlsCtx !== null }, 'apogee: metrics on /metrics, the admin API on /api/v1');
    if (tlsCtx) log.info({ ...tlsListeners, clientAuth: tlsCtx.settings.clientAuth }, 'apogee: TLS listeners open');
    else log.info({}, 'apogee: no TLS listeners (no --tls-cert / --tls-key)');
    log.info(
      { role: broker.role, epoch: store.currentEpoch(), namesrv: namesrvAddr, broker: advertised, mqtt: mqttAddr, mqttWs: mqttWsAddr, amqp: amqpAddr },
      'apogee: ready',
    );
    return { broker, close: () => closeAll(closers, log) };
  }
}

async function closeAll(closers: Array<() => Promise<unknown>>, log: StackLogger): Promise<void> {
  for (const c of closers.splice(0).reverse()) {
    try {
      await c();
    } catch (err) {
      log.error({ err: formatError(err) }, 'apogee: error while stopping');
    }
  }
}

/** This broker's place in its group for the admin API's cluster view. */
function replicationView(
  role: StackRole,
  replicaId: number,
  confirmed: number,
  ha: HaServer | null,
  follower: HaReplica | null,
  inSync: SyncReplication | null,
  mode: 'sync' | 'async',
): ReplicationView {
  if (role.kind === 'replica')
    return {
      brokerId: replicaId,
      role: 'SLAVE',
      ...(follower && role.haMaster !== null ? { following: { master: role.haMaster, connected: follower.connected, lagBytes: follower.lagBytes } } : {}),
    };
  const view: ReplicationView = { brokerId: 0, role: 'MASTER' };
  if (ha) {
    const members = new Set(inSync?.members() ?? []);
    view.replication = mode;
    view.replicas = ha.replicas().map((r) => ({
      replicaId: r.replicaId,
      remote: r.remote,
      ackedOffset: r.ackedOffset,
      lagBytes: Math.max(0, confirmed - r.ackedOffset),
      ...(inSync ? { inSync: members.has(r.replicaId) } : {}),
    }));
  }
  return view;
}

/**
 * The controller's fencing on every send (docs/ha-design.md, decision 6): a master whose lease is
 * in doubt answers SLAVE_NOT_AVAILABLE instead of SEND_OK — before the wait for the replicas and
 * after it — so no send is acknowledged once another broker may have been elected.
 */
function fencedGate(controller: StackController, sync: SyncReplication | null): ReplicationGate {
  return {
    awaitCopies(end: number): Promise<CopiesOutcome> | null {
      if (!controller.canAck()) return Promise.resolve('SLAVE_NOT_AVAILABLE');
      const wait = sync?.awaitCopies(end) ?? null;
      if (!wait) return null;
      return wait.then((outcome) => (outcome === 'SEND_OK' && !controller.canAck() ? 'SLAVE_NOT_AVAILABLE' : outcome));
    },
  };
}

function hostPort(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  return { host: addr.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(addr.slice(i + 1)) };
}

export async function listenOrExplain<T>(start: () => Promise<T>, what: string, host: string, port: number): Promise<T> {
  try {
    return await start();
  } catch (err) {
    throw new Error(`cannot start the ${what} on ${host}:${port}: ${(err as Error).message}`);
  }
}
