import type { Broker } from '@apogee/broker';
import type { AmqpGatewayStats } from '@apogee/amqp';
import type { MqttGatewayStats } from '@apogee/mqtt';
import { Exposition } from './exposition.js';
import type { ReplicationStats } from './replication-stats.js';
import type { DiskFigures } from './store-disk-probe.js';

/** Connections of a listener the metrics name (NameServer, broker, HTTP): open now, refused for the cap since start. */
export interface ListenerConnectionStats {
  listener: string;
  open: number;
  refused: number;
}

/** The protocol of each listener name, for `apogee_connections{protocol}`; MQTT's and AMQP's figures cover all their listeners. */
const PROTOCOL_OF_LISTENER: Record<string, string> = { namesrv: 'remoting', broker: 'remoting', mqtt: 'mqtt', amqp: 'amqp', http: 'http' };

/**
 * Prometheus text exposition of the broker's, the store's and the gateways' figures; every family
 * is described in docs/metrics.md. `disk` (StoreDiskProbe) adds the disk and retention gauges,
 * `replication` (a broker of a replicated group) the apogee_ha_* families.
 */
export function renderMetrics(
  broker: Broker,
  mqtt?: () => MqttGatewayStats,
  amqp?: () => AmqpGatewayStats,
  listeners: ListenerConnectionStats[] = [],
  disk?: DiskFigures,
  replication?: () => ReplicationStats | null,
): string {
  const out = new Exposition();
  renderEngine(out, broker);
  renderStore(out, broker, disk);
  const ha = replication?.();
  if (ha) renderReplication(out, ha);
  renderPerTopic(out, broker);
  let mqttSessions: number | undefined;
  if (mqtt) {
    const m = mqtt();
    renderMqtt(out, m);
    mqttSessions = m.sessions;
    listeners.push({ listener: 'mqtt', open: m.connections, refused: m.refusedConnections });
  }
  if (amqp) {
    const a = amqp();
    renderAmqp(out, a);
    listeners.push({ listener: 'amqp', open: a.connections, refused: a.refusedConnections });
  }
  renderConnections(out, listeners, mqttSessions);
  return out.text();
}

function renderEngine(out: Exposition, broker: Broker): void {
  const m = broker.metrics;
  out
    .single('apogee_send_requests_total', 'counter', 'Send requests received', m.sendRequests)
    .single('apogee_send_messages_total', 'counter', 'Messages stored by sends', m.sendMessages)
    .single('apogee_send_bytes_total', 'counter', 'Body bytes stored by sends', m.sendBytes)
    .single('apogee_send_failures_total', 'counter', 'Sends the store failed', m.sendFailures)
    .single('apogee_pull_requests_total', 'counter', 'Pull requests received', m.pullRequests)
    .single('apogee_pull_messages_total', 'counter', 'Messages returned by pulls', m.pullMessages)
    .single('apogee_pull_held_total', 'counter', 'Pulls held for arrivals (long polling)', m.pullHeld)
    .single('apogee_pulls_waiting', 'gauge', 'Pulls held right now', m.pullsWaiting)
    .single('apogee_send_backs_total', 'counter', 'Messages handed back for retry', m.sendBacks)
    .single('apogee_dead_lettered_total', 'counter', 'Messages moved to a DLQ', m.deadLettered)
    .single('apogee_delayed_scheduled_total', 'counter', 'Messages stored with a delay level', m.delayedScheduled)
    .single('apogee_delayed_delivered_total', 'counter', 'Delayed messages delivered to their topic', m.delayedDelivered)
    .single('apogee_timers_scheduled_total', 'counter', 'Timer messages stored in the timer topic', m.timersScheduled)
    .single('apogee_timers_fired_total', 'counter', 'Timer messages fired to their real topic', m.timersFired)
    .single('apogee_timers_pending', 'gauge', 'Timer messages indexed and not yet fired', m.timersPending)
    .single('apogee_store_puts_in_flight', 'gauge', 'Store writes awaiting their flush', m.putsInFlight);
  out.family('apogee_broker_trace_records_total', 'counter', 'Broker trace records (docs/trace.md), by outcome');
  for (const [outcome, n] of Object.entries(broker.tracer.counts)) out.sample('apogee_broker_trace_records_total', n, { outcome });
  out.family('apogee_send_refusals_total', 'counter', 'Sends refused, by reason');
  for (const [reason, n] of Object.entries(m.refusals)) out.sample('apogee_send_refusals_total', n, { reason });
  out.family(
    'apogee_replication_shortfalls_total',
    'counter',
    'Sends stored on this master that synchronous replication answered short (FLUSH_SLAVE_TIMEOUT, SLAVE_NOT_AVAILABLE)',
  );
  for (const [outcome, n] of Object.entries(m.replicationShortfalls)) out.sample('apogee_replication_shortfalls_total', n, { outcome });
  out.histogram(
    'apogee_send_latency_seconds',
    "Confirmed sends and batches (every endpoint's), from their arrival at the engine to their store put confirmed under the flush mode",
    m.sendLatency.snapshot(),
  );
  out.histogram('apogee_pull_latency_seconds', 'Pulls served by the engine, the long-poll hold left out', m.pullLatency.snapshot());
}

