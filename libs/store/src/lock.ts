import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { StoreLockedError } from './errors.js';

/** Exit code asked of flock(1) when the lock is held elsewhere, apart from its other failures. */
const HELD_ELSEWHERE = 75;

/** How long a start waits for a lock held by a process that is on its way out (see acquire). */
export const DEFAULT_LOCK_WAIT_MS = 2000;
const RETRY_EVERY_MS = 50;

/** Lock files this process holds, so a second open here is named as such. */
const heldHere = new Set<string>();

/**
 * An exclusive lock on a data directory, held by the kernel: flock(2) on the directory's `lock` file.
 *
 * A pid file cannot tell a live owner from a dead one reliably: in a fresh PID namespace (a container
 * restart) the new process gets the dead one's pid, and a zombie still answers kill(pid, 0). A flock is
 * released by the kernel when the last descriptor of its open file description closes — at any exit,
 * SIGKILL included, before the process is even reaped — and it conflicts across PID namespaces because it
 * lives on the inode. Node has no flock call, so flock(1) from util-linux takes it on a descriptor this
 * process passes down: the lock belongs to the shared open file description and stays with this process
 * after flock(1) exits. Node opens files close-on-exec, so no later child inherits the lock.
 *
 * The file holds the owner's pid for error messages only; it is never deleted (unlinking a locked file
 * would let a third process lock a new inode while the second still holds the old one).
 */
export class DirectoryLock {
  private constructor(
    private readonly file: string,
    private fd: number | null,
  ) {}

  /**
   * Takes the lock or fails with StoreLockedError. A lock held elsewhere is tried again for up to
   * `waitMs`: a process killed through a wrapper (`unshare --kill-child`, a shell) may still be ending
   * when its restart begins; a live owner still holds it after the wait and the start is refused.
   */
  static async acquire(dir: string, waitMs = DEFAULT_LOCK_WAIT_MS): Promise<DirectoryLock> {
    const file = path.join(dir, 'lock');
    if (heldHere.has(file)) throw new StoreLockedError(`data directory ${dir} is already open in this process`);
    heldHere.add(file); // before the first await, so a concurrent open here is named as such too
    let fd: number | null = null;
    try {
      fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
      const deadline = Date.now() + waitMs;
      let result = await flockExclusive(fd);
      while (result.status === HELD_ELSEWHERE && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, RETRY_EVERY_MS));
        result = await flockExclusive(fd);
      }
      if (result.status === HELD_ELSEWHERE) {
        const owner = Number.parseInt(readOrEmpty(file), 10);
        const who = Number.isInteger(owner) && owner > 0 ? `process ${owner}` : 'another process';
        throw new StoreLockedError(
          `data directory ${dir} is in use by ${who} (it holds the lock; that pid is as its own PID namespace saw it); stop it or choose another directory`,
        );
      }
      if (result.status !== 0) throw new StoreLockedError(`could not lock data directory ${dir}: ${result.reason}`);
      fs.ftruncateSync(fd, 0);
      fs.writeSync(fd, `${process.pid}\n`, 0);
    } catch (err) {
      if (fd !== null) fs.closeSync(fd);
      heldHere.delete(file);
      throw err;
    }
    return new DirectoryLock(file, fd);
  }

  /** Releases the lock (closing its descriptor is what releases it). Idempotent. */
  release(): void {
    if (this.fd === null) return;
    try {
      fs.ftruncateSync(this.fd, 0);
    } finally {
      fs.closeSync(this.fd);
      this.fd = null;
      heldHere.delete(this.file);
    }
  }
}

interface FlockResult {
  status: number | null;
  reason: string;
}

/** Runs `flock --nonblock --exclusive 3` with `fd` as the child's descriptor 3. */
function flockExclusive(fd: number): Promise<FlockResult> {
  return new Promise((resolve) => {
    let stderr = '';
    const child = spawn('flock', ['--nonblock', '--exclusive', '--conflict-exit-code', String(HELD_ELSEWHERE), '3'], {
      stdio: ['ignore', 'ignore', 'pipe', fd],
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => (stderr += s));
    child.on('error', (err: NodeJS.ErrnoException) => {
      const reason = err.code === 'ENOENT' ? 'the flock command (util-linux) is not installed' : err.message;
      resolve({ status: null, reason });
    });
    child.on('close', (status, signal) => resolve({ status, reason: stderr.trim() || (signal ? `flock ended by ${signal}` : `flock exited with ${status}`) }));
  });
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
