/**
 * The brokers of the amqp suite, each in its own process on 127.0.0.1 and free ports:
 *  - apogee: the real server (apps/server, ASYNC_FLUSH, default AMQP settings);
 *  - rabbitmq: Debian's RabbitMQ (3.10) with the rabbitmq_amqp1_0 plugin, on a temp mnesia/log
 *    directory and config, with its own epmd on a free port (reported as not installed when the
 *    package is missing).
 * Each is started here and stopped by its own pid; nothing else is ever signalled.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BenchContext } from '../../suite.js';
import { OwnedProcess, REPO_ROOT, freePort, serverEntry, serverNodeFlags, waitForPort } from '../remoting/common.js';

export const RABBITMQ_SERVER = process.env['APOGEE_BENCH_RABBITMQ'] ?? '/usr/lib/rabbitmq/bin/rabbitmq-server';
const EPMD = '/usr/bin/epmd';

/** `apogee-tls`: Apogee's AMQP-over-TLS listener (the tls suite). */
export type BrokerName = 'apogee' | 'rabbitmq' | 'apogee-tls';

/** What a load generator needs to know of a broker (JSON-serialisable, passed to children). */
export interface BrokerRef {
  name: BrokerName;
  port: number;
  /** The AMQP address of queue `q` on this broker. */
  queuePrefix: string;
  /** SASL PLAIN credentials, or none for ANONYMOUS. */
  user?: { username: string; password: string };
  /** The broker's process (RabbitMQ's: the script whose child is the Erlang VM), for its memory. */
  pid: number;
  /** Connect over TLS trusting this CA (PEM text); the certificate names localhost. */
  tls?: { ca: string };
}

export const PEER_LABEL = 'RabbitMQ 3.10 (rabbitmq_amqp1_0)';

/** Why RabbitMQ cannot be measured, or null. */
export function rabbitMissing(): string | null {
  if (!existsSync(RABBITMQ_SERVER)) return `${RABBITMQ_SERVER} not found: RabbitMQ not installed (Debian package rabbitmq-server)`;
  if (!existsSync(EPMD)) return `${EPMD} not found (Erlang's epmd)`;
  return null;
}

interface Running {
  ref: BrokerRef;
  stop(): Promise<void>;
}

async function startApogee(dir: string): Promise<Running> {
  const ports = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  const [namesrv, broker, http, mqtt, mqttWs, amqp] = ports.map(String);
  const args = [
    ...serverNodeFlags(),
    ...serverEntry(),
    '--data-dir',
    dir,
    '--namesrv-port',
    namesrv!,
    '--broker-port',
    broker!,
    '--http-port',
    http!,
    '--mqtt-port',
    mqtt!,
    '--mqtt-ws-port',
    mqttWs!,
    '--amqp-port',
    amqp!,
    '--listen-host',
    '127.0.0.1',
    '--flush',
    'async',
  ];
  const proc = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const p = new OwnedProcess(`apogee server (pid ${proc.pid})`, proc);
  // Profiling aid: the server's whole output (e.g. --trace-gc lines) appended to a file.
  const outFile = process.env['APOGEE_BENCH_SERVER_OUTPUT'];
  if (outFile) {
    const sink = createWriteStream(outFile, { flags: 'a' });
    proc.stdout?.pipe(sink);
    proc.stderr?.pipe(sink);
  }
  try {
    await p.waitFor('apogee: ready', 60_000);
  } catch (err) {
    await p.stop(2000);
    throw err;
  }
  return {
    ref: { name: 'apogee', port: Number(amqp), queuePrefix: '', pid: proc.pid! },
    stop: async () => {
      const code = await p.stop();
      if (code !== 0) throw new Error(`apogee server exited with ${code ?? 'a signal'}:\n${p.output.slice(-4000)}`);
    },
  };
}

/** RabbitMQ with only the AMQP 1.0 plugin, state under `dir`, its epmd ours too (stopped by pid). */
async function startRabbit(dir: string): Promise<Running> {
  const [port, distPort, epmdPort] = await Promise.all([freePort(), freePort(), freePort()]);
  await mkdir(path.join(dir, 'home'), { recursive: true });
  await writeFile(path.join(dir, 'rabbitmq.conf'), [`listeners.tcp.1 = 127.0.0.1:${port}`, 'loopback_users = none', ''].join('\n'));
  await writeFile(path.join(dir, 'enabled_plugins'), '[rabbitmq_amqp1_0].\n');
  const epmd = new OwnedProcess('epmd', spawn(EPMD, ['-address', '127.0.0.1', '-port', String(epmdPort)], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const env = {
    ...process.env,
    HOME: path.join(dir, 'home'),
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_NODENAME: `apogee-bench-${port}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_LOGS: '-',
  };
  // The script stays the parent of the Erlang VM and stops it on SIGTERM.
  const proc = spawn(RABBITMQ_SERVER, [], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const p = new OwnedProcess(`rabbitmq (pid ${proc.pid})`, proc);
  const stop = async (): Promise<void> => {
    await p.stop(30_000);
    await epmd.stop(2000);
  };
  try {
    await p.waitFor('Server startup complete', 90_000);
    await waitForPort(port, 10_000, p);
  } catch (err) {
    await stop();
    throw err;
  }
  return { ref: { name: 'rabbitmq', port, queuePrefix: '/queue/', user: { username: 'guest', password: 'guest' }, pid: proc.pid! }, stop };
}

export interface Brokers {
  /** apogee and (when installed) rabbitmq. */
  all: BrokerRef[];
  /** Why RabbitMQ is not among them, or null. */
  rabbitMissing: string | null;
}

/** Runs fn with the brokers started (fresh data directories), stopping each by its pid whatever happens. */
export async function withBrokers<T>(ctx: BenchContext, fn: (b: Brokers) => Promise<T>): Promise<T> {
  return ctx.tmp.with('amqp', async (dir) => {
    const missing = rabbitMissing();
    const t0 = performance.now();
    await mkdir(path.join(dir, 'apogee'), { recursive: true });
    await mkdir(path.join(dir, 'rabbitmq'), { recursive: true });
    const started = await Promise.allSettled([
      startApogee(path.join(dir, 'apogee')),
      missing ? Promise.resolve(null) : startRabbit(path.join(dir, 'rabbitmq')),
    ]);
    const running = started.flatMap((s) => (s.status === 'fulfilled' && s.value ? [s.value] : []));
    const stopAll = async (): Promise<void> => {
      const stops = await Promise.allSettled(running.map((r) => r.stop()));
      for (const s of stops) if (s.status === 'rejected') ctx.log(`   while stopping: ${String(s.reason)}`);
    };
    const failure = started.find((s) => s.status === 'rejected');
    if (failure) {
      await stopAll();
      throw (failure as PromiseRejectedResult).reason;
    }
    ctx.log(
      `   brokers up in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${running.map((r) => `${r.ref.name} port ${r.ref.port}`).join(', ')}${missing ? `; rabbitmq: ${missing}` : ''}`,
    );
    try {
      return await fn({ all: running.map((r) => r.ref), rabbitMissing: missing });
    } finally {
      await stopAll();
    }
  });
}