/**
 * The group role and replication progress: on a master one series per connected replica (their
 * ids are the group's broker ids: a handful, never client-supplied), on a replica its own lag.
 */
function renderReplication(out: Exposition, s: ReplicationStats): void {
  out.family('apogee_ha_role', 'gauge', "This broker's role in its group: 1 for the current role, 0 for the other");
  out.sample('apogee_ha_role', s.role === 'master' ? 1 : 0, { role: 'master' });
  out.sample('apogee_ha_role', s.role === 'replica' ? 1 : 0, { role: 'replica' });
  out.single('apogee_ha_epoch', 'gauge', "The epoch this broker is in (a master's own; a replica's: the newest it has seen)", s.epoch);
  if (s.role === 'master') {
    out.family('apogee_ha_replica_lag_bytes', 'gauge', "Confirmed commit-log bytes a connected replica has not acknowledged yet (the master's view)");
    for (const r of s.replicas) out.sample('apogee_ha_replica_lag_bytes', r.lagBytes, { replica_id: String(r.replicaId) });
    const synced = s.replicas.filter((r) => r.inSync !== undefined);
    if (synced.length > 0 || s.inSyncReplicas !== undefined) {
      out.family('apogee_ha_replica_in_sync', 'gauge', 'Whether a connected replica is in the in-sync set (1) or not (0); --replication sync only');
      for (const r of synced) out.sample('apogee_ha_replica_in_sync', r.inSync ? 1 : 0, { replica_id: String(r.replicaId) });
    }
    if (s.inSyncReplicas !== undefined)
      out.single('apogee_ha_in_sync_replicas', 'gauge', 'Replicas in the in-sync set, the master not counted; --replication sync only', s.inSyncReplicas);
  } else {
    out
      .single('apogee_ha_lag_bytes', 'gauge', "Confirmed master commit-log bytes this replica does not hold yet (as of the master's last frame)", s.lagBytes)
      .single('apogee_ha_master_connected', 'gauge', 'Whether this replica is connected to its master (1) or not (0)', s.connected ? 1 : 0);
  }
}

