import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreLockedError } from './errors.js';
import { DirectoryLock } from './lock.js';

const HOLDER = path.resolve(import.meta.dirname, '../test/lock-holder.ts');
/** Root can make PID namespaces; CI runs as root, so there the namespace cases must run. */
const canUnshare = process.getuid?.() === 0 && spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;
if (process.env['CI'] === 'true' && !canUnshare) throw new Error('CI=true: the PID-namespace lock tests need root and unshare(1)');

let dir: string;
const children: ChildProcess[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-lock-'));
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Starts a process (optionally in a fresh PID namespace) holding the lock; resolves with its output once it holds it. */
async function holder(inNamespace = false): Promise<{ proc: ChildProcess; line: string }> {
  const node = [process.execPath, '--import', 'tsx', HOLDER, dir];
  const proc = inNamespace ? spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child=SIGKILL', ...node]) : spawn(node[0]!, node.slice(1));
  children.push(proc);
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.trim());
    });
    proc.on('exit', (code) => reject(new Error(`lock holder exited (${code}) before locking: ${out}`)));
  });
  return { proc, line };
}

function exited(proc: ChildProcess): Promise<void> {
  return proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', () => r()));
}

describe('DirectoryLock', () => {
  it('refuses a second lock in the same process, also when both are asked at once, and can be taken again after release', async () => {
    const results = await Promise.allSettled([DirectoryLock.acquire(dir), DirectoryLock.acquire(dir)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toBeInstanceOf(StoreLockedError);
    expect(String(refused.reason.message)).toContain('already open in this process');
    const lock = (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<DirectoryLock>).value;
    expect(fs.readFileSync(path.join(dir, 'lock'), 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
    lock.release(); // idempotent
    (await DirectoryLock.acquire(dir)).release();
    expect(fs.existsSync(path.join(dir, 'lock'))).toBe(true); // never unlinked
  });

  it('is not blocked by a lock file naming a live pid, this one or any other (a restart in a fresh PID namespace)', async () => {
    for (const pid of [process.pid, 1, process.ppid]) {
      fs.writeFileSync(path.join(dir, 'lock'), `${pid}\n`);
      (await DirectoryLock.acquire(dir)).release();
    }
  });

  it('refuses while another live process holds it, naming that process, and is free the moment it is SIGKILLed', async () => {
    const h = await holder();
    expect(h.line).toBe(`locked ${h.proc.pid}`);
    const refusal = await DirectoryLock.acquire(dir, 0).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refusal).toBeInstanceOf(StoreLockedError);
    expect((refusal as Error).message).toContain(`in use by process ${h.proc.pid}`);
    h.proc.kill('SIGKILL');
    await exited(h.proc);
    (await DirectoryLock.acquire(dir, 0)).release();
  });

  it('waits for a holder that is on its way out', async () => {
    const h = await holder();
    setTimeout(() => h.proc.kill('SIGKILL'), 200);
    (await DirectoryLock.acquire(dir, 5000)).release();
  });

  it.skipIf(!canUnshare)(
    'holds across PID namespaces: a holder in a fresh namespace (pid 1 there) blocks this process, and this process blocks one there',
    async () => {
      const inside = await holder(true);
      expect(inside.line).toBe('locked 1');
      const refusal = await DirectoryLock.acquire(dir, 0).then(
        () => null,
        (e: unknown) => e,
      );
      expect((refusal as Error).message).toContain('in use by process 1');
      inside.proc.kill('SIGKILL'); // unshare's --kill-child takes its child with it
      await exited(inside.proc);
      const lock = await DirectoryLock.acquire(dir, 5000);
      try {
        const node = [process.execPath, '--import', 'tsx', HOLDER, dir];
        const second = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', ...node], { encoding: 'utf8' });
        expect(second.status).toBe(3);
        expect(second.stdout).toContain(`in use by process ${process.pid}`);
      } finally {
        lock.release();
      }
    },
  );
});
