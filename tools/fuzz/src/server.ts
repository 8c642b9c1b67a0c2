import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FuzzPorts } from './frames/protocol.js';

const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');
/** The production build, what `npm start` runs. */
const SERVER_MAIN = path.join(REPO_ROOT, 'dist/server/main.mjs');

/** Builds dist/ (tools/build.mjs) so the fuzzed server is the production build of this tree. */
export function buildServer(): void {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'tools/build.mjs')], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the production build (tools/build.mjs) failed:\n${r.stderr}`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Every port of the fuzzed server: the fuzzed ones and MQTT over WebSocket (checked for liveness). */
export interface ServerPorts extends FuzzPorts {
  mqttWsPort: number;
}

/** A server process the fuzzer started on a temporary data directory and free loopback ports; stopped by its PID. */
export class FuzzedServer {
  private out = '';
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly proc: ChildProcess,
    readonly dataDir: string,
    readonly ports: ServerPorts,
  ) {
    proc.stdout!.on('data', (d) => (this.out = (this.out + d).slice(-64_000)));
    proc.stderr!.on('data', (d) => (this.out = (this.out + d).slice(-64_000)));
    this.exited = new Promise((resolve) =>
      proc.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        resolve();
      }),
    );
  }

  /** Starts the server (dist/ must be built) and waits until it is ready. */
  static async start(extraArgs: string[] = []): Promise<FuzzedServer> {
    const ports: ServerPorts = { namesrvPort: 0, brokerPort: 0, mqttPort: 0, mqttWsPort: 0, amqpPort: 0, httpPort: 0 };
    const taken = new Set<number>();
    for (const k of Object.keys(ports) as Array<keyof ServerPorts>) {
      let p = await freePort();
      while (taken.has(p)) p = await freePort();
      taken.add(p);
      ports[k] = p;
    }
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'apogee-fuzz-'));
    const args = [
      SERVER_MAIN,
      '--data-dir',
      dataDir,
      ...['--namesrv-port', ports.namesrvPort, '--broker-port', ports.brokerPort, '--http-port', ports.httpPort].map(String),
      ...['--mqtt-port', ports.mqttPort, '--mqtt-ws-port', ports.mqttWsPort, '--amqp-port', ports.amqpPort].map(String),
      ...extraArgs,
    ];
    const proc = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new FuzzedServer(proc, dataDir, ports);
    const deadline = Date.now() + 60_000;
    while (!server.out.includes('apogee: ready')) {
      if (server.exitCode !== undefined) throw new Error(`the server exited (${server.exitCode}) before it was ready:\n${server.out}`);
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`the server was not ready within 60 s:\n${server.out}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return server;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** Still running? */
  get alive(): boolean {
    return this.exitCode === undefined;
  }

  /** The last 64 kB of its output. */
  get output(): string {
    return this.out;
  }

  /** Anonymous resident memory (heap, buffers), MiB, from /proc/PID/status. */
  rssAnonMiB(): number {
    const m = /^RssAnon:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  }

  /** SIGTERM, SIGKILL after 10 s; removes the data directory. */
  async stop(): Promise<void> {
    if (this.alive) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
      await this.exited;
      clearTimeout(t);
    }
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
