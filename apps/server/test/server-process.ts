import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort as freePortOn } from '../src/advertised-ip.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
/** The production build (built by test/build-dist.ts before the tests run): what `npm start` runs. */
const main = path.join(repoRoot, 'dist/server/main.mjs');

/** A free loopback port (closed again before it is returned). */
export function freePort(): Promise<number> {
  return freePortOn('127.0.0.1');
}

export interface ServerPorts {
  namesrvPort: number;
  brokerPort: number;
  httpPort: number;
  mqttPort: number;
  mqttWsPort: number;
  amqpPort: number;
}

/** Six distinct free loopback ports. */
export async function freePorts(): Promise<ServerPorts> {
  const taken = new Set<number>();
  const next = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  return {
    namesrvPort: await next(),
    brokerPort: await next(),
    httpPort: await next(),
    mqttPort: await next(),
    mqttWsPort: await next(),
    amqpPort: await next(),
  };
}

/** A running `apps/server` process started by a test. */
export class ServerProcess {
  private out = '';
  readonly exited: Promise<number | null>;
  readonly namesrvAddr: string;
  readonly brokerAddr: string;
  readonly httpAddr: string;
  readonly mqttUrl: string;
  readonly mqttWsUrl: string;
  readonly amqpPort: number;

  private constructor(
    readonly proc: ChildProcess,
    readonly dataDir: string,
    readonly ports: ServerPorts,
  ) {
    proc.stdout!.on('data', (d) => (this.out += d));
    proc.stderr!.on('data', (d) => (this.out += d));
    this.exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
    this.namesrvAddr = `127.0.0.1:${ports.namesrvPort}`;
    this.brokerAddr = `127.0.0.1:${ports.brokerPort}`;
    this.httpAddr = `127.0.0.1:${ports.httpPort}`;
    this.mqttUrl = `mqtt://127.0.0.1:${ports.mqttPort}`;
    this.mqttWsUrl = `ws://127.0.0.1:${ports.mqttWsPort}/mqtt`;
    this.amqpPort = ports.amqpPort;
  }

  /**
   * Starts the server (without waiting); extra flags are appended. `wrap` runs it under another
   * command (e.g. `unshare --pid --fork …`), which then is the process signals go to.
   */
  static spawn(dataDir: string, ports: ServerPorts, extra: string[] = [], wrap: string[] = []): ServerProcess {
    const args = [
      '--enable-source-maps',
      main,
      '--data-dir',
      dataDir,
      '--namesrv-port',
      String(ports.namesrvPort),
      '--broker-port',
      String(ports.brokerPort),
      '--http-port',
      String(ports.httpPort),
      '--mqtt-port',
      String(ports.mqttPort),
      '--mqtt-ws-port',
      String(ports.mqttWsPort),
      '--amqp-port',
      String(ports.amqpPort),
      ...extra,
    ];
    const command = [...wrap, process.execPath, ...args];
    const proc = spawn(command[0]!, command.slice(1), { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const s = new ServerProcess(proc, dataDir, ports);
    running.add(s);
    void s.exited.then(() => running.delete(s));
    return s;
  }

  /** Starts the server and waits until it logs that it is ready. */
  /**
   * Starts a server and waits until it is ready. Without `ports` it picks free ones, and picks
   * again (up to 3 times) if one was taken in between by another process (tests run in parallel).
   */
  static async start(dataDir: string, ports?: ServerPorts, extra: string[] = [], wrap: string[] = []): Promise<ServerProcess> {
    for (let attempt = 1; ; attempt++) {
      const s = ServerProcess.spawn(dataDir, ports ?? (await freePorts()), extra, wrap);
      try {
        await s.waitForLog('apogee: ready');
        return s;
      } catch (err) {
        if (ports || attempt >= 3 || !/EADDRINUSE/.test(s.output)) throw err;
        await s.exited;
      }
    }
  }

  get output(): string {
    return this.out;
  }

  /** Structured log lines (pino JSON), skipping anything else. */
  logs(): Array<Record<string, unknown>> {
    return this.out.split('\n').flatMap((l) => {
      try {
        return l.startsWith('{') ? [JSON.parse(l) as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
  }

  async waitForLog(text: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.out.includes(text)) {
      if (this.proc.exitCode !== null) throw new Error(`server exited (${this.proc.exitCode}) before logging ${JSON.stringify(text)}:\n${this.out}`);
      if (Date.now() > deadline) throw new Error(`server did not log ${JSON.stringify(text)} within ${timeoutMs} ms:\n${this.out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM and wait for the exit code. */
  async stop(): Promise<number | null> {
    if (this.proc.exitCode === null) this.proc.kill('SIGTERM');
    return this.exited;
  }

  /** SIGKILL (a crash) and wait for the process to be gone. */
  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGKILL');
    await this.exited;
  }
}

const running = new Set<ServerProcess>();

/** Kills every server this test file started that is still running (afterEach/afterAll). */
export async function killAllStarted(): Promise<void> {
  await Promise.all([...running].map((s) => s.kill()));
}

/** A fresh temporary data directory. */
export function tempDataDir(prefix = 'apg-server-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
