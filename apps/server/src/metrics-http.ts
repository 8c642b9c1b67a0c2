import http from 'node:http';
import type { Broker } from '@apogee/broker';
import type { AmqpGatewayStats } from '@apogee/amqp';
import type { MqttGatewayStats } from '@apogee/mqtt';
import { RateLimitedWarnings, type WarnSink } from '@apogee/message';
import type { HttpLimitSettings } from './listener-limits.js';

/** Connections of a listener the metrics name (NameServer, broker, HTTP): open now, refused for the cap since start. */
export interface ListenerConnectionStats {
  listener: string;
  open: number;
  refused: number;
}

/** Prometheus text exposition of the broker's and the store's figures. */
export function renderMetrics(broker: Broker, mqtt?: () => MqttGatewayStats, amqp?: () => AmqpGatewayStats, listeners: ListenerConnectionStats[] = []): string {
  const m = broker.metrics;
  const s = broker.storeStats();
  const lines: string[] = [];
  const gauge = (name: string, help: string, value: number, type = 'gauge') => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${value}`);
  };
  gauge('apogee_send_requests_total', 'Send requests received', m.sendRequests, 'counter');
  gauge('apogee_send_messages_total', 'Messages stored by sends', m.sendMessages, 'counter');
  gauge('apogee_send_bytes_total', 'Body bytes stored by sends', m.sendBytes, 'counter');
  gauge('apogee_send_failures_total', 'Sends the store failed', m.sendFailures, 'counter');
  gauge('apogee_pull_requests_total', 'Pull requests received', m.pullRequests, 'counter');
  gauge('apogee_pull_messages_total', 'Messages returned by pulls', m.pullMessages, 'counter');
  gauge('apogee_pull_held_total', 'Pulls held for arrivals (long polling)', m.pullHeld, 'counter');
  gauge('apogee_pulls_waiting', 'Pulls held right now', m.pullsWaiting);
  gauge('apogee_send_backs_total', 'Messages handed back for retry', m.sendBacks, 'counter');
  gauge('apogee_dead_lettered_total', 'Messages moved to a DLQ', m.deadLettered, 'counter');
  gauge('apogee_delayed_scheduled_total', 'Messages stored with a delay level', m.delayedScheduled, 'counter');
  gauge('apogee_delayed_delivered_total', 'Delayed messages delivered to their topic', m.delayedDelivered, 'counter');
  gauge('apogee_timers_scheduled_total', 'Timer messages stored in the timer topic', m.timersScheduled, 'counter');
  gauge('apogee_timers_fired_total', 'Timer messages fired to their real topic', m.timersFired, 'counter');
  gauge('apogee_timers_pending', 'Timer messages indexed and not yet fired', m.timersPending);
  gauge('apogee_store_puts_in_flight', 'Store writes awaiting their flush', m.putsInFlight);
  lines.push('# HELP apogee_broker_trace_records_total Broker trace records (docs/trace.md), by outcome', '# TYPE apogee_broker_trace_records_total counter');
  for (const [outcome, n] of Object.entries(broker.tracer.counts)) lines.push(`apogee_broker_trace_records_total{outcome="${outcome}"} ${n}`);
  lines.push('# HELP apogee_send_refusals_total Sends refused, by reason', '# TYPE apogee_send_refusals_total counter');
  for (const [reason, n] of Object.entries(m.refusals)) lines.push(`apogee_send_refusals_total{reason="${reason}"} ${n}`);
  gauge('apogee_store_commitlog_max_offset', 'Commit-log bytes appended', s.maxCommitLogOffset);
  gauge('apogee_store_commitlog_flushed_offset', 'Commit-log bytes durable', s.flushedCommitLogOffset);
  gauge('apogee_store_segments', 'Commit-log segment files', s.segments);
  gauge('apogee_store_cached_queues', 'Queue states in memory', s.cachedQueues);
  gauge('apogee_topics', 'Topic configs', broker.topics.list().length);
  gauge('apogee_consumer_groups_online', 'Consumer groups with a live member', broker.consumers.groupNames().length);
  if (mqtt) {
    const m = mqtt();
    gauge('apogee_mqtt_connections', 'MQTT connections open', m.connections);
    gauge('apogee_mqtt_sessions', 'MQTT sessions (online and persistent)', m.sessions);
    gauge('apogee_mqtt_subscriptions', 'MQTT subscriptions', m.subscriptions);
    gauge('apogee_mqtt_filters', 'Distinct MQTT filters registered for dispatch', m.filters);
    gauge('apogee_mqtt_lmqs_watched', 'LMQs with an online reader', m.lmqsWatched);
    gauge('apogee_mqtt_messages_in_total', 'PUBLISH packets received', m.messagesIn, 'counter');
    gauge('apogee_mqtt_messages_out_total', 'PUBLISH packets delivered', m.messagesOut, 'counter');
    gauge(
      'apogee_mqtt_messages_out_from_memory_total',
      'Subscription deliveries taken straight from the publish (caught-up subscribers), without a store read',
      m.messagesOutFromMemory,
      'counter',
    );
    gauge('apogee_mqtt_dropped_total', 'Messages skipped because a subscription backlog exceeded maxQueuedPerSubscription', m.droppedOffline, 'counter');
    gauge(
      'apogee_mqtt_dropped_slow_total',
      "QoS 0 deliveries dropped because the connection's outbound buffer was over maxOutboundBufferBytes (slow consumer)",
      m.droppedSlow,
      'counter',
    );
    listeners.push({ listener: 'mqtt', open: m.connections, refused: m.refusedConnections });
  }
  if (amqp) {
    const a = amqp();
    gauge('apogee_amqp_connections', 'AMQP connections open', a.connections);
    gauge('apogee_amqp_links', 'AMQP links attached', a.links);
    gauge('apogee_amqp_readers', 'Queue and subscription readers open', a.readers);
    gauge('apogee_amqp_messages_in_total', 'AMQP messages stored', a.messagesIn, 'counter');
    gauge('apogee_amqp_messages_out_total', 'AMQP messages delivered', a.messagesOut, 'counter');
    gauge('apogee_amqp_rejected_in_total', 'Incoming AMQP messages rejected (oversize, forbidden, malformed, not stored)', a.rejectedIn, 'counter');
    gauge('apogee_amqp_dead_lettered_total', 'Messages a receiver rejected, moved to their dead-letter queue', a.deadLettered, 'counter');
    gauge('apogee_amqp_connection_errors_total', 'AMQP connections closed for framing or protocol errors', a.connectionErrors, 'counter');
    listeners.push({ listener: 'amqp', open: a.connections, refused: a.refusedConnections });
  }
  // MQTT's and AMQP's figures cover all their listeners (TCP, WebSocket, TLS).
  lines.push(
    '# HELP apogee_connections_refused_total Connections closed at once because their listener had its maximum open',
    '# TYPE apogee_connections_refused_total counter',
  );
  for (const l of listeners) lines.push(`apogee_connections_refused_total{listener="${l.listener}"} ${l.refused}`);
  return `${lines.join('\n')}\n`;
}

export interface MetricsServerOptions {
  mqtt?: (() => MqttGatewayStats) | undefined;
  amqp?: (() => AmqpGatewayStats) | undefined;
  /** Connection figures of the other listeners (NameServer, broker). */
  listeners?: () => ListenerConnectionStats[];
  /** Connection cap and deadlines of this listener. */
  limits: HttpLimitSettings;
  /** Where refused connections are warned about (rate-limited). */
  log: WarnSink;
  /** The HTTP admin API, served under /api/v1 (docs/admin-api.openapi.json). */
  admin?: { owns(url: string): boolean; handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> } | undefined;
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
  const create = opts.createServer ?? ((onRequest, options) => http.createServer(options, onRequest));
  const server = create(
    (req, res) => {
      if (opts.admin && opts.admin.owns(req.url ?? '/')) {
        void opts.admin.handle(req, res);
        return;
      }
      if (req.method === 'GET' && req.url === '/metrics') {
        const listeners = [...(opts.listeners?.() ?? []), { listener: 'http', open, refused }];
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(renderMetrics(broker, opts.mqtt, opts.amqp, listeners));
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
