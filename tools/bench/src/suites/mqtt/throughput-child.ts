/**
 * Load generator of the mqtt throughput scenarios, in its own process (the brokers are three
 * other processes). Against every broker it opens the same rig — one publisher connection and
 * `subscribers` subscriber connections, each subscribing its share of `topics` — then runs the
 * brokers round-robin (Apogee, aedes, mosquitto, Apogee, …) after one discarded warm-up round and
 * returns the deliveries/s of every run.
 *
 * Flow control, the same for every broker:
 *  - QoS 0: at most `window` messages published but not yet delivered to all their subscribers;
 *  - QoS 1: at most `window` publishes not yet acknowledged (PUBACK), and at most `maxBacklog`
 *    not yet delivered (so a broker that acknowledges before it delivers cannot queue unboundedly).
 * A run publishes until `maxMessages` or `durationMs`, then waits (at most `drainMs`) for the
 * deliveries of what it published; the rate is deliveries / (last delivery − first publish). A run
 * that makes no progress for `stallMs` ends early and is flagged.
 */
import type { MqttClient } from 'mqtt';
import { childMain } from '../../child.js';
import { alternate, runLabel, WARMUP } from '../../runner.js';
import type { BrokerName, BrokerRef } from './brokers.js';
import { closeAll, connect, cpuMs, errText, HEADER, log, PAYLOAD } from './wire.js';

export interface ThroughputInput {
  brokers: BrokerRef[];
  /** Short tag for topics and client ids. */
  tag: string;
  qos: 0 | 1;
  /** Distinct topics; message i goes to topic i % topics. */
  topics: number;
  /** Subscriber connections. */
  subscribers: number;
  /** true: every subscriber subscribes every topic (fan-out); false: the topics are split evenly among them. */
  fanout: boolean;
  /** See the header: undelivered messages (QoS 0) or unacknowledged publishes (QoS 1). */
  window: number;
  /** QoS 1 only: most messages published but not yet delivered. */
  maxBacklog: number;
  /** Filters per SUBSCRIBE packet while setting up. */
  subscribeBatch: number;
  runs: number;
  maxMessages: number;
  durationMs: number;
  warmupMs: number;
  drainMs: number;
  stallMs: number;
}

export interface ThroughputRun {
  /** Deliveries per second. */
  rate: number;
  published: number;
  acked: number;
  deliveries: number;
  /** Deliveries the published messages should have made. */
  expected: number;
  elapsedMs: number;
  stalled: boolean;
  /** Times publishing was held back by maxBacklog (QoS 1) rather than by the ack window. */
  backlogHolds: number;
  /** Deliveries of other runs (late stragglers) seen during this run. */
  strays: number;
  /** CPU used during the run / wall time, % of one core: the broker's and this load generator's. */
  brokerCpu: number;
  clientCpu: number;
}

export interface ThroughputOutput {
  /** Deliveries/s per run, by broker name. */
  samples: Partial<Record<BrokerName, number[]>>;
  runs: Partial<Record<BrokerName, ThroughputRun[]>>;
  setupMs: Partial<Record<BrokerName, number>>;
  errors: string[];
}

const PROBE_RUN = -7;

class Rig {
  private readonly topicNames: string[];
  private pub!: MqttClient;
  private subs: MqttClient[] = [];
  /** Subscribers of each topic. */
  private readonly perTopic: number[];
  private current: RunState | null = null;
  private probeSeen = 0;
  readonly errors: string[] = [];

  constructor(
    readonly broker: BrokerRef,
    private readonly input: ThroughputInput,
  ) {
    this.topicNames = Array.from({ length: input.topics }, (_, i) => `${broker.topicPrefix ?? `bench/${input.tag}`}/${i}`);
    this.perTopic = new Array<number>(input.topics).fill(input.fanout ? input.subscribers : 1);
  }

  /** Topics subscriber j subscribes. */
  private topicsOf(j: number): string[] {
    const { topics, subscribers, fanout } = this.input;
    if (fanout) return this.topicNames;
    const out: string[] = [];
    for (let t = j; t < topics; t += subscribers) out.push(this.topicNames[t]!);
    return out;
  }

