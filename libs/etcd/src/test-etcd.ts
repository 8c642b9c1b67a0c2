// Real etcd processes for tests: `startEtcd()` (one member) and `startEtcdCluster(3)`, on free
// loopback ports with a temporary data dir each. Every process is ended by its PID — SIGTERM, then
// SIGKILL after a bound — and its dir removed; a test process that exits first kills what it
// started. Without /usr/bin/etcd (Debian's etcd-server) `skipWithoutEtcd` is true and the specs
// skip, except under CI=true, where starting fails instead: CI must run them.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ETCD_BIN = process.env['APOGEE_ETCD_BIN'] ?? '/usr/bin/etcd';
const haveEtcd = fs.existsSync(ETCD_BIN);
/** True when the etcd specs should skip (no binary, and not CI). */
export const skipWithoutEtcd = !haveEtcd && process.env['CI'] !== 'true';

const HOST = '127.0.0.1';
const START_BOUND_MS = 20_000;
const STOP_BOUND_MS = 5_000;

export interface EtcdMember {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  /** `127.0.0.1:PORT` of the client port. */
  readonly endpoint: string;
  /** The running process's PID (null while stopped). */
  readonly pid: number | null;
  /** Sends a signal to the process (SIGKILL, SIGSTOP, SIGCONT…) by its PID. */
  signal(signal: NodeJS.Signals): void;
  /** SIGSTOP, and waits until the kernel shows every thread stopped (signals are asynchronous: a
   * request sent right after kill(2) may otherwise still be answered). */
  pause(): Promise<void>;
  /** SIGCONT. */
  resume(): void;
  /** Waits until the process has exited (after SIGKILL, say). */
  exited(): Promise<void>;
  /** SIGTERM (SIGKILL after a bound); keeps the data dir. */
  stop(): Promise<void>;
  /** Starts the process again on the same ports and data dir, and waits until it answers. */
  start(): Promise<void>;
}

export interface TestEtcd {
  readonly members: readonly EtcdMember[];
  /** `etcd://H:P,H:P…` for every member. */
  readonly endpoints: string;
  /** Stops every member and removes the data dirs. */
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) if (child.pid) tryKill(child.pid, 'SIGKILL');
});

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export function startEtcd(): Promise<TestEtcd> {
  return startEtcdCluster(1);
}

export async function startEtcdCluster(size: number): Promise<TestEtcd> {
  if (!haveEtcd) throw new Error(`${ETCD_BIN} is missing (apt-get install etcd-server); CI=true requires the etcd tests to run`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-etcd-'));
  const ports = await freePorts(size * 2);
  const token = path.basename(root);
  const specs = Array.from({ length: size }, (_, i) => ({ name: `m${i}`, clientPort: ports[2 * i]!, peerPort: ports[2 * i + 1]! }));
  const initialCluster = specs.map((s) => `${s.name}=http://${HOST}:${s.peerPort}`).join(',');
  const members = specs.map((s) => new Member(s.name, s.clientPort, s.peerPort, path.join(root, s.name), initialCluster, token));
  const cluster: TestEtcd = {
    members,
    endpoints: `etcd://${members.map((m) => m.endpoint).join(',')}`,
    stop: async () => {
      await Promise.all(members.map((m) => m.stop()));
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(members.map((m) => m.start()));
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}

class Member implements EtcdMember {
  private child: ChildProcess | null = null;
  private exit: Promise<void> = Promise.resolve();
  readonly endpoint: string;

  constructor(
    readonly name: string,
    readonly clientPort: number,
    readonly peerPort: number,
    private readonly dataDir: string,
    private readonly initialCluster: string,
    private readonly token: string,
  ) {
    this.endpoint = `${HOST}:${clientPort}`;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.child?.pid) tryKill(this.child.pid, signal);
  }

  exited(): Promise<void> {
    return this.exit;
  }

  async pause(): Promise<void> {
    const pid = this.child?.pid;
    if (!pid) throw new Error(`etcd ${this.name} is not running`);
    tryKill(pid, 'SIGSTOP');
    for (let i = 0; i < 200 && !allStopped(pid); i++) await new Promise((r) => setTimeout(r, 5));
    if (!allStopped(pid)) throw new Error(`etcd ${this.name} (pid ${pid}) did not stop on SIGSTOP`);
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  async start(): Promise<void> {
    if (this.child) return;
    fs.mkdirSync(this.dataDir, { recursive: true });
    const log = fs.openSync(path.join(this.dataDir, '..', `${this.name}.log`), 'a');
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ETCD_')));
    const clientUrl = `http://${HOST}:${this.clientPort}`;
    const peerUrl = `http://${HOST}:${this.peerPort}`;
    const child = spawn(
      ETCD_BIN,
      [
        `--name=${this.name}`,
        `--data-dir=${this.dataDir}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=${this.initialCluster}`,
        `--initial-cluster-token=${this.token}`,
        '--initial-cluster-state=new',
        '--logger=zap',
        '--log-level=warn',
      ],
      { env, stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    this.child = child;
    running.add(child);
    this.exit = new Promise((resolve) =>
      child.once('exit', () => {
        running.delete(child);
        if (this.child === child) this.child = null;
        resolve();
      }),
    );
    const deadline = Date.now() + START_BOUND_MS;
    while (!(await answers(this.clientPort))) {
      if (this.child !== child) throw new Error(`etcd ${this.name} exited at start: ${this.logTail()}`);
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`etcd ${this.name} did not answer within ${START_BOUND_MS} ms: ${this.logTail()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    tryKill(child.pid, 'SIGTERM');
    tryKill(child.pid, 'SIGCONT'); // a stopped process handles SIGTERM only once it runs
    const timer = setTimeout(() => child.pid && tryKill(child.pid, 'SIGKILL'), STOP_BOUND_MS);
    await this.exit;
    clearTimeout(timer);
  }

  private logTail(): string {
    try {
      return fs.readFileSync(path.join(this.dataDir, '..', `${this.name}.log`), 'utf8').slice(-2000);
    } catch {
      return '(no log)';
    }
  }
}

/** Whether every thread of `pid` is in state T (stopped), from /proc/PID/task/TID/stat. */
function allStopped(pid: number): boolean {
  try {
    const tasks = fs.readdirSync(`/proc/${pid}/task`);
    return tasks.every((tid) => {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'T';
    });
  } catch {
    return false;
  }
}

/** Whether the member serves a read (it has joined a cluster with a leader). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request({ host: HOST, port, method: 'POST', path: '/v3/kv/range', agent: false, timeout: 500 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end('{"key":"AA=="}');
  });
}

/** `count` distinct free loopback ports (all held open at once, so none repeats). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const s = net.createServer();
          s.once('error', reject);
          s.listen(0, HOST, () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
