import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Broker, silentLogger, topicConfigOf } from '@apogee/broker';
import { AMQP_REFUSAL_REASONS, AmqpRefusalCounters, type AmqpGatewayStats } from '@apogee/amqp';
import { MQTT_REFUSAL_REASONS, MqttRefusalCounters, type MqttGatewayStats } from '@apogee/mqtt';
import { openStore, type MessageStore } from '@apogee/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderMetrics } from './render-metrics.js';

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
