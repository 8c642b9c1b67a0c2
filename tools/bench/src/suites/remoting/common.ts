/**
 * Processes of the remoting suite: the Apogee server under test (apps/server, its production build
 * unless APOGEE_BENCH_SERVER=tsx, on a temp data directory and free loopback ports) and the echo ceiling (echo-server.ts). Each is
 * started by this suite and stopped by its own pid (SIGTERM, then SIGKILL after a grace period);
 * nothing else is ever signalled.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_TOPIC } from '@apogee/message';
import { RemotingClient, RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import { sleep } from '../../runner.js';
import type { BenchContext } from '../../suite.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));
const SERVER_SRC = path.join(REPO_ROOT, 'apps/server/src/main.ts');
/** The production build of the server (tools/build.mjs), what `npm start` runs. */
export const SERVER_DIST = path.join(REPO_ROOT, 'dist/server/main.mjs');
let built = false;

/**
 * How the server under test is started: the production build, built once per bench run (what
 * `npm start` runs), or with APOGEE_BENCH_SERVER=tsx the TypeScript sources through tsx.
 */
export function serverEntry(): string[] {
  if (process.env['APOGEE_BENCH_SERVER'] === 'tsx') return ['--import', 'tsx', SERVER_SRC];
  if (!built) {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'tools/build.mjs')], { cwd: REPO_ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`the production build (tools/build.mjs) failed:\n${r.stderr}`);
    built = true;
  }
  return [SERVER_DIST];
}
const ECHO_MAIN = fileURLToPath(new URL('./echo-server.ts', import.meta.url));

/** Queues of the benchmark topic (read = write). */
export const QUEUES = 8;
export const KiB = 1024;

/** Median of at least 3 runs, as the contract asks; the full suite takes 5. */
export function runsFor(ctx: BenchContext): number {
  return ctx.quick ? 3 : 5;
}

/** The quick or the full figure. */
export function pick<T>(ctx: BenchContext, quick: T, full: T): T {
  return ctx.quick ? quick : full;
}

/** A free loopback port (closed again before it is returned). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function flagsFrom(name: string): string[] {
  const raw = process.env[name];
  return raw ? raw.split(/\s+/).filter((s) => s.length > 0) : [];
}

/**
 * Extra node flags for the server process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` (profiling);
 * APOGEE_BENCH_SERVER_OUTPUT=FILE appends the server's output to FILE (e.g. with --trace-gc).
 */
export function serverNodeFlags(): string[] {
  return flagsFrom('APOGEE_BENCH_SERVER_NODE_FLAGS');
}

/** Extra node flags for the load generator process (same use). */
export function clientNodeFlags(): string[] {
  return flagsFrom('APOGEE_BENCH_CLIENT_NODE_FLAGS');
}

/** A child process this suite started; keeps the tail of its output for error messages. */
export class OwnedProcess {
  private tail = '';
  readonly exited: Promise<number | null>;
  private readonly killOnExit = (): void => {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
  };

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    // Always drain both pipes: a full pipe would stall the server under test.
    const keep = (d: Buffer): void => {
      this.tail = (this.tail + d.toString('utf8')).slice(-64 * KiB);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    process.once('exit', this.killOnExit);
    void this.exited.then(() => process.off('exit', this.killOnExit));
  }

  get output(): string {
    return this.tail;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async waitFor(text: string | RegExp, timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const m = typeof text === 'string' ? (this.tail.includes(text) ? text : null) : (this.tail.match(text)?.[0] ?? null);
      if (m !== null) return m;
      if (!this.running) throw new Error(`${this.name} exited (${this.proc.exitCode ?? this.proc.signalCode}) before printing ${String(text)}:\n${this.tail}`);
      if (performance.now() > deadline) throw new Error(`${this.name} did not print ${String(text)} within ${timeoutMs} ms:\n${this.tail}`);
      await sleep(25);
    }
  }

  /** SIGTERM to this pid and wait for the exit; SIGKILL (same pid) if it is not gone after graceMs. */
  async stop(graceMs = 15_000): Promise<number | null> {
    if (this.running) this.proc.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (this.running) this.proc.kill('SIGKILL');
    }, graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The Apogee all-in-one server under test. */
export class ApogeeServer {
  private constructor(
    private readonly p: OwnedProcess,
    readonly namesrvAddr: string,
    readonly brokerAddr: string,
    readonly flush: 'async' | 'sync',
    /** The MQTT (TCP) listener's port on 127.0.0.1. */
    readonly mqttPort: number,
    /** The AMQP listener's port on 127.0.0.1. */
    readonly amqpPort: number,
    /** The HTTP port (metrics, admin API) on 127.0.0.1. */
    readonly httpPort: number,
  ) {}

