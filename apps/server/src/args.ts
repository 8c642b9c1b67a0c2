import { parseEndpoints } from '@apogee/etcd';
import fs from 'node:fs';
import { DEFAULT_LOG_LEVEL, type LogLevel, parseLogLevel } from '@apogee/logging';
import { type ClientAuthMode, type RemotingTlsMode, parseClientAuth, parseRemotingTlsMode } from '@apogee/tls';
import type { FlushMode } from '@apogee/store';
import { DEFAULT_MEMORY_BUDGET_MIB, MEMORY_BUDGET_FLAG, parseMemoryBudget } from './memory-budget.js';

/** Settings of the all-in-one server. Flags override the config file, which overrides defaults. */
export interface ServerArgs {
  help: boolean;
  dataDir: string;
  namesrvPort: number;
  brokerPort: number;
  /** Port of an endpoint that can be switched off (`off` → null: the endpoint does not run). */
  mqttPort: number | null;
  mqttWsPort: number | null;
  amqpPort: number | null;
  httpPort: number;
  /** Address every endpoint listens on (default 127.0.0.1; 0.0.0.0 for all interfaces). */
  listenHost: string;
  /** IP the broker advertises to clients through the NameServer (default: listenHost, or the first external IPv4 when listening on all interfaces). */
  brokerIp: string;
  brokerName: string;
  clusterName: string;
  /** NameServers the broker registers with (`--namesrv H:P;H:P`); empty: the embedded NameServer. */
  namesrvAddrs: string[];
  /** `all` (default): the all-in-one server; `broker` (npm run broker): a broker alone, `--namesrv` required. */
  role: 'all' | 'broker';
  flush: FlushMode;
  /** Least severe level logged (trace … fatal, or silent). Default info. */
  logLevel: LogLevel;
  configFile: string | null;
  /** The config file's "broker" section: broker engine settings (see BrokerConfig). */
  brokerSettings: Record<string, unknown>;
  /** The config file's "mqtt" section: MQTT gateway settings (see MqttConfig). */
  mqttSettings: Record<string, unknown>;
  /** The config file's "amqp" section: AMQP endpoint settings (see AmqpConfig). */
  amqpSettings: Record<string, unknown>;
  /** The config file's "auth" section (users, hashed passwords, topic rules), checked by parseAuthConfig. */
  authSettings: unknown;
  /** The config file's "remoting" section: NameServer and broker listener limits (listener-limits.ts). */
  remotingSettings: unknown;
  /** The config file's "http" section: metrics HTTP listener limits (listener-limits.ts). */
  httpSettings: unknown;
  // -- memory budget (memory-budget.ts) --
  /** MiB shared by the hot tail, the queue-state cache and the MQTT record cache. Default 64. */
  memoryBudget: number;
  // -- TLS (tls-listeners.ts); the listeners open only when a certificate is configured --
  /** PEM certificate (chain) file (--tls-cert, or the config file's tls.cert). */
  tlsCert?: string;
  /** PEM private key file (--tls-key, tls.key). */
  tlsKey?: string;
  /** PEM CA file client certificates are verified against (--tls-ca, tls.ca). */
  tlsCa?: string;
  /** Client certificates: none (default), optional, required (--tls-client-auth, tls.clientAuth). */
  tlsClientAuth?: ClientAuthMode;
  /** Milliseconds a TLS handshake may take (--tls-handshake-timeout-ms, tls.handshakeTimeoutMs). Default 10,000. */
  tlsHandshakeTimeoutMs?: number;
  /** Remoting TLS mode of the NameServer and broker ports; unset: permissive with a certificate, disabled without. */
  remotingTls?: RemotingTlsMode;
  /** Ports of the TLS listeners (`off` → null). */
  mqttsPort: number | null;
  mqttWssPort: number | null;
  amqpsPort: number | null;
  /** The HA port replicas stream this broker's commit log from (docs/ha-design.md); null (default `off`): none. */
  haPort: number | null;
  /** The master's HA address this broker follows as a replica ("host:port"); null (default): not a replica. */
  haMaster: string | null;
  /** The id this broker registers with: 0 for a master; a replica's own id, default 1 (RocketMQ brokerId). */
  brokerId: number | null;
  /** sync: a send is answered once every in-sync replica confirmed it (with --min-in-sync-replicas copies at least); async (default): at once. */
  replication: 'sync' | 'async';
  /** Copies, the master included, a synchronously replicated send needs (default 1). */
  minInSyncReplicas: number;
  /** etcd endpoints of the group controller (`etcd://H:P[,H:P]`); null (default): roles from the command line. */
  controller: string | null;
  /** This broker is its group's preferred master (--preferred-master, APOGEE_PREFERRED_MASTER=true). */
  preferredMaster: boolean;
}

