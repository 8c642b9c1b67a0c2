import path from 'node:path';
import { Authorizer, parseAuthConfig } from '@apogee/broker';
import { formatError } from '@apogee/message';
import { createLogger } from '@apogee/logging';
import { randomBytes } from 'node:crypto';
import { openStore } from '@apogee/store';
import { advertisedIp, freePort } from './advertised-ip.js';
import { type StackContext, type StackController, type StackRole, listenOrExplain, startRoleStack } from './role-stack.js';
import { RoleSwitcher } from './role-switcher.js';
import { GroupController } from '@apogee/ha';
import type { ServerArgs } from './args.js';
import { amqpSettingsFrom, brokerSettingsFrom, mqttSettingsFrom } from './broker-settings.js';
import { httpLimitsFrom, remotingLimitsFrom } from './listener-limits.js';
import { memoryBudgetSettings } from './memory-budget.js';
import { embeddedNameServer, namesrvCredentialsFrom } from './embedded-namesrv.js';
import { serverTls as makeServerTls } from './tls-listeners.js';

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

    const stackCtx: StackContext = {
      args,
      log,
      store,
      dataDir,
      ip,
      brokerPort,
      advertised,
      brokerSettings,
      mqttSettings,
      amqpSettings,
      authConfig,
      auth,
      aclOn,
      remotingLimits,
      httpLimits,
      serverTls,
      namesrv,
      namesrvAddr,
      registerWith,
      namesrvCredentials,
      baseTlsListeners: tlsListeners,
    };
    if (aclOn)
      log.info(
        { accounts: auth.accounts().length, allowAnonymous: authConfig.allowAnonymous },
        'apogee: RocketMQ ACL 1.0 on the broker and NameServer ports (docs/security.md)',
      );
    const epoch = store.currentEpoch();
    if (args.controller !== null) {
      await runControlled(stackCtx, args.controller, closers);
    } else {
      const role: StackRole = args.haMaster !== null ? { kind: 'replica', haMaster: args.haMaster, epoch } : { kind: 'master', epoch };
      const stack = await startRoleStack(stackCtx, role);
      closers.push(() => stack.close());
    }
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
 * A broker whose role the group controller decides (--controller, docs/ha-design.md decision 6):
 * it starts as a replica of no master, then serves whatever role the controller gives it — the
 * master at the controller's epoch, or a replica of the master it names; a fence makes the store
 * refuse puts at once, before the role change follows. On stop the controller closes first (a
 * master resigns, so another is elected at once), then the stack.
 */
async function runControlled(ctx: StackContext, etcd: string, closers: Array<() => Promise<unknown>>): Promise<void> {
  const { args, log, store, ip } = ctx;
  const brokerId = args.brokerId!;
  let controller: GroupController | null = null;
  const switcher = new RoleSwitcher(
    (role) => startRoleStack({ ...ctx, ...(controller ? { controller: stackController(controller, brokerId) } : {}) }, role),
    log,
  );
  closers.push(() => switcher.stop());
  const c = new GroupController({
    etcd,
    cluster: args.clusterName,
    brokerName: args.brokerName,
    brokerId,
    addr: ctx.advertised,
    haAddr: `${ip}:${args.haPort}`,
    endOffset: () => store.commitLogEnd,
    preferred: args.preferredMaster,
    onRole: (change) => {
      const role: StackRole =
        change.role === 'master' ? { kind: 'master', epoch: change.epoch } : { kind: 'replica', haMaster: change.master?.haAddr ?? null, epoch: change.epoch };
      log.info({ role: change.role, epoch: change.epoch, master: change.master }, 'apogee: the controller gives this broker a role');
      void switcher.want(role);
    },
    onFenced: (f) => {
      store.setReadOnly(`broker ${args.brokerName}/${brokerId} was fenced (${f.reason}): it is no longer sure to be the master`);
      log.warn({ epoch: f.epoch, reason: f.reason }, 'apogee: fenced: sends refused until the controller decides again');
    },
    onCampaign: (info) => log.info({ ...info }, 'apogee: campaigned for master'),
    onError: (err) => log.warn({ err: formatError(err) }, 'apogee: controller'),
  });
  controller = c;
  // Until the controller decides, serve as a replica of nobody (reads only).
  await switcher.want({ kind: 'replica', haMaster: null, epoch: store.currentEpoch() });
  for (let attempt = 1; ; attempt++) {
    try {
      await c.start();
      break;
    } catch (err) {
      if (attempt >= 10) throw new Error(`cannot reach the controller at ${etcd}: ${formatError(err)}`);
      log.warn({ attempt, err: formatError(err) }, 'apogee: the controller (etcd) does not answer yet; retrying');
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  closers.push(() => c.close());
  log.info({ controller: etcd, brokerId, cluster: args.clusterName, brokerName: args.brokerName }, 'apogee: the group controller runs: roles come from etcd');
}

function stackController(c: GroupController, brokerId: number): StackController {
  return {
    brokerId,
    canAck: () => c.canAck(),
    setInSync: (members) => c.setInSync(members),
    preferredBrokerId: () => c.preferredBrokerId(),
    resign: () => c.resign(),
  };
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
