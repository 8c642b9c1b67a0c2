/**
 * A server process of the harness: started inside a host's namespace with `ip netns exec` (which
 * execs, so the child's PID is the node process itself), its output appended to a log file, and
 * signalled by that PID only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { sleep } from './sh.js';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');
export const SERVER_MAIN = path.join(REPO_ROOT, 'dist/server/main.mjs');
export const NAMESRV_MAIN = path.join(REPO_ROOT, 'dist/namesrv/main.mjs');

export interface ProcSpec {
  /** The host's namespace. */
  ns: string;
  /** What the process runs: a node script and its arguments, or any executable (etcd). */
  command: string[];
  /** A line of output that means "ready". */
  readyText: string;
  logFile: string;
  readyTimeoutMs?: number;
}

export type ProcState = 'stopped' | 'running' | 'suspended';

export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private tail = '';
  private suspended = false;
  /** Starts so far (1 after the first start). */
  starts = 0;
  /** The PID of every start, in order. */
  readonly pids: number[] = [];

  constructor(readonly spec: ProcSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get state(): ProcState {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return 'stopped';
    return this.suspended ? 'suspended' : 'running';
  }

  /** The last 64 KiB of output since the last start. */
  get output(): string {
    return this.tail;
  }

  /** Spawns the process and waits (bounded) for its ready line. */
  async start(): Promise<void> {
    if (this.state !== 'stopped') throw new Error(`${this.spec.ns}: already running (pid ${this.pid})`);
    this.tail = '';
    this.suspended = false;
    const log = fs.openSync(this.spec.logFile, 'a');
    fs.writeSync(log, `--- start ${++this.starts} at ${new Date().toISOString()}: ${this.spec.command.join(' ')}\n`);
    const child = spawn('ip', ['netns', 'exec', this.spec.ns, ...this.spec.command], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    if (child.pid !== undefined) this.pids.push(child.pid);
    const onData = (d: Buffer): void => {
      fs.writeSync(log, d);
      this.tail = (this.tail + d.toString()).slice(-65_536);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) =>
      child.once('close', () => {
        fs.closeSync(log);
        resolve();
      }),
    );
    const deadline = Date.now() + (this.spec.readyTimeoutMs ?? 60_000);
    while (!this.tail.includes(this.spec.readyText)) {
      if (this.state === 'stopped')
        throw new Error(`${this.spec.ns}: exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${this.tail.slice(-4000)}`);
      if (Date.now() > deadline) {
        await this.kill();
        throw new Error(`${this.spec.ns}: not ready within ${this.spec.readyTimeoutMs ?? 60_000} ms:\n${this.tail.slice(-4000)}`);
      }
      await sleep(50);
    }
  }

  private signal(sig: NodeJS.Signals): void {
    const pid = this.pid;
    if (pid === undefined || this.state === 'stopped') return;
    try {
      process.kill(pid, sig);
    } catch {
      // exited in between
    }
  }

  /** SIGKILL, and wait for the exit. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
    this.suspended = false;
  }

  /** SIGSTOP: the process is frozen (a stand-in for a long GC pause). */
  suspend(): void {
    this.signal('SIGSTOP');
    if (this.state !== 'stopped') this.suspended = true;
  }

  /** SIGCONT. */
  resume(): void {
    this.signal('SIGCONT');
    this.suspended = false;
  }

  /** SIGCONT + SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.state === 'stopped') return this.exited;
    this.resume();
    this.signal('SIGTERM');
    const timedOut = await Promise.race([this.exited.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut) await this.kill();
  }
}
