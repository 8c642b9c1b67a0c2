/**
 * Coming back and going away: restarts after SIGKILL in fresh PID namespaces (as a container
 * restarts a process: the new one gets the dead one's pid), two live servers on one directory, and
 * `npm start` stopping cleanly on SIGTERM or SIGINT to the process it launched.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { ServerProcess, freePorts, killAllStarted, tempDataDir, type ServerPorts } from './server-process.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
/** A PID namespace of its own per start; unshare's child dies with it (--kill-child). */
const NEW_PID_NAMESPACE = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child=SIGKILL'];
const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;
if (process.env['CI'] === 'true' && !canUnshare) throw new Error('CI=true: the PID-namespace restart tests need root and unshare(1)');

const dirs: string[] = [];
const others: ChildProcess[] = [];
afterEach(async () => {
  for (const p of others.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await killAllStarted();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function dataDir(): string {
  const d = tempDataDir();
  dirs.push(d);
  return d;
}

async function publishQos1(url: string, topic: string, payload: string): Promise<void> {
  const c = await mqtt.connectAsync(url, { clientId: `pub-${payload}`, reconnectPeriod: 0 });
  try {
    await c.publishAsync(topic, payload, { qos: 1 });
  } finally {
    await c.endAsync();
  }
}

/** A persistent session (clean session off) subscribed to `topic` at QoS 1, then disconnected. */
async function subscribePersistent(url: string, topic: string): Promise<void> {
  const c = await mqtt.connectAsync(url, { clientId: 'reader', clean: false, reconnectPeriod: 0 });
  await c.subscribeAsync(topic, { qos: 1 });
  await c.endAsync();
}

/** What the persistent session holds for it, until `count` messages arrived. */
async function receive(url: string, count: number): Promise<string[]> {
  // The listener is attached before the connection opens: queued messages follow CONNACK at once.
  const c = mqtt.connect(url, { clientId: 'reader', clean: false, reconnectPeriod: 0 });
  try {
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      c.on('error', reject);
      c.on('message', (_t, p) => {
        got.push(p.toString());
        if (got.length === count) resolve();
      });
    });
    return got;
  } finally {
    await c.endAsync();
  }
}

function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function allPorts(p: ServerPorts): number[] {
  return [p.namesrvPort, p.brokerPort, p.httpPort, p.mqttPort, p.mqttWsPort, p.amqpPort];
}

/** Pids of live processes whose command line mentions `needle` (the test's unique data directory). */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe('restart after SIGKILL', () => {
  it.skipIf(!canUnshare)(
    'comes back every time when each start runs in a fresh PID namespace (pid 1 each time), keeping every acknowledged message',
    async () => {
      const dir = dataDir();
      const ports = await freePorts();
      const cycles = 6;
      for (let i = 0; i < cycles; i++) {
        const s = await ServerProcess.start(dir, ports, ['--flush', 'sync', '--mqtt-ws-port', 'off'], NEW_PID_NAMESPACE);
        expect(s.logs()[0]?.['pid']).toBe(1);
        if (i === 0) await subscribePersistent(s.mqttUrl, 'cycle/t');
        await publishQos1(s.mqttUrl, 'cycle/t', `m${i}`); // acknowledged, then the crash
        await s.kill();
      }
      const last = await ServerProcess.start(dir, ports, ['--mqtt-ws-port', 'off']);
      const got = await receive(last.mqttUrl, cycles);
      expect(got.sort()).toEqual(Array.from({ length: cycles }, (_, i) => `m${i}`).sort());
    },
  );

  it.skipIf(!canUnshare)('refuses a second live server on the same directory, whichever PID namespace either runs in', async () => {
    const dir = dataDir();
    const a = await ServerProcess.start(dir);
    const b = ServerProcess.spawn(dir, await freePorts(), [], NEW_PID_NAMESPACE);
    expect(await b.exited).toBe(1);
    expect(b.output).toMatch(new RegExp(`is in use by process ${a.proc.pid}\\b`));
    await a.stop();

    const inside = await ServerProcess.start(dir, undefined, [], NEW_PID_NAMESPACE);
    const c = ServerProcess.spawn(dir, await freePorts());
    expect(await c.exited).toBe(1);
    expect(c.output).toMatch(/is in use by process 1\b/);
    // unshare ignores SIGTERM while its child runs: the server itself (pid 1 inside) is signalled.
    process.kill(childOf(inside.proc.pid!), 'SIGTERM');
    expect(await inside.exited).toBe(0);
    expect(inside.output).toContain('stopped cleanly');
  });
});

describe('npm start', () => {
  const cases = [
    { signal: 'SIGTERM', group: false, what: 'SIGTERM to the process npm start launched' },
    { signal: 'SIGINT', group: false, what: 'SIGINT to the process npm start launched' },
    // Ctrl-C: the terminal signals the whole foreground group, so the server gets SIGINT twice (npm forwards it too).
    { signal: 'SIGINT', group: true, what: 'SIGINT to the whole process group (Ctrl-C)' },
  ] as const;
  for (const { signal, group, what } of cases) {
    it(`${what} stops the server cleanly: every port released, no process left`, async () => {
      const dir = dataDir();
      const ports = await freePorts();
      const args = [
        '--data-dir',
        dir,
        ...Object.entries(ports).flatMap(([k, v]) => [`--${k.replace(/Port$/, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}-port`, String(v)]),
      ];
      const npm = spawn('npm', ['start', '--', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], detached: group });
      others.push(npm);
      let out = '';
      npm.stdout!.on('data', (d) => (out += d));
      npm.stderr!.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((resolve) => npm.on('exit', (code) => resolve(code)));
      while (!out.includes('apogee: ready')) {
        if (npm.exitCode !== null) throw new Error(`npm start exited (${npm.exitCode}):\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(out).toMatch(/node dist\/server\/main\.mjs/); // compiled JavaScript, not tsx
      const server = processesMentioning(dir).filter((p) => p !== npm.pid);
      expect(server.length).toBeGreaterThan(0);

      if (group) process.kill(-npm.pid!, signal);
      else npm.kill(signal);
      await exited;
      expect(out).toContain('apogee: stopped cleanly');
      for (const pid of server) await waitGone(pid);
      expect(processesMentioning(dir)).toEqual([]);
      for (const port of allPorts(ports)) expect(await portAccepts(port)).toBe(false);
    });
  }
});

/** The one child of a process (unshare's forked server). */
function childOf(pid: number): number {
  const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  if (children.length !== 1 || !children[0]) throw new Error(`process ${pid} has children ${JSON.stringify(children)}`);
  return children[0];
}

async function waitGone(pid: number): Promise<void> {
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
