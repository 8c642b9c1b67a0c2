import http from 'node:http';
import type { Broker } from '@apogee/broker';
import type { AmqpGatewayStats } from '@apogee/amqp';
import type { MqttGatewayStats } from '@apogee/mqtt';
import { RateLimitedWarnings, type WarnSink } from '@apogee/message';
import type { HttpLimitSettings } from './listener-limits.js';
import { type ListenerConnectionStats, renderMetrics } from './metrics/render-metrics.js';
import type { ReplicationStats } from './metrics/replication-stats.js';
import { StoreDiskProbe } from './metrics/store-disk-probe.js';

export { renderMetrics, type ListenerConnectionStats } from './metrics/render-metrics.js';
export { collectReplicationStats, replicationRuntimeInfo, type ReplicationSources, type ReplicationStats } from './metrics/replication-stats.js';

export interface MetricsServerOptions {
  mqtt?: (() => MqttGatewayStats) | undefined;
  amqp?: (() => AmqpGatewayStats) | undefined;
  /** Connection figures of the other listeners (NameServer, broker). */
  listeners?: () => ListenerConnectionStats[];
  /** This broker's role and replication progress in its group (collectReplicationStats); null or absent: no apogee_ha_* series. */
  replication?: (() => ReplicationStats | null) | undefined;
  /** Connection cap and deadlines of this listener. */
  limits: HttpLimitSettings;
  /** Where refused connections are warned about (rate-limited). */
  log: WarnSink;
  /** The HTTP admin API, served under /api/v1 (docs/admin-api.openapi.json). */
  admin?: { owns(url: string): boolean; handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> } | undefined;
  /** The data directory: its filesystem's free space and the oldest retained message are exposed (StoreDiskProbe). */
  dataDir?: string | undefined;
  /** The web console's files (console-static.ts): answers what it takes, returns false for the rest. */
  console?: ((req: http.IncomingMessage, res: http.ServerResponse) => boolean) | undefined;
  /** Makes another kind of server (an https.Server when TLS is configured). Default http.createServer. */
  createServer?: ((onRequest: http.RequestListener, options: http.ServerOptions) => http.Server) | undefined;
}

/**
 * GET /metrics (Prometheus), GET /health and the admin API (/api/v1/…) on the HTTP port. A client has
 * headersTimeoutSeconds from connecting to send its headers and requestTimeoutSeconds for the
 * whole request; an idle keep-alive connection closes after keepAliveTimeoutSeconds; past
 * maxConnections a new connection is closed at once (Node's maxConnections), counted and warned about.
 * HTTPS when `createServer` makes an https.Server.
 */
export function startMetricsServer(broker: Broker, port: number, host: string, opts: MetricsServerOptions): Promise<http.Server> {
  const { limits } = opts;
  let refused = 0;
  let open = 0;
  const warnings = new RateLimitedWarnings(opts.log);
  const disk = opts.dataDir === undefined ? null : new StoreDiskProbe(opts.dataDir, broker);
  const create = opts.createServer ?? ((onRequest, options) => http.createServer(options, onRequest));
  const server = create(
    (req, res) => {
      if (opts.admin && opts.admin.owns(req.url ?? '/')) {
        void opts.admin.handle(req, res);
        return;
      }
      if (req.method === 'GET' && req.url === '/metrics') {
        const listeners = [...(opts.listeners?.() ?? []), { listener: 'http', open, refused }];
        void (disk ? disk.read() : Promise.resolve(undefined))
          .then((figures) => {
            const text = renderMetrics(broker, opts.mqtt, opts.amqp, listeners, figures, opts.replication);
            res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(text);
          })
          .catch((err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(err as Error).message}\n`));
      } else if (req.method === 'GET' && req.url === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"UP"}');
      } else if (opts.console?.(req, res)) {
        // the web console's page or one of its files
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: try /metrics, /health${opts.admin ? ' or /api/v1' : ''}\n`);
      }
    },
    {
      headersTimeout: limits.headersTimeoutSeconds * 1000,
      requestTimeout: limits.requestTimeoutSeconds * 1000,
      keepAliveTimeout: limits.keepAliveTimeoutSeconds * 1000,
      // Node checks the two timeouts above this often (30 s by default: longer than the timeouts).
      connectionsCheckingInterval: 1000,
    },
  );
  if (limits.maxConnections > 0) server.maxConnections = limits.maxConnections;
  server.on('connection', (socket: import('node:net').Socket) => {
    open++;
    socket.once('close', () => open--);
  });
  server.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) => {
    refused++;
    warnings.warn(
      'http:connection-limit',
      { listener: 'http', remote: `${data?.remoteAddress ?? '?'}:${data?.remotePort ?? 0}`, limit: limits.maxConnections },
      `http: connection refused: ${limits.maxConnections} connections are open, the listener's maximum`,
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