const DEFAULTS: Omit<
  ServerArgs,
  'help' | 'configFile' | 'brokerSettings' | 'mqttSettings' | 'amqpSettings' | 'authSettings' | 'remotingSettings' | 'httpSettings'
> = {
  dataDir: './data',
  namesrvPort: 9876,
  brokerPort: 10911,
  mqttPort: 1883,
  mqttWsPort: 8083,
  amqpPort: 5672,
  httpPort: 8080,
  mqttsPort: 8883,
  mqttWssPort: 8084,
  haPort: null,
  haMaster: null,
  brokerId: null,
  replication: 'async',
  minInSyncReplicas: 1,
  controller: null,
  preferredMaster: false,
  amqpsPort: 5671,
  listenHost: '127.0.0.1',
  brokerIp: '',
  brokerName: 'broker-a',
  clusterName: 'DefaultCluster',
  namesrvAddrs: [],
  role: 'all',
  flush: 'ASYNC_FLUSH',
  // -- memory budget --
  memoryBudget: DEFAULT_MEMORY_BUDGET_MIB,
  logLevel: DEFAULT_LOG_LEVEL,
};

/** flag name -> [settings key, environment variable] */
const FLAGS = {
  '--data-dir': ['dataDir', 'APOGEE_DATA_DIR'],
  '--namesrv-port': ['namesrvPort', 'APOGEE_NAMESRV_PORT'],
  '--broker-port': ['brokerPort', 'APOGEE_BROKER_PORT'],
  '--mqtt-port': ['mqttPort', 'APOGEE_MQTT_PORT'],
  '--mqtt-ws-port': ['mqttWsPort', 'APOGEE_MQTT_WS_PORT'],
  '--amqp-port': ['amqpPort', 'APOGEE_AMQP_PORT'],
  '--http-port': ['httpPort', 'APOGEE_HTTP_PORT'],
  '--flush': ['flush', 'APOGEE_FLUSH'],
  '--listen-host': ['listenHost', 'APOGEE_LISTEN_HOST'],
  '--broker-ip': ['brokerIp', 'APOGEE_BROKER_IP'],
  '--broker-name': ['brokerName', 'APOGEE_BROKER_NAME'],
  '--cluster-name': ['clusterName', 'APOGEE_CLUSTER_NAME'],
  '--namesrv': ['namesrvAddrs', 'APOGEE_NAMESRV_ADDR'],
  '--role': ['role', 'APOGEE_ROLE'],
  '--log-level': ['logLevel', 'APOGEE_LOG_LEVEL'],
  // -- memory budget --
  ...MEMORY_BUDGET_FLAG,
  // -- TLS --
  '--tls-cert': ['tlsCert', 'APOGEE_TLS_CERT'],
  '--tls-key': ['tlsKey', 'APOGEE_TLS_KEY'],
  '--tls-ca': ['tlsCa', 'APOGEE_TLS_CA'],
  '--tls-client-auth': ['tlsClientAuth', 'APOGEE_TLS_CLIENT_AUTH'],
  '--tls-handshake-timeout-ms': ['tlsHandshakeTimeoutMs', 'APOGEE_TLS_HANDSHAKE_TIMEOUT_MS'],
  '--remoting-tls': ['remotingTls', 'APOGEE_REMOTING_TLS'],
  '--mqtts-port': ['mqttsPort', 'APOGEE_MQTTS_PORT'],
  '--mqtt-wss-port': ['mqttWssPort', 'APOGEE_MQTT_WSS_PORT'],
  '--amqps-port': ['amqpsPort', 'APOGEE_AMQPS_PORT'],
  '--ha-port': ['haPort', 'APOGEE_HA_PORT'],
  '--ha-master': ['haMaster', 'APOGEE_HA_MASTER'],
  '--broker-id': ['brokerId', 'APOGEE_BROKER_ID'],
  '--replication': ['replication', 'APOGEE_REPLICATION'],
  '--min-in-sync-replicas': ['minInSyncReplicas', 'APOGEE_MIN_IN_SYNC_REPLICAS'],
  '--controller': ['controller', 'APOGEE_CONTROLLER'],
} as const;

/** The config file's "tls" section: its keys and the settings they set (the same as the --tls-* flags). */
const TLS_SECTION: Record<string, Key> = {
  cert: 'tlsCert',
  key: 'tlsKey',
  ca: 'tlsCa',
  clientAuth: 'tlsClientAuth',
  handshakeTimeoutMs: 'tlsHandshakeTimeoutMs',
  remoting: 'remotingTls',
};

