/**
 * Counts fsync/fdatasync calls made through node:fs while it is installed (callback, sync and
 * FileHandle forms). Used to see how many messages a store's group commit puts behind one flush.
 * Calls made by native code (LMDB's own syncs) are not seen.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import os from 'node:os';
import path from 'node:path';

type AnyFn = (...args: unknown[]) => unknown;

export interface FsyncCounter {
  readonly count: number;
  /** Puts node:fs back as it was. */
  uninstall(): void;
}

export async function installFsyncCounter(): Promise<FsyncCounter> {
  let count = 0;
  const restores: Array<() => void> = [];
  const wrap = (target: object, name: string): void => {
    const original = (target as Record<string, unknown>)[name];
    if (typeof original !== 'function') return;
    const fn = original as AnyFn;
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      count++;
      return fn.apply(this, args);
    };
    (target as Record<string, unknown>)[name] = wrapped;
    restores.push(() => {
      (target as Record<string, unknown>)[name] = original;
    });
  };

  for (const name of ['fsync', 'fdatasync', 'fsyncSync', 'fdatasyncSync']) wrap(fs, name);
  // FileHandle is not exported; reach its prototype through a handle.
  const probe = path.join(os.tmpdir(), `apogee-bench-fsync-probe-${process.pid}`);
  const fh = await fs.promises.open(probe, 'w');
  const proto = Object.getPrototypeOf(fh) as object;
  await fh.close();
  await fs.promises.rm(probe, { force: true });
  wrap(proto, 'sync');
  wrap(proto, 'datasync');
  syncBuiltinESMExports();

  return {
    get count() {
      return count;
    },
    uninstall() {
      for (const r of restores.reverse()) r();
      syncBuiltinESMExports();
    },
  };
}