  async open(): Promise<number> {
    const t0 = performance.now();
    const b = this.broker;
    const qos = this.input.qos;
    this.pub = await connect(b, 'pub');
    this.pub.on('error', (err) => this.errors.push(`publisher: ${errText(err)}`));
    for (let j = 0; j < this.input.subscribers; j++) {
      const c = await connect(b, 'sub');
      c.on('message', (_topic, payload) => this.onMessage(payload));
      this.subs.push(c);
      const topics = this.topicsOf(j);
      for (let i = 0; i < topics.length; i += this.input.subscribeBatch) {
        const granted = await c.subscribeAsync(topics.slice(i, i + this.input.subscribeBatch), { qos });
        const bad = granted.find((g) => g.qos !== qos);
        if (bad) throw new Error(`${b.name}: SUBSCRIBE ${bad.topic} granted ${bad.qos}, wanted ${qos}`);
      }
    }
    // Probe every topic (QoS 1) until every subscription has seen one: routing is live.
    const want = this.perTopic.reduce((a, n) => a + n, 0);
    const deadline = performance.now() + 30_000;
    const probe = Buffer.alloc(PAYLOAD, 0x61);
    probe.writeInt32LE(PROBE_RUN, 0);
    while (this.probeSeen < want) {
      this.probeSeen = 0;
      for (let i = 0; i < this.topicNames.length; i += 1000) {
        await Promise.all(this.topicNames.slice(i, i + 1000).map((t) => this.pub.publishAsync(t, probe, { qos: 1 })));
      }
      const until = performance.now() + 3000;
      while (this.probeSeen < want && performance.now() < until) await sleepMs(10);
      if (this.probeSeen < want && performance.now() > deadline)
        throw new Error(`${b.name}: probes reached ${this.probeSeen} of ${want} subscriptions in 30 s`);
    }
    await sleepMs(100);
    return performance.now() - t0;
  }

  private onMessage(payload: Buffer): void {
    if (payload.length < HEADER) return;
    const run = payload.readInt32LE(0);
    if (run === PROBE_RUN) {
      this.probeSeen++;
      return;
    }
    const st = this.current;
    if (!st) return;
    if (run !== st.id) {
      st.strays++;
      return;
    }
    st.delivered(payload.readInt32LE(4));
  }

  async run(id: number, durationMs: number): Promise<ThroughputRun> {
    const st = new RunState(id, this.input, this.pub, this.topicNames, this.perTopic);
    this.current = st;
    const b0 = await cpuMs(this.broker.pid);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    try {
      const res = await st.go(durationMs);
      const wall = performance.now() - t0;
      const c = process.cpuUsage(c0);
      const b1 = await cpuMs(this.broker.pid);
      return { ...res, brokerCpu: (100 * (b1 - b0)) / wall, clientCpu: (100 * (c.user + c.system)) / 1000 / wall };
    } finally {
      // Stragglers of this run arriving during the next one are counted there as strays.
      if (this.current === st) this.current = null;
    }
  }

  async close(): Promise<void> {
    await closeAll([this.pub, ...this.subs]);
  }
}

function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

class RunState {
  private readonly counts: Uint16Array;
  private sent = 0;
  private acked = 0;
  private completed = 0;
  private deliveries = 0;
  private expected = 0;
  private start = 0;
  private lastDelivery = 0;
  private lastProgress = 0;
  private stopped = false;
  private stalled = false;
  private backlogHolds = 0;
  private held = false;
  private pumping = false;
  private finish: (() => void) | null = null;
  private stopAt = 0;
  strays = 0;

  constructor(
    readonly id: number,
    private readonly input: ThroughputInput,
    private readonly pub: MqttClient,
    private readonly topics: readonly string[],
    private readonly perTopic: readonly number[],
  ) {
    this.counts = new Uint16Array(input.maxMessages);
  }

  delivered(seq: number): void {
    if (seq < 0 || seq >= this.sent) return;
    const n = ++this.counts[seq]!;
    this.deliveries++;
    const now = performance.now();
    this.lastDelivery = now;
    this.lastProgress = now;
    if (n === this.perTopic[seq % this.topics.length]) this.completed++;
    if (this.stopped) this.checkDone();
    else this.pump();
  }

  private onAck = (err?: Error): void => {
    if (err) {
      this.stalled = true;
      this.stopped = true;
      log(`   publish failed: ${errText(err)}`);
      this.checkDone();
      return;
    }
    this.acked++;
    this.lastProgress = performance.now();
    if (this.stopped) this.checkDone();
    else this.pump();
  };

  private canSend(): boolean {
    if (this.input.qos === 0) return this.sent - this.completed < this.input.window;
    if (this.sent - this.acked >= this.input.window) return false;
    if (this.sent - this.completed >= this.input.maxBacklog) {
      if (!this.held) this.backlogHolds++;
      this.held = true;
      return false;
    }
    this.held = false;
    return true;
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    const { qos, maxMessages } = this.input;
    const cb = qos === 1 ? this.onAck : undefined;
    const opts = { qos } as const;
    while (!this.stopped && this.canSend()) {
      if (this.sent >= maxMessages) {
        this.stop();
        break;
      }
      // Reading the clock every 64 publishes keeps its cost out of the figure.
      if ((this.sent & 63) === 0 && performance.now() >= this.stopAt) {
        this.stop();
        break;
      }
      const seq = this.sent++;
      const t = seq % this.topics.length;
      this.expected += this.perTopic[t]!;
      const b = Buffer.allocUnsafe(PAYLOAD);
      b.fill(0x61, HEADER);
      b.writeInt32LE(this.id, 0);
      b.writeInt32LE(seq, 4);
      b.writeDoubleLE(0, 8);
      this.pub.publish(this.topics[t]!, b, opts, cb);
    }
    this.pumping = false;
  }

