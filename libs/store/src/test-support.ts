import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { StoreConfig } from './api.js';
import type { Logger } from './logger.js';
import { DefaultMessageStore } from './message-store.js';

/** A fresh temp data directory (removed by the returned cleanup). */
export function tempDir(prefix = 'apg-store-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Collects log lines instead of printing them. */
export function memoryLogger(): Logger & { lines: Array<{ level: string; msg: string; obj: object }> } {
  const lines: Array<{ level: string; msg: string; obj: object }> = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', msg, obj }),
    warn: (obj, msg) => lines.push({ level: 'warn', msg, obj }),
    error: (obj, msg) => lines.push({ level: 'error', msg, obj }),
  };
}

export function openTestStore(dataDir: string, extra: Partial<StoreConfig> = {}, log: Logger = memoryLogger()): Promise<DefaultMessageStore> {
  return DefaultMessageStore.open({ dataDir, segmentSize: 64 * 1024, ...extra }, log);
}