function renderStore(out: Exposition, broker: Broker, disk: DiskFigures | undefined): void {
  const s = broker.storeStats();
  out
    .single('apogee_store_commitlog_max_offset', 'gauge', 'Commit-log bytes appended', s.maxCommitLogOffset)
    .single('apogee_store_commitlog_flushed_offset', 'gauge', 'Commit-log bytes durable', s.flushedCommitLogOffset)
    .single('apogee_store_segments', 'gauge', 'Commit-log segment files', s.segments)
    .single('apogee_store_cached_queues', 'gauge', 'Queue states in memory', s.cachedQueues)
    .single('apogee_store_disk_bytes', 'gauge', "Size of the commit log's segment files", s.commitLogFileBytes)
    .histogram('apogee_store_fsync_seconds', 'Each commit-log fdatasync, from the call to its callback', broker.fsyncLatency.snapshot());
  if (disk?.freeBytes != null && disk.totalBytes != null) {
    out.single('apogee_store_disk_free_bytes', 'gauge', "Bytes free (for unprivileged writers) on the data directory's filesystem", disk.freeBytes);
    out.single('apogee_store_disk_total_bytes', 'gauge', "Size of the data directory's filesystem", disk.totalBytes);
  }
  if (disk) {
    const age = disk.oldestStoreTimestamp === null ? 0 : Math.max(0, (Date.now() - disk.oldestStoreTimestamp) / 1000);
    out.single('apogee_store_oldest_message_age_seconds', 'gauge', 'Age of the oldest message retained in the commit log (0 when it is empty)', age);
  }
  out
    .single('apogee_topics', 'gauge', 'Topic configs', broker.topics.list().length)
    .single('apogee_consumer_groups_online', 'gauge', 'Consumer groups with a live member', broker.consumers.groupNames().length);
}

/** Per-topic and per-group series: configured topics only, at most MAX_LABEL_SETS label sets a family, the rest as `_other`. */
function renderPerTopic(out: Exposition, broker: Broker): void {
  const m = broker.metrics;
  const exists = (topic: string) => broker.topics.get(topic) !== undefined;
  m.topics.retain(exists);
  m.consumed.retain(exists);
  const topics = [...m.topics.entries()];
  const other = m.topics.other;
  const folded = other.messagesIn + other.bytesIn + other.messagesOut > 0;
  const perTopic = (name: string, help: string, pick: (c: typeof other) => number) => {
    out.family(name, 'counter', help);
    for (const [topic, c] of topics) out.sample(name, pick(c), { topic });
    if (folded) out.sample(name, pick(other), { topic: '_other' });
  };
  perTopic('apogee_topic_messages_in_total', 'Messages stored by sends to a topic (as the producer named it)', (c) => c.messagesIn);
  perTopic('apogee_topic_bytes_in_total', 'Body bytes stored by sends to a topic', (c) => c.bytesIn);
  perTopic('apogee_topic_messages_out_total', 'Messages of a topic returned by pulls', (c) => c.messagesOut);
  out.family('apogee_group_messages_consumed_total', 'counter', 'Messages a consumer group pulled from a topic');
  for (const c of m.consumed.entries()) out.sample('apogee_group_messages_consumed_total', c.messages, { group: c.group, topic: c.topic });
  if (m.consumed.other.messages > 0) out.sample('apogee_group_messages_consumed_total', m.consumed.other.messages, { group: '_other', topic: '_other' });
  out.family('apogee_group_lag_messages', 'gauge', "Messages stored and not yet committed by a consumer group, summed over the topic's queues");
  for (const l of broker.groupLag()) out.sample('apogee_group_lag_messages', l.lag, { group: l.group, topic: l.topic });
}

