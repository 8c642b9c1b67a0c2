import { open, readFile, rename } from 'node:fs/promises';
import { CorruptKvConfigFileError } from './errors.js';
import type { KvLookup } from './route-registry.js';

export interface KvConfigStoreOptions {
  /**
   * JSON file holding the table (RocketMQ kvConfig.json layout, `{"configTable":{ns:{key:value}}}`,
   * so a file from a Java NameServer loads). Without it the store lives in memory only.
   */
  file?: string;
}

/**
 * NameServer KV config (PUT_KV_CONFIG 100, GET_KV_CONFIG 101, DELETE_KV_CONFIG 102,
 * GET_KVLIST_BY_NAMESPACE 219): namespace → key → value. Reads are synchronous from memory; a
 * change is visible at once and its promise settles when the file is durably replaced (write to
 * `<file>.tmp`, fsync, rename). Writes are serialised, so the file always ends at the last state.
 */
export class KvConfigStore implements KvLookup {
  private readonly table = new Map<string, Map<string, string>>();
  private readonly file: string | undefined;
  private persisting: Promise<void> = Promise.resolve();

  private constructor(file: string | undefined) {
    this.file = file;
  }

  /** An in-memory store, or one loaded from `file` (missing file = empty; corrupt = error). */
  static async open(options: KvConfigStoreOptions = {}): Promise<KvConfigStore> {
    const store = new KvConfigStore(options.file);
    if (options.file !== undefined) await store.load(options.file);
    return store;
  }

  get(namespace: string, key: string): string | undefined {
    return this.table.get(namespace)?.get(key);
  }

  /** Sets a value; resolves once persisted. */
  put(namespace: string, key: string, value: string): Promise<void> {
    let entries = this.table.get(namespace);
    if (entries === undefined) {
      entries = new Map();
      this.table.set(namespace, entries);
    }
    entries.set(key, value);
    return this.persist();
  }

  /** Removes a key (and its namespace once empty); resolves to whether it existed, once persisted. */
  async delete(namespace: string, key: string): Promise<boolean> {
    const entries = this.table.get(namespace);
    const existed = entries?.delete(key) ?? false;
    if (entries?.size === 0) this.table.delete(namespace);
    await this.persist();
    return existed;
  }

  /** A namespace's keys and values (GET_KVLIST_BY_NAMESPACE body `table`), or undefined. */
  listNamespace(namespace: string): Record<string, string> | undefined {
    const entries = this.table.get(namespace);
    return entries === undefined ? undefined : Object.fromEntries(entries);
  }

  namespaces(): string[] {
    return [...this.table.keys()];
  }

  /** The whole table as plain objects (what the file holds under `configTable`). */
  snapshot(): Record<string, Record<string, string>> {
    const result: Record<string, Record<string, string>> = {};
    for (const [namespace, entries] of this.table) result[namespace] = Object.fromEntries(entries);
    return result;
  }

  /** Resolves when every change made so far is on disk. */
  flush(): Promise<void> {
    return this.persisting;
  }

  private persist(): Promise<void> {
    const file = this.file;
    if (file === undefined) return Promise.resolve();
    // Each write serialises the state current when it runs, so the last one wins.
    const next = this.persisting.catch(() => undefined).then(() => writeAtomically(file, this.serialize()));
    this.persisting = next;
    return next;
  }

  private serialize(): string {
    return JSON.stringify({ configTable: this.snapshot() });
  }

  private async load(file: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new CorruptKvConfigFileError(file, 'not valid JSON', { cause: error });
    }
    const configTable = isRecord(parsed) ? parsed['configTable'] : undefined;
    if (!isRecord(configTable)) throw new CorruptKvConfigFileError(file, 'no "configTable" object');
    for (const [namespace, entries] of Object.entries(configTable)) {
      if (!isRecord(entries)) throw new CorruptKvConfigFileError(file, `namespace "${namespace}" is not an object`);
      const map = new Map<string, string>();
      for (const [key, value] of Object.entries(entries)) {
        if (typeof value !== 'string') {
          throw new CorruptKvConfigFileError(file, `value of "${namespace}"/"${key}" is not a string`);
        }
        map.set(key, value);
      }
      if (map.size > 0) this.table.set(namespace, map);
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function writeAtomically(file: string, content: string): Promise<void> {
  const temp = `${file}.tmp`;
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}
