/**
 * The three brokers of the mqtt suite, each in its own process on 127.0.0.1 and a free port:
 *  - apogee: the real server (apps/server, ASYNC_FLUSH, default MQTT settings) via ApogeeServer;
 *  - aedes: aedes 1.2 with its in-memory persistence (aedes-server.ts);
 *  - mosquitto: Debian's /usr/sbin/mosquitto with a config written to the temp dir (reported as
 *    unavailable when it is not installed).
 * Each is started by this suite and stopped by its own pid; nothing else is ever signalled.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from '../../suite.js';
import { ApogeeServer, freePort, OwnedProcess, REPO_ROOT, waitForPort } from '../remoting/common.js';

export const MOSQUITTO = process.env['APOGEE_BENCH_MOSQUITTO'] ?? '/usr/sbin/mosquitto';
const AEDES_MAIN = fileURLToPath(new URL('./aedes-server.ts', import.meta.url));

/** `-tls`: the same broker's MQTT-over-TLS listener (the tls suite). */
export type BrokerName = 'apogee' | 'aedes' | 'mosquitto' | 'apogee-tls' | 'mosquitto-tls';

/** What the load generator needs to know of a broker (JSON-serialisable, passed to children). */
export interface BrokerRef {
  name: BrokerName;
  host: string;
  port: number;
  /** The broker's process, for its VmRSS. */
  pid: number;
  /** Connect over TLS trusting this CA (PEM text); the certificate names localhost. */
  tls?: { ca: string };
  /** Topics of this broker's rig (default `bench/<tag>`): two rigs on one broker need their own. */
  topicPrefix?: string;
}

/** Baseline names as they appear in the report. */
export const PEER_LABEL: Record<'aedes' | 'mosquitto', string> = {
  aedes: 'plain aedes 1.2 (in-memory)',
  mosquitto: 'mosquitto',
};

/** Whether the mosquitto binary is installed; if not, the reason. */
export function mosquittoMissing(): string | null {
  return existsSync(MOSQUITTO) ? null : `${MOSQUITTO} not found (Debian package mosquitto not installed)`;
}

interface Peer {
  ref: BrokerRef;
  stop(): Promise<void>;
}

async function startAedes(): Promise<Peer> {
  const proc = spawn(process.execPath, ['--import', 'tsx', AEDES_MAIN, '0'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const p = new OwnedProcess(`aedes (pid ${proc.pid})`, proc);
  try {
    const line = await p.waitFor(/aedes: ready 127\.0\.0\.1:\d+/, 30_000);
    const port = Number(line.slice(line.lastIndexOf(':') + 1));
    return { ref: { name: 'aedes', host: '127.0.0.1', port, pid: proc.pid! }, stop: async () => void (await p.stop(5000)) };
  } catch (err) {
    await p.stop(2000);
    throw err;
  }
}

/** Outgoing QoS 1/2 deliveries in flight per client, for Apogee and mosquitto alike. */
export const MAX_INFLIGHT = 1000;

/** The mosquitto config: loopback listener, anonymous, no persistence, windows large enough for the QoS 1 scenarios. */
export function mosquittoConf(port: number): string {
  return [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    // Outgoing QoS 1/2 in flight per client (default 20) and queued beyond that (default 1,000):
    // the QoS 1 scenarios keep 1,000 publishes in flight, and a subscriber may lag that much.
    `max_inflight_messages ${MAX_INFLIGHT}`,
    'max_queued_messages 100000',
    'max_connections -1',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ].join('\n');
}

async function startMosquitto(dir: string): Promise<Peer> {
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  await writeFile(conf, mosquittoConf(port));
  const proc = spawn(MOSQUITTO, ['-c', conf], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const p = new OwnedProcess(`mosquitto (pid ${proc.pid})`, proc);
  try {
    await waitForPort(port, 10_000, p);
    return { ref: { name: 'mosquitto', host: '127.0.0.1', port, pid: proc.pid! }, stop: async () => void (await p.stop(5000)) };
  } catch (err) {
    await p.stop(2000);
    throw err;
  }
}

export interface Brokers {
  /** apogee, aedes and (when installed) mosquitto, in that order. */
  all: BrokerRef[];
  /** Why mosquitto is not among them, or null. */
  mosquittoMissing: string | null;
}

/**
 * Runs fn with the three brokers started (Apogee on a fresh data dir), stopping every one of them
 * by its pid whatever happens.
 */
export async function withBrokers<T>(ctx: BenchContext, fn: (b: Brokers) => Promise<T>): Promise<T> {
  return ctx.tmp.with('mqtt', async (dir) => {
    const t0 = performance.now();
    const missing = mosquittoMissing();
    const dataDir = path.join(dir, 'apogee');
    await mkdir(dataDir, { recursive: true });
    // The same outgoing QoS 1/2 window as mosquitto's config below (Apogee's default is 100).
    const apogeeConfig = path.join(dir, 'apogee.json');
    await writeFile(apogeeConfig, JSON.stringify({ mqtt: { maxInflight: MAX_INFLIGHT } }));
    const started = await Promise.allSettled([
      ApogeeServer.start(dataDir, 'async', apogeeConfig).then((s): Peer => ({
        ref: { name: 'apogee', host: '127.0.0.1', port: s.mqttPort, pid: s.pid! },
        stop: () => s.stop(),
      })),
      startAedes(),
      missing ? Promise.resolve(null) : startMosquitto(dir),
    ]);
    const peers: Peer[] = [];
    for (const s of started) if (s.status === 'fulfilled' && s.value) peers.push(s.value);
    const stopAll = async (failed: boolean): Promise<void> => {
      const stops = await Promise.allSettled(peers.map((p) => p.stop()));
      for (const s of stops) {
        if (s.status === 'rejected' && !failed) throw s.reason;
        if (s.status === 'rejected') ctx.log(`   while stopping: ${String(s.reason)}`);
      }
    };
    const failure = started.find((s) => s.status === 'rejected');
    if (failure) {
      await stopAll(true);
      throw (failure as PromiseRejectedResult).reason;
    }
    ctx.log(
      `   brokers up in ${((performance.now() - t0) / 1000).toFixed(1)} s: ` +
        peers.map((p) => `${p.ref.name} pid ${p.ref.pid} port ${p.ref.port}`).join(', ') +
        (missing ? `; mosquitto unavailable: ${missing}` : ''),
    );
    let failed = true;
    try {
      const out = await fn({ all: peers.map((p) => p.ref), mosquittoMissing: missing });
      failed = false;
      return out;
    } finally {
      await stopAll(failed);
    }
  });
}
