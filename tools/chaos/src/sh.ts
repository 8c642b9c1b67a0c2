/** Running `ip` and `tc`: argument arrays (no shell), a time bound on every call, stderr in errors. */
import { spawn, spawnSync } from 'node:child_process';

export interface ShResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command and resolves with its output; kills it (by its PID) after `timeoutMs`. */
export function sh(cmd: string, args: readonly string[], timeoutMs = 10_000, input?: string): Promise<ShResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    if (input !== undefined) p.stdin!.end(input);
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like sh, but a non-zero exit is an error naming the command. */
export async function run(cmd: string, args: readonly string[], timeoutMs = 10_000, input?: string): Promise<string> {
  const r = await sh(cmd, args, timeoutMs, input);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** The synchronous form, for the last-resort cleanup on a signal. */
export function runSync(cmd: string, args: readonly string[], timeoutMs = 10_000): ShResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
