/**
 * Child process of the timer scenario (run with --expose-gc): an in-process broker engine on a
 * fresh store. Measures the plain send rate, then schedules `timers` timer messages due an hour
 * ahead at `fireRate` per second apart (schedule rate, resident memory added once indexed), then
 * moves the engine's clock forward to just before the first due time and records the lateness
 * (append time − due time) of every fired message.
 */
import os from 'node:os';
import path from 'node:path';
import { Broker, topicConfigOf } from '@apogee/broker';
import { PropertyKey } from '@apogee/message';
import { openStore } from '@apogee/store';
import { childMain } from '../../child.js';
import { readProcMemory } from '../../proc-memory.js';
import { pump, sleep } from '../../runner.js';

export interface PendingInput {
  dataDir: string;
  timers: number;
  plainSends: number;
  fireRate: number;
  precisionMs: number;
}

export interface PendingOutput {
  plainRate: number;
  scheduleRate: number;
  indexMs: number;
  rssBefore: number;
  rssAfter: number;
  anonBefore: number;
  anonAfter: number;
  fileBefore: number;
  fileAfter: number;
  peakRss: number;
  lateness: number[];
  fired: number;
  fireSeconds: number;
  loadAvg: number[];
}

const WINDOW = 512;
const HOUR = 3600_000;
const quiet = { info() {}, warn() {}, error() {} };

async function settled(): Promise<{ rss: number; anon: number; file: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(50);
  }
  const split = await readProcMemory(process.pid);
  return { rss: process.memoryUsage().rss, anon: split.anon, file: split.file };
}

async function run(input: PendingInput): Promise<PendingOutput> {
  const store = await openStore({ dataDir: path.join(input.dataDir, 'store'), flushMode: 'ASYNC_FLUSH', segmentSize: 256 << 20 }, quiet);
  let skew = 0;
  const now = () => Date.now() + skew;
  const broker = await Broker.open({ store, configDir: path.join(input.dataDir, 'config'), now, config: { timerPrecisionMs: input.precisionMs } });
  const body = Buffer.alloc(128, 1);
  const send = (topic: string, props: Map<string, string>) => broker.send({ topic, queueId: 0, body, properties: props, bornTimestamp: Date.now() });
  for (const t of ['BenchPlain', 'BenchTimer', 'BenchKick']) await broker.topics.createOrUpdate(topicConfigOf(t, 1));

  const p0 = performance.now();
  await pump({ window: WINDOW, maxOps: input.plainSends, durationMs: Number.POSITIVE_INFINITY, op: () => send('BenchPlain', new Map()) });
  const plainRate = input.plainSends / ((performance.now() - p0) / 1000);

  const before = await settled();
  const firstDue = Date.now() + HOUR;
  const spacing = 1000 / input.fireRate;
  const s0 = performance.now();
  await pump({
    window: WINDOW,
    maxOps: input.timers,
    durationMs: Number.POSITIVE_INFINITY,
    op: (i) => send('BenchTimer', new Map([[PropertyKey.TIMER_DELIVER_MS, String(Math.floor(firstDue + i * spacing))]])),
  });
  const scheduleRate = input.timers / ((performance.now() - s0) / 1000);
  const i0 = performance.now();
  await broker.timers.caughtUp();
  const indexMs = performance.now() - i0;
  await sleep(1000);
  const after = await settled();

  // Lateness: the engine's clock when each fired message becomes readable, minus its due time.
  const lateness: number[] = [];
  let offset = 0;
  let reading = false;
  const drain = async (): Promise<void> => {
    if (reading) return;
    reading = true;
    try {
      for (;;) {
        const r = await store.get('BenchTimer', 0, offset, 1024, { maxBytes: 4 << 20 });
        if (r.messages.length === 0) break;
        const at = now();
        for (const m of r.messages) {
          const props = m.record.toString('latin1');
          const k = props.indexOf('TIMER_OUT_MS\u0001');
          lateness.push(at - Number(props.slice(k + 13, props.indexOf('\u0002', k))));
        }
        offset = r.nextOffset;
      }
    } finally {
      reading = false;
    }
  };
  const done = new Promise<void>((resolve) => {
    store.onArrival('BenchTimer', 0, () => {
      void drain().then(() => {
        if (lateness.length >= input.timers) resolve();
      });
    });
  });
  skew = firstDue - 1000 - Date.now();
  // A timer due sooner than the one armed wakes the firing loop under the new clock.
  await send('BenchKick', new Map([[PropertyKey.TIMER_DELIVER_MS, String(now() + 500)]]));
  const f0 = performance.now();
  // The engine's timers are unref'd: keep the process alive while they fire.
  const keepAlive = setInterval(() => {}, 1000);
  await done;
  clearInterval(keepAlive);
  const fireSeconds = (performance.now() - f0) / 1000;
  await broker.close();
  await store.close();
  return {
    plainRate,
    scheduleRate,
    indexMs,
    rssBefore: before.rss,
    rssAfter: after.rss,
    anonBefore: before.anon,
    anonAfter: after.anon,
    fileBefore: before.file,
    fileAfter: after.file,
    peakRss: process.resourceUsage().maxRSS * 1024,
    lateness,
    fired: lateness.length,
    fireSeconds,
    loadAvg: os.loadavg(),
  };
}

await childMain(run);
