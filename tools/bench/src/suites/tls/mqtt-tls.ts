/**
 * MQTT QoS 1 one-to-one (128 B, 1,000 unacknowledged publishes) over TLS as a ratio of plain MQTT,
 * in one run with one load generator: Apogee's plain port and its MQTT-over-TLS port (one server
 * process), and mosquitto's plain and TLS listeners (one mosquitto process) beside them, the four
 * taking turns run by run.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from '../../child.js';
import { median } from '../../stats.js';
import type { BenchContext, Scenario } from '../../suite.js';
import { ApogeeServer, OwnedProcess, clientNodeFlags, freePort, waitForPort } from '../remoting/common.js';
import { MAX_INFLIGHT, MOSQUITTO, type BrokerRef, mosquittoConf, mosquittoMissing } from '../mqtt/brokers.js';
import { pick, runsFor } from '../mqtt/common.js';
import type { ThroughputInput, ThroughputOutput } from '../mqtt/throughput-child.js';
import { PAYLOAD } from '../mqtt/wire.js';
import { apogeeTlsArgs, makeBenchCerts } from './certs.js';
import { TLS_TARGET } from './target.js';

const CHILD = fileURLToPath(new URL('../mqtt/throughput-child.ts', import.meta.url));
/** The plain and the TLS rig share a broker process: each its own topic (same length), else every publish reaches both subscribers. */
const PLAIN_TOPICS = 'bench/qt-plain';
const TLS_TOPICS = 'bench/qt-tls00';

async function startMosquitto(dir: string, certs: ReturnType<typeof makeBenchCerts>): Promise<{ plain: BrokerRef; tls: BrokerRef; stop: () => Promise<void> }> {
  const [port, tlsPort] = [await freePort(), await freePort()];
  const conf = path.join(dir, 'mosquitto.conf');
  // A second listener with TLS; listener options follow their listener line.
  await writeFile(conf, `${mosquittoConf(port)}listener ${tlsPort} 127.0.0.1\ncafile ${certs.caFile}\ncertfile ${certs.certFile}\nkeyfile ${certs.keyFile}\n`);
  const proc = spawn(MOSQUITTO, ['-c', conf], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const p = new OwnedProcess(`mosquitto (pid ${proc.pid})`, proc);
  try {
    await waitForPort(port, 10_000, p);
    await waitForPort(tlsPort, 10_000, p);
  } catch (err) {
    await p.stop(2000);
    throw err;
  }
  const base = { host: '127.0.0.1', pid: proc.pid! };
  return {
    plain: { ...base, name: 'mosquitto', port, topicPrefix: PLAIN_TOPICS },
    tls: { ...base, name: 'mosquitto-tls', port: tlsPort, tls: { ca: certs.caPem }, topicPrefix: TLS_TOPICS },
    stop: async () => void (await p.stop(5000)),
  };
}

export const mqttQos1Tls: Scenario = {
  name: 'mqtt-qos1-tls',
  description: `MQTT QoS 1 one-to-one, ${PAYLOAD} B, 1,000 unacked, over TLS vs plain (Apogee and mosquitto): msgs/s delivered`,
  async run(ctx: BenchContext): Promise<void> {
    await ctx.tmp.with('tls-mqtt', async (dir) => {
      const certs = makeBenchCerts(dir);
      const dataDir = path.join(dir, 'apogee');
      await mkdir(dataDir, { recursive: true });
      const config = path.join(dir, 'apogee.json');
      await writeFile(config, JSON.stringify({ mqtt: { maxInflight: MAX_INFLIGHT } }));
      const mqttsPort = await freePort();
      const server = await ApogeeServer.start(dataDir, 'async', config, [...apogeeTlsArgs(certs), '--mqtts-port', String(mqttsPort)]);
      const missing = mosquittoMissing();
      let mosquitto: Awaited<ReturnType<typeof startMosquitto>> | null = null;
      try {
        if (!missing) mosquitto = await startMosquitto(dir, certs);
        const apogee: BrokerRef = { name: 'apogee', host: '127.0.0.1', port: server.mqttPort, pid: server.pid!, topicPrefix: PLAIN_TOPICS };
        const apogeeTls: BrokerRef = { ...apogee, name: 'apogee-tls', port: mqttsPort, tls: { ca: certs.caPem }, topicPrefix: TLS_TOPICS };
        const brokers = [apogee, apogeeTls, ...(mosquitto ? [mosquitto.plain, mosquitto.tls] : [])];
        const input: ThroughputInput = {
          brokers,
          runs: runsFor(ctx),
          tag: 'qt',
          qos: 1,
          topics: 1,
          subscribers: 1,
          fanout: false,
          window: 1000,
          maxBacklog: 10_000,
          subscribeBatch: 100,
          maxMessages: pick(ctx, 400_000, 2_000_000),
          durationMs: pick(ctx, 1000, 2000),
          warmupMs: pick(ctx, 500, 1000),
          drainMs: 5000,
          stallMs: 3000,
        };
        const out = await runChild<ThroughputOutput>({ module: CHILD, input, nodeFlags: clientNodeFlags(), timeoutMs: pick(ctx, 120_000, 400_000) });
        const s = out.samples;
        const metric = 'MQTT QoS 1 1-to-1 (1,000 unacked) over TLS, msgs delivered';
        ctx.report.add({
          scenario: 'mqtt-qos1-tls',
          metric: `${metric} — vs Apogee plain MQTT (same process, same run)`,
          unit: 'msg/s',
          better: 'higher',
          samples: s['apogee-tls'] ?? [],
          baseline: { name: 'Apogee plain MQTT', samples: s.apogee ?? [] },
          target: TLS_TARGET,
        });
        if (s['mosquitto-tls'] && s.mosquitto) {
          ctx.report.add({
            scenario: 'mqtt-qos1-tls',
            metric: `${metric} — vs mosquitto over TLS`,
            unit: 'msg/s',
            better: 'higher',
            samples: s['apogee-tls'] ?? [],
            baseline: { name: 'mosquitto over TLS', samples: s['mosquitto-tls'] },
          });
          ctx.report.note(
            `mqtt-qos1-tls: mosquitto over TLS / plain = ${(median(s['mosquitto-tls']) / median(s.mosquitto)).toFixed(2)} ` +
              `(${median(s['mosquitto-tls']).toFixed(0)} / ${median(s.mosquitto).toFixed(0)} msg/s)`,
          );
        } else ctx.report.note(`mqtt-qos1-tls: mosquitto baseline unavailable (${missing ?? 'no samples'})`);
        for (const [name, runs] of Object.entries(out.runs)) {
          if (!runs) continue;
          const lost = runs.reduce((a, r) => a + (r.expected - r.deliveries), 0);
          ctx.report.note(
            `mqtt-qos1-tls: ${name} CPU broker ${median(runs.map((r) => r.brokerCpu)).toFixed(0)}% / load generator ${median(runs.map((r) => r.clientCpu)).toFixed(0)}% of a core` +
              (lost > 0 ? `, ${lost} deliveries missing` : ''),
          );
        }
        if (out.errors.length > 0) ctx.report.note(`mqtt-qos1-tls: client errors: ${out.errors.slice(0, 3).join(' | ')}`);
      } finally {
        await mosquitto?.stop();
        await server.stop();
      }
    });
  },
};
