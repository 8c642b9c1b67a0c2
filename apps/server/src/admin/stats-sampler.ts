import fs from 'node:fs/promises';
import type { AdminDeps } from './context.js';
import { TopicRates } from './topic-rates.js';

/** One second of the server's activity, as GET /api/v1/stats/overview answers it (the console's live charts). */
export interface StatsSample {
  /** When the sample was taken (epoch ms). */
  t: number;
  /** Messages stored per second, from every endpoint (the engine's sends: remoting, MQTT, AMQP). */
  messagesIn: number;
  /** Messages delivered per second: remoting pulls plus MQTT and AMQP deliveries. */
  messagesOut: number;
  /** The MQTT and AMQP endpoints' share of the two rates above (0 when the endpoint is off). */
  mqttIn: number;
  mqttOut: number;
  amqpIn: number;
  amqpOut: number;
  /** Connections open now, by protocol (remoting: the broker and NameServer ports). */
  connections: { remoting: number; mqtt: number; amqp: number };
  /** Bytes the commit log holds (max − min offset). */
  storeBytes: number;
  /** Free bytes on the data directory's file system (null when it cannot be read). */
  diskFreeBytes: number | null;
  /** Store fsync latency, when the store reports it (null until then). */
  fsync: { p50Ms: number; p99Ms: number } | null;
}

/** What the sampler reads of the admin API's dependencies (the remoting ports' connections come apart). */
export type StatsSources = Pick<AdminDeps, 'broker' | 'mqtt' | 'amqp' | 'dataDir' | 'fsyncLatencyMs'>;

/** Samples kept: five minutes at one a second. */
export const MAX_SAMPLES = 300;
export const SAMPLE_INTERVAL_MS = 1000;
/** statfs is asked at most this often; samples in between repeat its last answer. */
const DISK_EVERY_MS = 5000;

interface Counters {
  stored: number;
  delivered: number;
  mqttIn: number;
  mqttOut: number;
  amqpIn: number;
  amqpOut: number;
}

/**
 * Takes one StatsSample a second and keeps the last MAX_SAMPLES: rates are the counters' growth
 * since the previous sample divided by the time between the two, so a late timer tick gives a
 * lower count over a longer time, not a spike. The timer is unref()'d: it never holds the process.
 */
export class StatsSampler {
  private readonly samples: StatsSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private last: { t: number; c: Counters } | null = null;
  private disk: { at: number; free: number | null; pending: boolean } = { at: -Infinity, free: null, pending: false };
  /** Per-topic rates for the topic views, read on this sampler's tick. */
  readonly topicRates: TopicRates;

  constructor(
    private readonly src: StatsSources,
    private readonly remotingConnections: () => number,
    private readonly now: () => number = Date.now,
  ) {
    this.topicRates = new TopicRates(() => src.broker.metrics.topics.entries());
  }

  start(): void {
    if (this.timer) return;
    this.last = { t: this.now(), c: this.counters() };
    this.topicRates.tick(this.last.t);
    this.refreshDisk();
    this.timer = setInterval(() => this.sample(), SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The samples taken after `since` (epoch ms; all of them without it), oldest first. */
  since(since = -Infinity): StatsSample[] {
    let i = this.samples.length;
    while (i > 0 && this.samples[i - 1]!.t > since) i--;
    return this.samples.slice(i);
  }

  /** Takes a sample now (the timer's tick; public for tests). */
  sample(): StatsSample {
    const t = this.now();
    const mqtt = this.src.mqtt?.stats();
    const amqp = this.src.amqp?.stats();
    const c = this.counters(mqtt, amqp);
    const prev = this.last ?? { t: t - SAMPLE_INTERVAL_MS, c };
    const seconds = Math.max(t - prev.t, 1) / 1000;
    const rate = (k: keyof Counters) => Math.max(0, c[k] - prev.c[k]) / seconds;
    this.last = { t, c };
    const s = this.src.broker.storeStats();
    const fsync = this.src.fsyncLatencyMs?.() ?? null;
    if (t - this.disk.at >= DISK_EVERY_MS) this.refreshDisk();
    this.topicRates.tick(t);
    const sample: StatsSample = {
      t,
      messagesIn: rate('stored'),
      messagesOut: rate('delivered'),
      mqttIn: rate('mqttIn'),
      mqttOut: rate('mqttOut'),
      amqpIn: rate('amqpIn'),
      amqpOut: rate('amqpOut'),
      connections: { remoting: this.remotingConnections(), mqtt: mqtt?.connections ?? 0, amqp: amqp?.connections ?? 0 },
      storeBytes: Math.max(0, s.maxCommitLogOffset - s.minCommitLogOffset),
      diskFreeBytes: this.disk.free,
      fsync: fsync ? { p50Ms: fsync.p50, p99Ms: fsync.p99 } : null,
    };
    this.samples.push(sample);
    if (this.samples.length > MAX_SAMPLES) this.samples.splice(0, this.samples.length - MAX_SAMPLES);
    return sample;
  }

  private counters(mqtt = this.src.mqtt?.stats(), amqp = this.src.amqp?.stats()): Counters {
    const m = this.src.broker.metrics;
    return {
      // The engine counts every stored message, whichever endpoint sent it; MQTT and AMQP
      // deliveries do not go through pulls, so they add to the pulls' count.
      stored: m.sendMessages,
      delivered: m.pullMessages + (mqtt?.messagesOut ?? 0) + (amqp?.messagesOut ?? 0),
      mqttIn: mqtt?.messagesIn ?? 0,
      mqttOut: mqtt?.messagesOut ?? 0,
      amqpIn: amqp?.messagesIn ?? 0,
      amqpOut: amqp?.messagesOut ?? 0,
    };
  }

  private refreshDisk(): void {
    if (this.disk.pending) return;
    this.disk.pending = true;
    this.disk.at = this.now();
    fs.statfs(this.src.dataDir).then(
      (st) => {
        this.disk.free = st.bavail * st.bsize;
        this.disk.pending = false;
      },
      () => {
        this.disk.free = null;
        this.disk.pending = false;
      },
    );
  }
}
