import fs from 'node:fs';
import path from 'node:path';
import { StoreLockedError } from './errors.js';

/**
 * An exclusive lock on a data directory: a `lock` file holding the owner's pid, created with
 * O_EXCL. A lock left by a dead process (SIGKILL) is taken over; a live owner is an error.
 */
export class DirectoryLock {
  private constructor(private readonly file: string) {}

  static acquire(dir: string): DirectoryLock {
    const file = path.join(dir, 'lock');
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = fs.openSync(file, 'wx');
        fs.writeSync(fd, `${process.pid}\n`);
        fs.closeSync(fd);
        return new DirectoryLock(file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = Number.parseInt(readOrEmpty(file), 10);
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new StoreLockedError(`data directory ${dir} is in use by process ${owner}; stop it or choose another directory`);
      }
      if (owner === process.pid) throw new StoreLockedError(`data directory ${dir} is already open in this process`);
      fs.rmSync(file, { force: true }); // stale: its owner is gone
    }
    throw new StoreLockedError(`could not lock data directory ${dir}`);
  }

  release(): void {
    fs.rmSync(this.file, { force: true });
  }
}

function readOrEmpty(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
