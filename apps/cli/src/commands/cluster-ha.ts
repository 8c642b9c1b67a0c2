import { EtcdClient, EtcdEndpointsError, parseEndpoints } from '@apogee/etcd';
import { RemotingClient, RequestCode, ResponseCode, aclSigner, makeRequest, responseCodeName } from '@apogee/remoting';
import { UsageError } from '../args.js';
import type { Context } from '../context.js';
import {
  type BrokerReport,
  type BrokerTarget,
  type HaGroupKeys,
  type HaGroupReport,
  brokerTargets,
  disagreements,
  groupsFromKvs,
  haPrefix,
  parseRuntimeInfo,
  renderHaGroups,
} from '../ha-view.js';
import type { Command } from './command.js';

const PATH = ['cluster', 'ha'] as const;
/** Deadline of each etcd attempt and of each broker's GET_BROKER_RUNTIME_INFO. */
const CALL_TIMEOUT_MS = 3000;

/**
 * `cluster ha --controller etcd://H:P[,H:P]`: every broker group the controller's etcd keys
 * describe (`/apogee/<cluster>/<brokerName>/`: epoch, master, in-sync, candidates), and the role,
 * epoch and replication lag each reachable broker of the group reports in GET_BROKER_RUNTIME_INFO
 * (the master from its key; with --namesrv also the addresses the NameServer routes for the group).
 */
export const clusterHaCommand: Command = {
  path: PATH,
  args: [],
  summary: "show each replicated group's epoch, master, in-sync set and candidates from etcd, and its brokers' roles and lag",
  options: [
    { name: 'controller', kind: 'string', value: 'etcd://H:P[,H:P]', help: "the controller's etcd endpoints (env APOGEE_CONTROLLER)" },
    { name: 'cluster', kind: 'string', value: 'NAME', help: 'only the groups of this cluster (default: every cluster)' },
  ],
  notes: [
    'Brokers are asked for GET_BROKER_RUNTIME_INFO: the master named by etcd, and with --namesrv (or APOGEE_NAMESRV)',
    'every address the NameServer routes for the group; one that does not answer within 3 s is shown unreachable.',
  ],
  async run(ctx, args) {
    const spec = args.str('controller') ?? (ctx.env['APOGEE_CONTROLLER'] || undefined);
    if (spec === undefined) throw new UsageError('cluster ha needs --controller etcd://HOST:PORT[,HOST:PORT] (or APOGEE_CONTROLLER)', PATH);
    const cluster = args.str('cluster');
    if (cluster !== undefined && (cluster === '' || cluster.includes('/')))
      throw new UsageError(`--cluster must be non-empty and without '/': ${JSON.stringify(cluster)}`, PATH);
    let endpoints;
    try {
      endpoints = parseEndpoints(spec);
    } catch (err) {
      if (err instanceof EtcdEndpointsError) throw new UsageError(`--controller: ${err.message}`, PATH);
      throw err;
    }
    const etcd = new EtcdClient({ endpoints, timeoutMs: CALL_TIMEOUT_MS });
    ctx.track({ shutdown: async () => etcd.close() });
    const prefix = haPrefix(cluster);
    const range = await etcd.range(prefix, { prefix: true });
    const groups = groupsFromKvs(range.kvs);

    const namesrvGiven = args.str('namesrv') !== undefined || (ctx.env['APOGEE_NAMESRV'] ?? '') !== '';
    let routes: Map<string, Record<string, string>> | undefined;
    let namesrvError: string | undefined;
    if (namesrvGiven && groups.length > 0) {
      try {
        const info = await ctx.admin().clusterInfo();
        routes = new Map(Object.values(info.brokerAddrTable).map((bd) => [`${bd.cluster}/${bd.brokerName}`, bd.brokerAddrs]));
      } catch (err) {
        namesrvError = `the NameServer route could not be read: ${err instanceof Error ? err.message : String(err)}`;
        ctx.note(`warning: ${namesrvError}; showing the brokers etcd names`);
      }
    }

    const remoting = brokerClient(ctx);
    const reports: HaGroupReport[] = await Promise.all(
      groups.map(async (g) => ({
        ...g,
        brokers: await Promise.all(brokerTargets(g, routes?.get(`${g.cluster}/${g.brokerName}`)).map((t) => probe(remoting, g, t))),
      })),
    );
    ctx.emit({ controller: spec, prefix, revision: range.header.revision, ...(namesrvError ? { namesrvError } : {}), groups: reports }, () =>
      reports.length === 0 ? [`no broker group under ${prefix} in etcd (${spec})`] : renderHaGroups(reports, { namesrv: routes !== undefined }),
    );
  },
};

/** A remoting client signed and over TLS as the command line says, closed when the command ends. */
function brokerClient(ctx: Context): RemotingClient {
  const o = ctx.clientOptions;
  const client = new RemotingClient({
    requestTimeoutMs: CALL_TIMEOUT_MS,
    connectTimeoutMs: CALL_TIMEOUT_MS,
    ...(o.accessKey && o.secretKey ? { beforeRequest: aclSigner({ accessKey: o.accessKey, secretKey: o.secretKey }) } : {}),
    ...(typeof o.tls === 'object' ? { tls: o.tls } : o.tls === true ? { tls: {} } : {}),
  });
  ctx.track({ shutdown: async () => client.close() });
  return client;
}

/** GET_BROKER_RUNTIME_INFO of one broker: its HA fields, or why it could not be read. */
async function probe(remoting: RemotingClient, group: HaGroupKeys, target: BrokerTarget): Promise<BrokerReport> {
  try {
    const res = await remoting.invoke(target.addr, makeRequest(RequestCode.GET_BROKER_RUNTIME_INFO), CALL_TIMEOUT_MS);
    if (res.code !== ResponseCode.SUCCESS)
      return { ...target, warnings: [], reachable: false, error: `${responseCodeName(res.code)} ${res.remark ?? ''}`.trimEnd() };
    const table: unknown = JSON.parse(res.body?.toString('utf8') ?? '{}')?.table;
    if (typeof table !== 'object' || table === null) return { ...target, warnings: [], reachable: false, error: 'its runtime info has no table' };
    const info = parseRuntimeInfo(table as Record<string, string>);
    return { ...target, reachable: true, info, warnings: disagreements(group, target, info) };
  } catch (err) {
    return { ...target, warnings: [], reachable: false, error: networkReason(err) };
  }
}

/** The socket-level reason of a failed request ("connect ECONNREFUSED 127.0.0.1:1", a timeout …). */
function networkReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  if (err.cause instanceof Error) return err.cause.message;
  // The transport's errors lead with their stable code ("APG_REMOTING_…: "): the text is what helps.
  return err.message.replace(/^[A-Z][A-Z0-9_]+: /, '');
}
