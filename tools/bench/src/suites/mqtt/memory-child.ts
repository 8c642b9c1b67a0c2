/**
 * Load generator of the mqtt memory scenario, in its own process: resident memory a broker adds
 * per idle connection and per subscription, read from /proc/<pid>/status (VmRSS) of the broker.
 *
 * Each run, per broker (round-robin, after one discarded warm-up round):
 *  - connections: opens `connections` new idle MQTT connections (raw sockets: CONNECT/CONNACK,
 *    clean session, no keep-alive, no subscription), waits `settleMs`, RSS delta / count;
 *  - subscriptions: one new mqtt.js connection (RSS read after it connected) subscribes
 *    `subscriptions` new distinct topics at QoS 1, `subscribeBatch` filters per SUBSCRIBE; waits
 *    `settleMs`, RSS delta / count.
 * Everything opened stays open until the end, so each run measures the increment on top of the
 * previous ones (memory a garbage-collected broker freed is not handed back and re-counted).
 */
import type net from 'node:net';
import type { MqttClient } from 'mqtt';
import { childMain } from '../../child.js';
import { alternate, runLabel, WARMUP } from '../../runner.js';
import type { BrokerName, BrokerRef } from './brokers.js';
import { closeAll, connect, log, openIdle, rssBytes } from './wire.js';

export interface MemoryInput {
  brokers: BrokerRef[];
  runs: number;
  connections: number;
  subscriptions: number;
  subscribeBatch: number;
  settleMs: number;
  /** Connections opened at once. */
  parallel: number;
}

export interface MemoryRun {
  /** Bytes of RSS per idle connection. */
  perConnection: number;
  /** Bytes of RSS per subscription. */
  perSubscription: number;
  rssBefore: number;
  rssAfter: number;
  connectMs: number;
  subscribeMs: number;
}

export interface MemoryOutput {
  runs: Partial<Record<BrokerName, MemoryRun[]>>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function run(input: MemoryInput): Promise<MemoryOutput> {
  const sockets: net.Socket[] = [];
  const clients: MqttClient[] = [];
  let runNo = 0;
  try {
    const runs: Partial<Record<BrokerName, MemoryRun[]>> = {};
    const fns = input.brokers.map((b) => async (r: number): Promise<number> => {
      const n = r === WARMUP ? Math.min(100, input.connections) : input.connections;
      const m = r === WARMUP ? Math.min(100, input.subscriptions) : input.subscriptions;
      const tag = runNo++;
      await sleep(input.settleMs);
      const rss0 = await rssBytes(b.pid);
      const t0 = performance.now();
      for (let i = 0; i < n; i += input.parallel) {
        const batch = await Promise.all(Array.from({ length: Math.min(input.parallel, n - i) }, () => openIdle(b)));
        sockets.push(...batch);
      }
      const connectMs = performance.now() - t0;
      await sleep(input.settleMs);
      const rss1 = await rssBytes(b.pid);

      const c = await connect(b, 'mem');
      clients.push(c);
      await sleep(input.settleMs);
      const rss2 = await rssBytes(b.pid);
      const t1 = performance.now();
      for (let i = 0; i < m; i += input.subscribeBatch) {
        const topics = Array.from({ length: Math.min(input.subscribeBatch, m - i) }, (_, k) => `mem/${tag}/${i + k}`);
        const granted = await c.subscribeAsync(topics, { qos: 1 });
        if (granted.some((g) => g.qos > 2)) throw new Error(`${b.name} refused a subscription`);
      }
      const subscribeMs = performance.now() - t1;
      await sleep(input.settleMs);
      const rss3 = await rssBytes(b.pid);
      const res: MemoryRun = {
        perConnection: (rss1 - rss0) / n,
        perSubscription: (rss3 - rss2) / m,
        rssBefore: rss0,
        rssAfter: rss3,
        connectMs,
        subscribeMs,
      };
      log(
        `   ${runLabel(r).padEnd(7)} ${b.name.padEnd(9)} ${n} idle connections +${((rss1 - rss0) / 1048576).toFixed(1)} MiB = ${(res.perConnection / 1024).toFixed(2)} KiB each (${connectMs.toFixed(0)} ms); ` +
          `${m} subscriptions +${((rss3 - rss2) / 1048576).toFixed(1)} MiB = ${res.perSubscription.toFixed(0)} B each (${subscribeMs.toFixed(0)} ms); RSS now ${(rss3 / 1048576).toFixed(0)} MiB`,
      );
      if (r !== WARMUP) (runs[b.name] ??= []).push(res);
      return res.perConnection;
    });
    await alternate(input.runs, fns, { warmup: true });
    return { runs };
  } finally {
    for (const s of sockets) s.destroy();
    await closeAll(clients);
  }
}

await childMain(run);
