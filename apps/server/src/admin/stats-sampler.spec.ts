import os from 'node:os';
import { describe, expect, it } from 'vitest';
import type { Broker } from '@apogee/broker';
import type { MqttGateway } from '@apogee/mqtt';
import { MAX_SAMPLES, StatsSampler, type StatsSources } from './stats-sampler.js';

function fakeSources() {
  const metrics = { sendMessages: 0, pullMessages: 0, topics: { entries: () => [] } };
  const store = { minCommitLogOffset: 100, maxCommitLogOffset: 100 };
  const mqtt = { connections: 2, messagesIn: 0, messagesOut: 0 };
  const src: StatsSources = {
    broker: { metrics, storeStats: () => store } as unknown as Broker,
    mqtt: { stats: () => mqtt } as unknown as MqttGateway,
    amqp: null,
    dataDir: os.tmpdir(),
  };
  return { src, metrics, store, mqtt };
}

describe('StatsSampler', () => {
  it('turns counter growth into per-second rates over the time between samples', () => {
    const { src, metrics, store, mqtt } = fakeSources();
    let now = 10_000;
    const sampler = new StatsSampler(
      src,
      () => 3,
      () => now,
    );
    sampler.start();
    sampler.stop();
    metrics.sendMessages = 10;
    metrics.pullMessages = 4;
    mqtt.messagesIn = 6;
    mqtt.messagesOut = 2;
    store.maxCommitLogOffset = 1100;
    now += 2000;
    const s = sampler.sample();
    expect(s).toMatchObject({ t: 12_000, messagesIn: 5, messagesOut: 3, mqttIn: 3, mqttOut: 1, amqpIn: 0, amqpOut: 0, storeBytes: 1000, fsync: null });
    expect(s.connections).toEqual({ remoting: 3, mqtt: 2, amqp: 0 });
    now += 1000;
    expect(sampler.sample()).toMatchObject({ messagesIn: 0, messagesOut: 0 });
  });

  it('keeps the last MAX_SAMPLES and answers those after `since`', () => {
    const { src } = fakeSources();
    let now = 0;
    const sampler = new StatsSampler(
      { ...src, fsyncLatencyMs: () => ({ p50: 1.5, p99: 9 }) },
      () => 0,
      () => now,
    );
    for (let i = 0; i < MAX_SAMPLES + 20; i++) {
      now += 1000;
      sampler.sample();
    }
    const all = sampler.since();
    expect(all).toHaveLength(MAX_SAMPLES);
    expect(all[0]!.t).toBe(21_000);
    expect(all[0]!.fsync).toEqual({ p50Ms: 1.5, p99Ms: 9 });
    expect(sampler.since(now - 3000).map((s) => s.t)).toEqual([now - 2000, now - 1000, now]);
    expect(sampler.since(now)).toEqual([]);
  });
});
