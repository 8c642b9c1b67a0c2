import { describe, expect, it } from 'vitest';
import { MQTT_REFUSAL_REASONS, MqttRefusalCounters } from './refusal-counters.js';

describe('MqttRefusalCounters', () => {
  it('starts with every reason of the table at 0', () => {
    const counts = new MqttRefusalCounters().snapshot();
    expect(Object.keys(counts)).toEqual(['connect', 'publish', 'subscribe', 'protocol']);
    for (const [operation, reasons] of Object.entries(MQTT_REFUSAL_REASONS)) {
      expect(counts[operation as keyof typeof counts]).toEqual(Object.fromEntries(reasons.map((r) => [r, 0])));
    }
  });

  it('counts by operation and reason, the same reason name apart under two operations', () => {
    const c = new MqttRefusalCounters();
    c.count('connect', 'bad_credentials');
    c.count('connect', 'bad_credentials');
    c.count('publish', 'not_authorized');
    c.count('protocol', 'packet_too_large');
    const s = c.snapshot();
    expect(s.connect.bad_credentials).toBe(2);
    expect(s.publish.not_authorized).toBe(1);
    expect(s.subscribe.not_authorized).toBe(0);
    expect(s.protocol.packet_too_large).toBe(1);
  });

  it('hands out copies: a snapshot does not move with later counts', () => {
    const c = new MqttRefusalCounters();
    const before = c.snapshot();
    c.count('subscribe', 'invalid_filter');
    expect(before.subscribe.invalid_filter).toBe(0);
    expect(c.snapshot().subscribe.invalid_filter).toBe(1);
  });

  it('label values are Prometheus-safe snake case, unique within an operation', () => {
    for (const reasons of Object.values(MQTT_REFUSAL_REASONS)) {
      expect(new Set(reasons).size).toBe(reasons.length);
      for (const r of reasons) expect(r).toMatch(/^[a-z][a-z0-9_]*$/);
    }
  });
});