  /** `mqtt://127.0.0.1:<mqttPort>`. */
  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.mqttPort}`;
  }

  get pid(): number | undefined {
    return this.p.proc.pid;
  }

  /** Spawns the server and waits until it prints `apogee: ready`. */
  /**
   * `configFile`: a JSON config file (`--config`), e.g. an `mqtt` section for the MQTT suite;
   * `extraArgs` are appended (e.g. the tls suite's --tls-cert and TLS ports).
   */
  static async start(dataDir: string, flush: 'async' | 'sync', configFile?: string, extraArgs: readonly string[] = []): Promise<ApogeeServer> {
    const namesrvPort = await freePort();
    const brokerPort = await freePort();
    const httpPort = await freePort();
    const mqttPort = await freePort();
    const mqttWsPort = await freePort();
    // Every endpoint on a free port: a default one (5672, …) may be taken on a shared machine.
    const amqpPort = await freePort();
    const args = [
      ...serverNodeFlags(),
      ...serverEntry(),
      '--data-dir',
      dataDir,
      '--namesrv-port',
      String(namesrvPort),
      '--broker-port',
      String(brokerPort),
      '--http-port',
      String(httpPort),
      '--mqtt-port',
      String(mqttPort),
      '--mqtt-ws-port',
      String(mqttWsPort),
      '--amqp-port',
      String(amqpPort),
      '--listen-host',
      '127.0.0.1',
      '--flush',
      flush,
      ...(configFile ? ['--config', configFile] : []),
      ...extraArgs,
    ];
    const proc = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new OwnedProcess(`apogee server (pid ${proc.pid})`, proc);
    // Profiling aid: the server's whole output (e.g. --trace-gc lines) appended to a file.
    const outFile = process.env['APOGEE_BENCH_SERVER_OUTPUT'];
    if (outFile) {
      const sink = fs.createWriteStream(outFile, { flags: 'a' });
      proc.stdout?.pipe(sink);
      proc.stderr?.pipe(sink);
    }
    const s = new ApogeeServer(p, `127.0.0.1:${namesrvPort}`, `127.0.0.1:${brokerPort}`, flush, mqttPort, amqpPort, httpPort);
    try {
      await p.waitFor('apogee: ready', 60_000);
    } catch (err) {
      await p.stop(2000);
      throw err;
    }
    return s;
  }

  /**
   * UPDATE_AND_CREATE_TOPIC (17) to the broker, then GET_ROUTEINFO_BY_TOPIC (105) to the
   * NameServer until the topic is routable (the broker registers it there asynchronously).
   */
  async createTopic(topic: string, queues = QUEUES): Promise<void> {
    const c = new RemotingClient();
    try {
      const res = await c.invoke(
        this.brokerAddr,
        makeRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, {
          extFields: {
            topic,
            defaultTopic: DEFAULT_TOPIC,
            readQueueNums: String(queues),
            writeQueueNums: String(queues),
            perm: '6',
            topicFilterType: 'SINGLE_TAG',
            order: 'false',
          },
        }),
      );
      if (res.code !== ResponseCode.SUCCESS) throw new Error(`UPDATE_AND_CREATE_TOPIC ${topic}: code ${res.code} ${res.remark ?? ''}`);
      const deadline = performance.now() + 10_000;
      for (;;) {
        const route = await c.invoke(this.namesrvAddr, makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic } }));
        if (route.code === ResponseCode.SUCCESS) return;
        if (performance.now() > deadline)
          throw new Error(`topic ${topic} not routable on the NameServer after 10 s (last code ${route.code} ${route.remark ?? ''})`);
        await sleep(25);
      }
    } finally {
      c.close();
    }
  }

  /** SIGTERM by pid, wait for the exit. Rejects if it exited with an error. */
  async stop(): Promise<void> {
    const code = await this.p.stop();
    if (code !== 0) throw new Error(`apogee server exited with ${code ?? 'a signal'}:\n${this.p.output.slice(-4000)}`);
  }
}

/** The echo ceiling: a RemotingServer in its own process answering every request with its body. */
export class EchoServer {
  private constructor(
    private readonly p: OwnedProcess,
    readonly addr: string,
  ) {}

  static async start(): Promise<EchoServer> {
    const proc = spawn(process.execPath, ['--import', 'tsx', ECHO_MAIN], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const p = new OwnedProcess(`echo server (pid ${proc.pid})`, proc);
    try {
      const line = await p.waitFor(/echo: ready 127\.0\.0\.1:\d+/, 30_000);
      return new EchoServer(p, line.slice('echo: ready '.length));
    } catch (err) {
      await p.stop(2000);
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.p.stop(5000);
  }
}

/** Runs fn with an Apogee server (fresh data dir) and an echo server, stopping both whatever happens. */
export async function withServers<T>(
  ctx: BenchContext,
  flush: 'async' | 'sync',
  opts: { echo: boolean },
  fn: (apogee: ApogeeServer, echo: EchoServer | null) => Promise<T>,
): Promise<T> {
  return ctx.tmp.with(`server-${flush}`, async (dataDir) => {
    const t0 = performance.now();
    const [apogee, echo] = await Promise.all([ApogeeServer.start(dataDir, flush), opts.echo ? EchoServer.start() : Promise.resolve(null)]);
    ctx.log(
      `   apogee server pid ${apogee.pid} (--flush ${flush}) namesrv ${apogee.namesrvAddr} broker ${apogee.brokerAddr}${echo ? `; echo ${echo.addr}` : ''}; up in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    let failed = true;
    try {
      const out = await fn(apogee, echo);
      failed = false;
      return out;
    } finally {
      const stops = await Promise.allSettled([apogee.stop(), echo?.stop() ?? Promise.resolve()]);
      for (const s of stops) {
        if (s.status === 'rejected' && !failed) throw s.reason;
        if (s.status === 'rejected') ctx.log(`   while stopping: ${String(s.reason)}`);
      }
    }
  });
}

/** Resolves once a TCP connection to 127.0.0.1:port succeeds; rejects (with the process's last output) if `p` exits first or after timeoutMs. */
export async function waitForPort(port: number, timeoutMs: number, p: OwnedProcess): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (!p.running) throw new Error(`${p.name} exited before listening on ${port}:\n${p.output.slice(-4000)}`);
    if (performance.now() > deadline) throw new Error(`${p.name} not listening on ${port} after ${timeoutMs} ms:\n${p.output.slice(-4000)}`);
    await sleep(50);
  }
}
