import { readFile, rename, writeFile } from 'node:fs/promises';
import type { ClientInstance } from '../client/instance.js';
import { queryConsumerOffset, updateConsumerOffset } from '../client/offset-requests.js';
import { type MessageQueue, queueKey } from '../message-queue.js';

/** Where a consumer keeps its progress. */
export interface OffsetStore {
  load(): Promise<void>;
  /** Offset in memory, or undefined. */
  read(q: MessageQueue): number | undefined;
  /** Offset from the backing store (broker for clustering), or undefined when none is stored. */
  readFromStore(q: MessageQueue): Promise<number | undefined>;
  /** Sets the in-memory offset; with `increaseOnly`, a lower value is ignored. */
  update(q: MessageQueue, offset: number, increaseOnly: boolean): void;
  /** Writes changed offsets of `queues` (default: all) to the backing store. */
  persist(queues?: readonly MessageQueue[]): Promise<void>;
  remove(q: MessageQueue): void;
}

interface Entry {
  queue: MessageQueue;
  offset: number;
  dirty: boolean;
}

class OffsetTable {
  readonly entries = new Map<string, Entry>();

  read(q: MessageQueue): number | undefined {
    return this.entries.get(queueKey(q))?.offset;
  }

  update(q: MessageQueue, offset: number, increaseOnly: boolean): void {
    if (offset < 0) return;
    const key = queueKey(q);
    const e = this.entries.get(key);
    if (!e) this.entries.set(key, { queue: q, offset, dirty: true });
    else if (!(increaseOnly && offset <= e.offset) && offset !== e.offset) {
      e.offset = offset;
      e.dirty = true;
    }
  }

  dirty(queues?: readonly MessageQueue[]): Entry[] {
    const all = queues ? queues.map((q) => this.entries.get(queueKey(q))).filter((e): e is Entry => e !== undefined) : [...this.entries.values()];
    return all.filter((e) => e.dirty);
  }
}

/** Clustering: offsets live on the broker (QUERY/UPDATE_CONSUMER_OFFSET); only changed ones are committed. */
export class RemoteOffsetStore implements OffsetStore {
  private readonly table = new OffsetTable();

  constructor(
    private readonly inst: ClientInstance,
    private readonly group: string,
  ) {}

  async load(): Promise<void> {}

  read(q: MessageQueue): number | undefined {
    return this.table.read(q);
  }

  async readFromStore(q: MessageQueue): Promise<number | undefined> {
    const off = await queryConsumerOffset(this.inst, this.group, q);
    if (off !== undefined && off >= 0) {
      this.table.update(q, off, false);
      this.table.entries.get(queueKey(q))!.dirty = false;
    }
    return off;
  }

  update(q: MessageQueue, offset: number, increaseOnly: boolean): void {
    this.table.update(q, offset, increaseOnly);
  }

  async persist(queues?: readonly MessageQueue[]): Promise<void> {
    const errors: unknown[] = [];
    await Promise.all(
      this.table.dirty(queues).map(async (e) => {
        const offset = e.offset;
        try {
          await updateConsumerOffset(this.inst, this.group, e.queue, offset);
          if (e.offset === offset) e.dirty = false;
        } catch (err) {
          errors.push(err);
        }
      }),
    );
    if (errors.length > 0) throw errors[0];
  }

  remove(q: MessageQueue): void {
    this.table.entries.delete(queueKey(q));
  }
}

/**
 * Broadcasting: offsets stay with this client — in memory, and in `file` (JSON
 * `{"offsetTable":{"topic@broker@qid":offset}}`) when given. Never committed to the broker.
 */
export class LocalOffsetStore implements OffsetStore {
  private readonly table = new OffsetTable();

  constructor(private readonly file?: string) {}

  async load(): Promise<void> {
    if (!this.file) return;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const json = JSON.parse(text) as { offsetTable?: Record<string, number> };
    for (const [key, offset] of Object.entries(json.offsetTable ?? {})) {
      const m = /^(.*)@([^@]*)@(\d+)$/.exec(key);
      if (!m || typeof offset !== 'number') continue;
      this.table.update({ topic: m[1]!, brokerName: m[2]!, queueId: Number(m[3]) }, offset, false);
    }
    for (const e of this.table.entries.values()) e.dirty = false;
  }

  read(q: MessageQueue): number | undefined {
    return this.table.read(q);
  }

  async readFromStore(q: MessageQueue): Promise<number | undefined> {
    return this.table.read(q);
  }

  update(q: MessageQueue, offset: number, increaseOnly: boolean): void {
    this.table.update(q, offset, increaseOnly);
  }

  async persist(): Promise<void> {
    if (!this.file || this.table.dirty().length === 0) return;
    const offsetTable: Record<string, number> = {};
    const written: Array<[Entry, number]> = [];
    for (const [key, e] of this.table.entries) {
      offsetTable[key] = e.offset;
      written.push([e, e.offset]);
    }
    // Write-then-rename so a crash never leaves half a file.
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, JSON.stringify({ offsetTable }));
    await rename(tmp, this.file);
    // Offsets that moved while writing stay dirty for the next round.
    for (const [e, offset] of written) if (e.offset === offset) e.dirty = false;
  }

  remove(): void {
    // Broadcasting keeps offsets of queues it no longer reads: they come back on the next rebalance.
  }
}
