/**
 * Time from spawning a command to every one of its ports accepting a TCP connection on 127.0.0.1,
 * and the CPU time the process had used by then (utime + stime from /proc, so a busy machine shows
 * in the wall time but not in the CPU time).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { sleep } from '../../runner.js';
import { OwnedProcess } from '../remoting/common.js';

export interface StartTiming {
  /** Spawn → the last port accepted. */
  wallMs: number;
  /** CPU time of the started process at that moment. */
  cpuMs: number;
}

const POLL_MS = 2;
const CLOCK_TICKS_PER_S = 100; // Linux USER_HZ

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** utime + stime of a live process in ms. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
}

/** Spawns `command` (cwd `cwd`) and measures until every port in `ports` accepts; returns the process too. */
export async function timeToPorts(
  name: string,
  command: readonly string[],
  cwd: string,
  ports: readonly number[],
  timeoutMs: number,
): Promise<{ p: OwnedProcess; timing: StartTiming }> {
  const t0 = performance.now();
  const proc = spawn(command[0]!, command.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const p = new OwnedProcess(`${name} (pid ${proc.pid})`, proc);
  const open = new Set<number>();
  while (open.size < ports.length) {
    await Promise.all(
      ports
        .filter((port) => !open.has(port))
        .map(async (port) => {
          if (await accepts(port)) open.add(port);
        }),
    );
    if (open.size === ports.length) break;
    if (!p.running) throw new Error(`${p.name} exited before all of ${ports.join(', ')} accepted:\n${p.output.slice(-4000)}`);
    if (performance.now() - t0 > timeoutMs) {
      await p.stop(2000);
      throw new Error(`${p.name}: ports ${ports.filter((x) => !open.has(x)).join(', ')} not accepting after ${timeoutMs} ms:\n${p.output.slice(-4000)}`);
    }
    await sleep(POLL_MS);
  }
  const wallMs = performance.now() - t0;
  return { p, timing: { wallMs, cpuMs: cpuMsOf(proc.pid!) } };
}