  private stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.stopAt = Math.min(this.stopAt, performance.now());
    this.checkDone();
  }

  private checkDone(): void {
    const delivered = this.completed === this.sent;
    const acked = this.input.qos === 0 || this.acked === this.sent;
    if (delivered && acked) this.finish?.();
  }

  go(durationMs: number): Promise<Omit<ThroughputRun, 'brokerCpu' | 'clientCpu'>> {
    return new Promise((resolve) => {
      this.start = performance.now();
      this.lastProgress = this.start;
      this.lastDelivery = this.start;
      this.stopAt = this.start + durationMs;
      const watchdog = setInterval(() => {
        const now = performance.now();
        if (!this.stopped && now >= this.stopAt) this.stop();
        if (!this.stopped && now - this.lastProgress > this.input.stallMs) {
          this.stalled = true;
          this.stop();
        }
        if (this.stopped && (now - this.lastProgress > this.input.stallMs || now > this.stopAt + this.input.drainMs)) {
          if (this.completed < this.sent) this.stalled = this.stalled || now - this.lastProgress > this.input.stallMs;
          this.finish?.();
        }
      }, 50);
      this.finish = () => {
        this.finish = null;
        clearInterval(watchdog);
        const elapsedMs = this.lastDelivery - this.start;
        resolve({
          rate: elapsedMs > 0 ? this.deliveries / (elapsedMs / 1000) : 0,
          published: this.sent,
          acked: this.acked,
          deliveries: this.deliveries,
          expected: this.expected,
          elapsedMs,
          stalled: this.stalled,
          backlogHolds: this.backlogHolds,
          strays: this.strays,
        });
      };
      this.pump();
    });
  }
}

async function run(input: ThroughputInput): Promise<ThroughputOutput> {
  const rigs: Rig[] = [];
  const setupMs: Partial<Record<BrokerName, number>> = {};
  const errors: string[] = [];
  try {
    for (const b of input.brokers) {
      const rig = new Rig(b, input);
      rigs.push(rig);
      const ms = await rig.open();
      setupMs[b.name] = ms;
      log(
        `   ${b.name}: ${input.subscribers} subscriber(s) × ${input.fanout ? input.topics : input.topics / input.subscribers} topic(s) ready in ${ms.toFixed(0)} ms`,
      );
    }
    let nextId = 1;
    const runs: Partial<Record<BrokerName, ThroughputRun[]>> = {};
    const fns = rigs.map((rig) => async (r: number): Promise<number> => {
      const res = await rig.run(nextId++, r === WARMUP ? input.warmupMs : input.durationMs);
      const lost = res.expected - res.deliveries;
      log(
        `   ${runLabel(r).padEnd(7)} ${rig.broker.name.padEnd(9)} ${String(res.published).padStart(8)} published, ${String(res.deliveries).padStart(9)} delivered in ${res.elapsedMs.toFixed(0).padStart(5)} ms = ${res.rate.toFixed(0).padStart(8)}/s` +
          (lost > 0 ? `; ${lost} not delivered` : '') +
          (res.stalled ? '; STALLED' : '') +
          (res.backlogHolds > 0 ? `; backlog cap held publishing ${res.backlogHolds}×` : '') +
          (res.strays > 0 ? `; ${res.strays} strays` : '') +
          `; cpu broker ${res.brokerCpu.toFixed(0)}% client ${res.clientCpu.toFixed(0)}%`,
      );
      if (r !== WARMUP) (runs[rig.broker.name] ??= []).push(res);
      // Let the stragglers (if any) arrive before the next broker's run.
      await sleepMs(50);
      return res.rate;
    });
    const results = await alternate(input.runs, fns, { warmup: true });
    const samples: Partial<Record<BrokerName, number[]>> = {};
    rigs.forEach((rig, i) => (samples[rig.broker.name] = results[i]!));
    for (const rig of rigs) errors.push(...rig.errors.map((e) => `${rig.broker.name}: ${e}`));
    return { samples, runs, setupMs, errors };
  } finally {
    await Promise.allSettled(rigs.map((r) => r.close()));
  }
}

await childMain(run);
