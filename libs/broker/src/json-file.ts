import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * A small JSON document on disk, replaced atomically (write temp, fsync, rename, fsync dir), so a
 * crash leaves either the old or the new version. Writes are coalesced: at most one in flight.
 */
export class JsonFile<T> {
  private writing: Promise<void> | null = null;
  private dirty = false;

  constructor(
    readonly file: string,
    private readonly snapshot: () => T,
  ) {}

  async read(): Promise<T | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new Error(`${this.file} is not valid JSON (${(err as Error).message}); fix or remove it`);
    }
  }

  /** Persists the current snapshot; resolves once a write that includes this change is durable. */
  save(): Promise<void> {
    this.dirty = true;
    if (!this.writing) this.writing = this.loop();
    return this.writing;
  }

  private async loop(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        await this.writeOnce(JSON.stringify(this.snapshot(), null, 2));
      }
    } finally {
      this.writing = null;
    }
  }

  private async writeOnce(text: string): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(text);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, this.file);
    const dir = await fs.open(path.dirname(this.file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
