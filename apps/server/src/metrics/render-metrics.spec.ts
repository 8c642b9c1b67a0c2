import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Broker, silentLogger, topicConfigOf } from '@apogee/broker';
import { AMQP_REFUSAL_REASONS, AmqpRefusalCounters, type AmqpGatewayStats } from '@apogee/amqp';
import { MQTT_REFUSAL_REASONS, MqttRefusalCounters, type MqttGatewayStats } from '@apogee/mqtt';
import { openStore, type MessageStore } from '@apogee/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderMetrics } from './render-metrics.js';
import type { MasterReplicationStats, ReplicationStats } from './replication-stats.js';

let dir: string;
let store: MessageStore;
let broker: Broker;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-render-'));
  store = await openStore({ dataDir: path.join(dir, 'store'), segmentSize: 1024 * 1024 }, silentLogger);
  broker = await Broker.open({ store, configDir: path.join(dir, 'config') });
});

afterEach(async () => {
  await broker.close();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const send = (topic: string, body: string) => broker.send({ topic, queueId: 0, body: Buffer.from(body), properties: new Map() });

/** Families declared by TYPE lines, in order. */
const families = (text: string) => [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]!);

describe('renderMetrics', () => {
  it('declares each family once, every sample under a declared family', async () => {
    await broker.topics.createOrUpdate(topicConfigOf('T', 1, 6));
    await send('T', 'x');
    const listeners = [{ listener: 'broker', open: 2, refused: 0 }];
    const text = renderMetrics(broker, undefined, undefined, listeners, { freeBytes: 10, totalBytes: 20, oldestStoreTimestamp: Date.now() });
    const declared = families(text);
    expect(new Set(declared).size).toBe(declared.length);
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      const name = /^[a-z_:][a-z0-9_:]*/.exec(line)![0];
      expect(
        declared.some((f) => name === f || name === `${f}_bucket` || name === `${f}_sum` || name === `${f}_count`),
        line,
      ).toBe(true);
    }
    expect(text).toMatch(/^apogee_topic_messages_in_total\{topic="T"\} 1$/m);
    expect(text).toMatch(/^apogee_connections\{protocol="remoting"\} 2$/m);
    expect(text).toMatch(/^apogee_store_disk_free_bytes 10$/m);
    expect(text).toMatch(/^apogee_send_latency_seconds_count 1$/m);
    expect(text).not.toMatch(/_other/);
  });

  it('drops the series of a deleted topic', async () => {
    await broker.topics.createOrUpdate(topicConfigOf('Gone', 1, 6));
    await send('Gone', 'x');
    expect(renderMetrics(broker)).toMatch(/topic="Gone"/);
    await broker.topics.delete('Gone');
    expect(renderMetrics(broker)).not.toMatch(/topic="Gone"/);
  });

  it('leaves the disk gauges out without a probe, and shows only what the probe could read', () => {
    expect(renderMetrics(broker)).not.toMatch(/apogee_store_disk_free_bytes/);
    const text = renderMetrics(broker, undefined, undefined, [], { freeBytes: null, totalBytes: null, oldestStoreTimestamp: null });
    expect(text).not.toMatch(/apogee_store_disk_free_bytes/);
    expect(text).toMatch(/^apogee_store_oldest_message_age_seconds 0$/m);
  });
});

