import fs from 'node:fs';
import path from 'node:path';
import { StoreFormatError } from './errors.js';
import type { IndexEnv } from './index-env.js';

/**
 * Format versions of what the store writes (see docs/store.md, "Format versions"):
 *
 * - the data directory as a whole (layout of `commitlog/`, `index/`, `checkpoint`; the commit log
 *   records themselves are RocketMQ's byte-identical format): the `format` file;
 * - the LMDB index (queue rows and blocks, key index, consumer offsets, topic configs, meta KV):
 *   the `format` record of its `sys` database;
 * - the checkpoint file: the version in its header (checkpoint.ts).
 *
 * Opening checks every version before anything is written. A version this build does not read is
 * a StoreFormatError and leaves the data as found. A missing version is a directory (or index)
 * from before versions were recorded: version 1, upgraded in place by stamping the current
 * version once every check passed. A fresh directory is stamped the same way.
 */

/** Version of the data directory layout. */
export const DATA_DIR_FORMAT_VERSION = 1;
/** Version of the LMDB index rows. */
export const INDEX_FORMAT_VERSION = 1;
/** What an unversioned directory or index is. */
export const UNVERSIONED = 1;

export const FORMAT_FILE = 'format';
const FORMAT_LINE = /^apogee-store format (\d{1,9})\n?$/;
/** Key of the format record in the index's `sys` database. */
export const INDEX_FORMAT_KEY = 'format';

/** The data directory's format version; undefined if it has no `format` file (unversioned). Throws StoreFormatError for any other version. */
export function checkDataDirFormat(dataDir: string): number | undefined {
  const file = path.join(dataDir, FORMAT_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const m = FORMAT_LINE.exec(text);
  const found = m ? Number(m[1]) : null;
  if (found !== DATA_DIR_FORMAT_VERSION) throw new StoreFormatError(file, found, DATA_DIR_FORMAT_VERSION);
  return found;
}

/** Writes the current data directory format (atomically: a temp file renamed over, then synced). */
export function stampDataDirFormat(dataDir: string): void {
  const file = path.join(dataDir, FORMAT_FILE);
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    fs.writeSync(fd, `apogee-store format ${DATA_DIR_FORMAT_VERSION}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dir = fs.openSync(dataDir, 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}

/** The LMDB index's format version; undefined if it has none (unversioned, or new). Throws StoreFormatError for any other version. */
export function checkIndexFormat(env: IndexEnv, where: string): number | undefined {
  const v = env.sys.get(INDEX_FORMAT_KEY);
  if (v === undefined) return undefined;
  const found = v.length === 4 ? v.readUInt32BE(0) : null;
  if (found !== INDEX_FORMAT_VERSION) throw new StoreFormatError(`${where} (LMDB record sys/${INDEX_FORMAT_KEY})`, found, INDEX_FORMAT_VERSION);
  return found;
}

/** Writes the current index format record; resolves once it is durable. */
export async function stampIndexFormat(env: IndexEnv): Promise<void> {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(INDEX_FORMAT_VERSION, 0);
  await env.sys.put(INDEX_FORMAT_KEY, b);
}
