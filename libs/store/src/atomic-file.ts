import fs from 'node:fs';
import path from 'node:path';

/** fsyncs a directory, so a rename or unlink in it survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await fs.promises.open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Replaces `file` with `data` atomically: written to `file.tmp`, fsynced, renamed over `file`,
 * the directory fsynced. A crash leaves either the old file or the new one (and maybe a stale
 * `.tmp`, which readers ignore and the next write replaces).
 */
export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const tmp = `${file}.tmp`;
  const fh = await fs.promises.open(tmp, 'w', 0o644);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.promises.rename(tmp, file);
  await syncDir(path.dirname(file));
}

/** Removes `file` (if present) durably: the directory is fsynced after the unlink. */
export async function removeFileDurably(file: string): Promise<void> {
  await fs.promises.rm(file, { force: true });
  await syncDir(path.dirname(file));
}