describe('renderMetrics: MQTT and AMQP refusals', () => {
  const mqttStats = (refusals: MqttRefusalCounters): MqttGatewayStats => ({
    connections: 0,
    sessions: 0,
    subscriptions: 0,
    filters: 0,
    lmqsWatched: 0,
    messagesIn: 0,
    messagesOut: 0,
    messagesOutFromMemory: 0,
    droppedOffline: 0,
    droppedSlow: 0,
    refusedConnections: 0,
    refusals: refusals.snapshot(),
  });
  const amqpStats = (refusals: AmqpRefusalCounters): AmqpGatewayStats => ({
    connections: 0,
    links: 0,
    readers: 0,
    messagesIn: 0,
    messagesOut: 0,
    rejectedIn: 0,
    deadLettered: 0,
    connectionErrors: 0,
    refusedConnections: 0,
    refusals: refusals.snapshot(),
  });

  it('writes one sample per operation and reason of the tables, zeros included, with what was counted', () => {
    const m = new MqttRefusalCounters();
    m.count('connect', 'bad_credentials');
    m.count('connect', 'bad_credentials');
    const a = new AmqpRefusalCounters();
    a.count('attach', 'not_authorized');
    const text = renderMetrics(
      broker,
      () => mqttStats(m),
      () => amqpStats(a),
    );
    expect(text).toMatch(/^# TYPE apogee_mqtt_refusals_total counter$/m);
    expect(text).toMatch(/^# TYPE apogee_amqp_refusals_total counter$/m);
    const mqttLines = text.split('\n').filter((l) => l.startsWith('apogee_mqtt_refusals_total{'));
    expect(mqttLines).toHaveLength(Object.values(MQTT_REFUSAL_REASONS).reduce((n, r) => n + r.length, 0));
    for (const [operation, reasons] of Object.entries(MQTT_REFUSAL_REASONS)) {
      for (const reason of reasons) {
        const n = operation === 'connect' && reason === 'bad_credentials' ? 2 : 0;
        expect(mqttLines).toContain(`apogee_mqtt_refusals_total{operation="${operation}",reason="${reason}"} ${n}`);
      }
    }
    const amqpLines = text.split('\n').filter((l) => l.startsWith('apogee_amqp_refusals_total{'));
    expect(amqpLines).toHaveLength(Object.values(AMQP_REFUSAL_REASONS).reduce((n, r) => n + r.length, 0));
    expect(amqpLines).toContain('apogee_amqp_refusals_total{operation="attach",reason="not_authorized"} 1');
    expect(amqpLines).toContain('apogee_amqp_refusals_total{operation="sasl",reason="bad_credentials"} 0');
  });
});

describe('renderMetrics: replication (apogee_ha_*)', () => {
  const master = (replication: 'sync' | 'async'): MasterReplicationStats => ({
    role: 'master',
    brokerId: 0,
    epoch: 3,
    replication,
    replicas: [
      { replicaId: 1, remote: '127.0.0.1:40001', ackedOffset: 900, lagBytes: 100, ...(replication === 'sync' ? { inSync: true } : {}) },
      { replicaId: 2, remote: '127.0.0.1:40002', ackedOffset: 0, lagBytes: 1000, ...(replication === 'sync' ? { inSync: false } : {}) },
    ],
    ...(replication === 'sync' ? { inSyncReplicas: 1 } : {}),
  });
  const lines = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix));

  it('renders a sync master: role, epoch, per-replica lag and in-sync flags, the in-sync count', () => {
    const text = renderMetrics(broker, undefined, undefined, [], undefined, () => master('sync'));
    expect(text).toMatch(/^# TYPE apogee_ha_role gauge$/m);
    expect(lines(text, 'apogee_ha_role{')).toEqual(['apogee_ha_role{role="master"} 1', 'apogee_ha_role{role="replica"} 0']);
    expect(text).toMatch(/^apogee_ha_epoch 3$/m);
    expect(lines(text, 'apogee_ha_replica_lag_bytes{')).toEqual([
      'apogee_ha_replica_lag_bytes{replica_id="1"} 100',
      'apogee_ha_replica_lag_bytes{replica_id="2"} 1000',
    ]);
    expect(lines(text, 'apogee_ha_replica_in_sync{')).toEqual(['apogee_ha_replica_in_sync{replica_id="1"} 1', 'apogee_ha_replica_in_sync{replica_id="2"} 0']);
    expect(text).toMatch(/^apogee_ha_in_sync_replicas 1$/m);
    expect(text).not.toMatch(/apogee_ha_lag_bytes|apogee_ha_master_connected/);
  });

  it('leaves the in-sync families out for an async master, and keeps the lag families without replicas', () => {
    const text = renderMetrics(broker, undefined, undefined, [], undefined, () => master('async'));
    expect(lines(text, 'apogee_ha_replica_lag_bytes{')).toHaveLength(2);
    expect(text).not.toMatch(/apogee_ha_replica_in_sync|apogee_ha_in_sync_replicas/);
    const alone = renderMetrics(broker, undefined, undefined, [], undefined, () => ({ ...master('sync'), replicas: [], inSyncReplicas: 0 }));
    expect(alone).toMatch(/^# TYPE apogee_ha_replica_lag_bytes gauge$/m);
    expect(lines(alone, 'apogee_ha_replica_lag_bytes{')).toEqual([]);
    expect(alone).toMatch(/^apogee_ha_in_sync_replicas 0$/m);
  });

  it('renders a replica: its lag and whether its master is connected', () => {
    const replica: ReplicationStats = { role: 'replica', brokerId: 1, epoch: 2, master: '127.0.0.1:10912', connected: false, lagBytes: 4096 };
    const text = renderMetrics(broker, undefined, undefined, [], undefined, () => replica);
    expect(lines(text, 'apogee_ha_role{')).toEqual(['apogee_ha_role{role="master"} 0', 'apogee_ha_role{role="replica"} 1']);
    expect(text).toMatch(/^apogee_ha_epoch 2$/m);
    expect(text).toMatch(/^apogee_ha_lag_bytes 4096$/m);
    expect(text).toMatch(/^apogee_ha_master_connected 0$/m);
    expect(text).not.toMatch(/apogee_ha_replica_|apogee_ha_in_sync_replicas/);
  });

  it('renders no apogee_ha_* family without the option or when it answers null (a lone broker)', () => {
    expect(renderMetrics(broker)).not.toMatch(/apogee_ha_/);
    expect(renderMetrics(broker, undefined, undefined, [], undefined, () => null)).not.toMatch(/apogee_ha_/);
  });

  it('declares every family it renders once, each one described in docs/metrics.md', () => {
    const doc = fs.readFileSync(new URL('../../../../docs/metrics.md', import.meta.url), 'utf8');
    const documented = new Set([...doc.matchAll(/`(apogee_[a-z0-9_]+)`/g)].map((m) => m[1]!));
    const replica: ReplicationStats = { role: 'replica', brokerId: 1, epoch: 2, master: null, connected: true, lagBytes: 0 };
    const disk = { freeBytes: 10, totalBytes: 20, oldestStoreTimestamp: Date.now() };
    for (const ha of [master('sync'), replica]) {
      const declared = families(renderMetrics(broker, undefined, undefined, [], disk, () => ha));
      expect(new Set(declared).size).toBe(declared.length);
      const undocumented = declared.filter((f) => !documented.has(f));
      expect(undocumented, 'families rendered but not in docs/metrics.md').toEqual([]);
    }
  });
});
