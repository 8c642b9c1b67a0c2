/**
 * Temp directories of a bench run: one root under os.tmpdir(), a fresh directory per store or
 * ceiling run inside it, everything removed afterwards (also on SIGINT/SIGTERM, see main.ts).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export class TempRoot {
  private counter = 0;

  private constructor(readonly root: string) {}

  static async create(prefix = 'apogee-bench-'): Promise<TempRoot> {
    return new TempRoot(await mkdtemp(path.join(os.tmpdir(), prefix)));
  }

  /** A new empty directory `<root>/<label>-<n>`. */
  async dir(label: string): Promise<string> {
    const dir = path.join(this.root, `${label}-${++this.counter}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async remove(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true });
  }

  /** Runs fn in a fresh directory and removes it afterwards, whatever happens. */
  async with<T>(label: string, fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = await this.dir(label);
    try {
      return await fn(dir);
    } finally {
      await this.remove(dir);
    }
  }

  async dispose(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