function renderMqtt(out: Exposition, m: MqttGatewayStats): void {
  out
    .single('apogee_mqtt_connections', 'gauge', 'MQTT connections open', m.connections)
    .single('apogee_mqtt_sessions', 'gauge', 'MQTT sessions (online and persistent)', m.sessions)
    .single('apogee_mqtt_subscriptions', 'gauge', 'MQTT subscriptions', m.subscriptions)
    .single('apogee_mqtt_filters', 'gauge', 'Distinct MQTT filters registered for dispatch', m.filters)
    .single('apogee_mqtt_lmqs_watched', 'gauge', 'LMQs with an online reader', m.lmqsWatched)
    .single('apogee_mqtt_messages_in_total', 'counter', 'PUBLISH packets received', m.messagesIn)
    .single('apogee_mqtt_messages_out_total', 'counter', 'PUBLISH packets delivered', m.messagesOut)
    .single(
      'apogee_mqtt_messages_out_from_memory_total',
      'counter',
      'Subscription deliveries taken straight from the publish (caught-up subscribers), without a store read',
      m.messagesOutFromMemory,
    )
    .single('apogee_mqtt_dropped_total', 'counter', 'Messages skipped because a subscription backlog exceeded maxQueuedPerSubscription', m.droppedOffline)
    .single(
      'apogee_mqtt_dropped_slow_total',
      'counter',
      "QoS 0 deliveries dropped because the connection's outbound buffer was over maxOutboundBufferBytes (slow consumer)",
      m.droppedSlow,
    );
  renderRefusals(
    out,
    'apogee_mqtt_refusals_total',
    'MQTT CONNECTs, PUBLISHes and SUBSCRIBE filters refused, and connections closed on protocol errors, by operation and reason',
    m.refusals,
  );
}

function renderAmqp(out: Exposition, a: AmqpGatewayStats): void {
  out
    .single('apogee_amqp_connections', 'gauge', 'AMQP connections open', a.connections)
    .single('apogee_amqp_links', 'gauge', 'AMQP links attached', a.links)
    .single('apogee_amqp_readers', 'gauge', 'Queue and subscription readers open', a.readers)
    .single('apogee_amqp_messages_in_total', 'counter', 'AMQP messages stored', a.messagesIn)
    .single('apogee_amqp_messages_out_total', 'counter', 'AMQP messages delivered', a.messagesOut)
    .single('apogee_amqp_rejected_in_total', 'counter', 'Incoming AMQP messages rejected (oversize, forbidden, malformed, not stored)', a.rejectedIn)
    .single('apogee_amqp_dead_lettered_total', 'counter', 'Messages a receiver rejected, moved to their dead-letter queue', a.deadLettered)
    .single('apogee_amqp_connection_errors_total', 'counter', 'AMQP connections closed for framing or protocol errors', a.connectionErrors);
  renderRefusals(
    out,
    'apogee_amqp_refusals_total',
    'AMQP logins, opens, attaches and incoming messages refused, and connections closed on protocol errors, by operation and reason',
    a.refusals,
  );
}

/** A gateway's refusal counters: one sample per (operation, reason) of its fixed table, zeros included, so alerts see every series from the start. */
function renderRefusals(out: Exposition, name: string, help: string, counts: Readonly<Record<string, Readonly<Record<string, number>>>>): void {
  out.family(name, 'counter', help);
  for (const [operation, byReason] of Object.entries(counts)) for (const [reason, n] of Object.entries(byReason)) out.sample(name, n, { operation, reason });
}

function renderConnections(out: Exposition, listeners: readonly ListenerConnectionStats[], mqttSessions: number | undefined): void {
  out.family('apogee_connections_refused_total', 'counter', 'Connections closed at once because their listener had its maximum open');
  for (const l of listeners) out.sample('apogee_connections_refused_total', l.refused, { listener: l.listener });
  const byProtocol = new Map<string, number>();
  for (const l of listeners) {
    const protocol = PROTOCOL_OF_LISTENER[l.listener] ?? l.listener;
    byProtocol.set(protocol, (byProtocol.get(protocol) ?? 0) + l.open);
  }
  out.family('apogee_connections', 'gauge', 'Connections open, by protocol (remoting: the NameServer and broker ports)');
  for (const [protocol, open] of byProtocol) out.sample('apogee_connections', open, { protocol });
  if (mqttSessions !== undefined)
    out.family('apogee_sessions', 'gauge', 'Protocol sessions (MQTT: online and persistent)').sample('apogee_sessions', mqttSessions, { protocol: 'mqtt' });
}