type Key = (typeof FLAGS)[keyof typeof FLAGS][0];

export function usage(): string {
  return [
    'usage: npm start -- [--data-dir DIR] [--namesrv-port N] [--broker-port N] [--mqtt-port N]',
    '                    [--mqtt-ws-port N] [--amqp-port N] [--http-port N] [--flush sync|async]',
    '                    [--listen-host ADDR] [--broker-ip IP] [--broker-name NAME]',
    '                    [--cluster-name NAME] [--log-level LEVEL] [--config FILE]',
    '                    [--memory-budget MiB] [--namesrv HOST:PORT[;HOST:PORT]] [--role all|broker] [--ha-port N|off]',
    '                    [--ha-master HOST:PORT [--broker-id N]] [--replication sync|async] [--min-in-sync-replicas N]',
    '                    [--controller etcd://HOST:PORT[,HOST:PORT] --broker-id N --ha-port N [--preferred-master]]',
    '                    [--tls-cert FILE --tls-key FILE [--tls-ca FILE]] [--tls-client-auth none|optional|required]',
    '                    [--tls-handshake-timeout-ms N] [--remoting-tls disabled|permissive|enforcing]',
    '                    [--mqtts-port N] [--mqtt-wss-port N] [--amqps-port N]',
    'TLS (README, "TLS"): with --tls-cert and --tls-key, MQTT over TLS (--mqtts-port, 8883), MQTT over',
    'secure WebSocket (--mqtt-wss-port, 8084), AMQP over TLS (--amqps-port, 5671, and the AMQP TLS header',
    'on the AMQP port) and HTTPS on the HTTP port open; the NameServer and broker ports take --remoting-tls',
    '(default permissive: TLS and plain on one port). Certificates are re-read on SIGHUP and on change.',
    "--memory-budget: MiB shared by the store's hot tail (1/2), its queue-state cache (1/4) and the",
    'MQTT record cache (1/4); default 64 (docs/store.md, "Memory budget").',
    'Endpoint ports take `off` to run without that endpoint: --mqtt-port off (MQTT over TCP and',
    'WebSocket), --mqtt-ws-port off, --amqp-port off. Persistent MQTT sessions and durable AMQP',
    'subscriptions keep receiving while their endpoint is off (the engine keeps their topic filters).',
    '--namesrv: register with these NameServers instead of running one in this process (a broker of a',
    'cluster; npm run broker is --role broker, which requires it). Signed with APOGEE_NAMESRV_ACCESS_KEY and',
    'APOGEE_NAMESRV_SECRET_KEY when the NameServers check RocketMQ ACL (docs/cluster.md).',
    '--ha-port: stream the commit log to replicas on this port (default off; no authentication yet:',
    'listen on a private address only; docs/ha-design.md).',
    '--ha-master: run as a replica of the master whose HA port this is: its commit log streams here,',
    'sends are refused (SERVICE_NOT_AVAILABLE), pulls and queries are served, MQTT and AMQP do not',
    'listen; registered as --broker-id (default 1; must differ between the replicas of a group).',
    '--replication sync: a master answers a send once every in-sync replica confirmed it, and only while',
    '--min-in-sync-replicas copies (itself included; default 1) are in sync (else SLAVE_NOT_AVAILABLE; no',
    'confirmation within 3 s: FLUSH_SLAVE_TIMEOUT). async (default): at once. Needs --ha-port.',
    '--controller: the group elects its master on etcd (docs/cluster.md, "Automatic failover"): every',
    'broker of the group gives it, with its own --broker-id (1 or more) and an --ha-port. --preferred-master:',
    'this broker wins ties in elections, and a master hands over to it once it has caught up.',
    'Log levels: trace, debug, info (default), warn, error, fatal, silent. Lines are JSON, or',
    'human-readable when stdout is a terminal.',
    'Environment: APOGEE_DATA_DIR, APOGEE_NAMESRV_PORT, … (same names), APOGEE_CONFIG.',
    '',
  ].join('\n');
}

function setValue(out: Record<string, unknown>, key: Key, raw: string, source: string): void {
  // -- memory budget --
  if (key === 'memoryBudget') out[key] = parseMemoryBudget(raw, source);
  else if (key === 'tlsClientAuth') out[key] = parseClientAuth(raw, source);
  else if (key === 'remotingTls') out[key] = parseRemotingTlsMode(raw, source);
  else if (key === 'tlsHandshakeTimeoutMs') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`${source}: must be a positive number of milliseconds, got ${JSON.stringify(raw)}`);
    out[key] = n;
  } else if (key === 'dataDir' || key === 'listenHost' || key === 'brokerIp' || key === 'tlsCert' || key === 'tlsKey' || key === 'tlsCa') {
    out[key] = raw;
  } else if (key === 'brokerName' || key === 'clusterName') {
    if (!/^[a-zA-Z0-9_-]{1,127}$/.test(raw)) throw new Error(`${source}: must be 1-127 characters of [a-zA-Z0-9_-], got ${JSON.stringify(raw)}`);
    out[key] = raw;
  } else if (key === 'haMaster') {
    out[key] = parseNamesrvList(raw, source).length === 1 ? raw.trim() : failOne(source);
  } else if (key === 'controller') {
    try {
      parseEndpoints(raw);
    } catch (err) {
      throw new Error(`${source}: ${(err as Error).message}`);
    }
    out[key] = raw.trim();
  } else if (key === 'replication') {
    if (raw !== 'sync' && raw !== 'async') throw new Error(`${source}: replication must be sync or async, got ${JSON.stringify(raw)}`);
    out[key] = raw;
  } else if (key === 'minInSyncReplicas') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`${source}: must be an integer 1-64, got ${JSON.stringify(raw)}`);
    out[key] = n;
  } else if (key === 'brokerId') {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new Error(`${source}: broker id must be an integer 0-4294967295, got ${JSON.stringify(raw)}`);
    out[key] = n;
  } else if (key === 'namesrvAddrs') {
    out[key] = parseNamesrvList(raw, source);
  } else if (key === 'role') {
    if (raw !== 'all' && raw !== 'broker') throw new Error(`${source}: role must be all or broker, got ${JSON.stringify(raw)}`);
    out[key] = raw;
  } else if (key === 'logLevel') {
    out[key] = parseLogLevel(raw, source);
  } else if (key === 'flush') {
    const v = raw.toLowerCase();
    if (v === 'sync' || v === 'sync_flush') out[key] = 'SYNC_FLUSH';
    else if (v === 'async' || v === 'async_flush') out[key] = 'ASYNC_FLUSH';
    else throw new Error(`${source}: flush must be sync or async, got ${JSON.stringify(raw)}`);
  } else if (
    (key === 'mqttPort' ||
      key === 'mqttWsPort' ||
      key === 'amqpPort' ||
      key === 'mqttsPort' ||
      key === 'mqttWssPort' ||
      key === 'amqpsPort' ||
      key === 'haPort') &&
    raw.toLowerCase() === 'off'
  ) {
    out[key] = null;
  } else {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${source}: port must be an integer 0-65535, got ${JSON.stringify(raw)}`);
    out[key] = n;
  }
}

function failOne(source: string): never {
  throw new Error(`${source}: give one HOST:PORT`);
}

/** `host:port;host:port` (RocketMQ's namesrvAddr form; commas are taken too). */
export function parseNamesrvList(raw: string, source: string): string[] {
  const list = raw
    .split(/[;,]/)
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (list.length === 0) throw new Error(`${source}: give at least one NameServer as HOST:PORT`);
  for (const a of list) {
    const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(a);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new Error(`${source}: ${JSON.stringify(a)} is not HOST:PORT`);
  }
  return list;
}

export function parseServerArgs(argv: readonly string[], env: NodeJS.ProcessEnv): ServerArgs {
  const fromFlags: Record<string, unknown> = {};
  let configFile: string | null = env['APOGEE_CONFIG'] ?? null;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    let flag = argv[i]!;
    let value: string | undefined;
    const eq = flag.indexOf('=');
    if (flag.startsWith('--') && eq > 0) {
      value = flag.slice(eq + 1);
      flag = flag.slice(0, eq);
    }
    if (flag === '--help' || flag === '-h') {
      help = true;
      continue;
    }
    if (flag === '--preferred-master' && value === undefined) {
      fromFlags['preferredMaster'] = true;
      continue;
    }
    const takeValue = (): string => {
      if (value !== undefined) return value;
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--config') {
      configFile = takeValue();
      continue;
    }
    const spec = FLAGS[flag as keyof typeof FLAGS];
    if (!spec) throw new Error(`unknown option ${flag}\n${usage()}`);
    setValue(fromFlags, spec[0], takeValue(), flag);
  }
  const fromFile: Record<string, unknown> = {};
  let brokerSettings: Record<string, unknown> = {};
  let mqttSettings: Record<string, unknown> = {};
  let amqpSettings: Record<string, unknown> = {};
  let authSettings: unknown;
  let remotingSettings: unknown;
  let httpSettings: unknown;
  if (configFile) {
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`config file ${configFile}: ${(err as Error).message}`);
    }
    if (parsed['broker'] !== undefined) {
      if (typeof parsed['broker'] !== 'object' || parsed['broker'] === null || Array.isArray(parsed['broker']))
        throw new Error(`config file ${configFile}: "broker" must be an object`);
      brokerSettings = parsed['broker'] as Record<string, unknown>;
    }
    authSettings = parsed['auth'];
    remotingSettings = parsed['remoting'];
    httpSettings = parsed['http'];
    if (parsed['mqtt'] !== undefined) {
      if (typeof parsed['mqtt'] !== 'object' || parsed['mqtt'] === null || Array.isArray(parsed['mqtt']))
        throw new Error(`config file ${configFile}: "mqtt" must be an object`);
      mqttSettings = parsed['mqtt'] as Record<string, unknown>;
    }
    if (parsed['amqp'] !== undefined) {
      if (typeof parsed['amqp'] !== 'object' || parsed['amqp'] === null || Array.isArray(parsed['amqp']))
        throw new Error(`config file ${configFile}: "amqp" must be an object`);
      amqpSettings = parsed['amqp'] as Record<string, unknown>;
    }
    for (const [flag, [key]] of Object.entries(FLAGS)) {
      if (parsed[key] !== undefined) setValue(fromFile, key, String(parsed[key]), `${configFile}: ${key} (${flag})`);
    }
    const tlsSection = parsed['tls'];
    if (tlsSection !== undefined) {
      if (typeof tlsSection !== 'object' || tlsSection === null || Array.isArray(tlsSection))
        throw new Error(`config file ${configFile}: "tls" must be an object`);
      for (const [k, v] of Object.entries(tlsSection)) {
        const key = TLS_SECTION[k];
        if (!key) throw new Error(`config file ${configFile}: unknown tls setting ${JSON.stringify(k)}; known: ${Object.keys(TLS_SECTION).join(', ')}`);
        if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`config file ${configFile}: tls.${k} must be a string or number`);
        setValue(fromFile, key, String(v), `${configFile}: tls.${k}`);
      }
    }
  }
  const fromEnv: Record<string, unknown> = {};
  for (const [flag, [key, name]] of Object.entries(FLAGS)) {
    const v = env[name];
    if (v !== undefined && v !== '') setValue(fromEnv, key, v, `${name} (${flag})`);
  }
  const preferredEnv = env['APOGEE_PREFERRED_MASTER'];
  if (preferredEnv !== undefined && preferredEnv !== '') {
    if (preferredEnv !== 'true' && preferredEnv !== 'false')
      throw new Error(`APOGEE_PREFERRED_MASTER (--preferred-master): true or false, got ${JSON.stringify(preferredEnv)}`);
    fromEnv['preferredMaster'] = preferredEnv === 'true';
  }
  const merged = { ...DEFAULTS, ...fromFile, ...fromEnv, ...fromFlags };
  if (!help && merged.role === 'broker' && merged.namesrvAddrs.length === 0)
    throw new Error('a broker alone (--role broker, npm run broker) needs --namesrv HOST:PORT[;HOST:PORT] (or APOGEE_NAMESRV_ADDR)');
  if (!help && merged.brokerId === 0 && merged.haMaster !== null)
    throw new Error("--broker-id 0 is the master's id; a replica (--ha-master) needs its own id of 1 or more");
  if (!help && merged.controller !== null) {
    if (merged.haMaster !== null) throw new Error('--controller elects the master: drop --ha-master');
    if (merged.haPort === null) throw new Error('--controller needs an --ha-port: any broker of the group may become its master');
    if (merged.brokerId === null || merged.brokerId < 1) throw new Error("--controller needs this broker's own --broker-id (1 or more, distinct in the group)");
  }
  if (!help && merged.preferredMaster && merged.controller === null) throw new Error('--preferred-master takes effect in elections: give --controller too');
  if (!help && merged.controller === null && merged.haMaster === null && merged.brokerId !== null && merged.brokerId !== 0)
    throw new Error(`--broker-id ${merged.brokerId} registers a replica: give the master to follow with --ha-master HOST:PORT`);
  if (!help && merged.replication === 'sync' && merged.haPort === null && merged.haMaster === null)
    throw new Error('--replication sync needs replicas to wait for: give the master an --ha-port');
  if (!help && merged.haMaster !== null && merged.haPort !== null)
    throw new Error('a replica (--ha-master) streams from its master and serves no HA port of its own: drop --ha-port');
  return {
    ...merged,
    help,
    configFile,
    brokerSettings,
    mqttSettings,
    amqpSettings,
    authSettings,
    remotingSettings,
    httpSettings,
  } as ServerArgs;
}
