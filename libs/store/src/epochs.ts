import fs from 'node:fs';
import path from 'node:path';
import type { EpochEntry } from './api.js';
import { writeFileAtomic } from './atomic-file.js';
import { StoreCorruptError } from './errors.js';
import { ReplicationError } from './replication.js';

export type { EpochEntry };

/** The epoch history of a data directory (docs/ha-design.md, decisions 2 and 3). */
export const EPOCHS_FILE = 'epochs.json';
/** Epochs are u32 on the HA wire; 0 is the implicit epoch of records older than the first entry. */
export const MAX_EPOCH = 0xffff_ffff;

/**
 * The epoch history in `<dataDir>/epochs.json`: `[{epoch, startOffset}]`, epochs strictly
 * ascending, start offsets non-decreasing (an epoch that wrote nothing leaves an entry at the same
 * start as the next). Records below the first entry's start are of the implicit epoch 0. Every
 * change replaces the file atomically (tmp, fsync, rename, directory fsync) before it is seen in
 * memory; changes are applied one at a time in call order.
 */
export class EpochHistory {
  private list: EpochEntry[];
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly file: string,
    list: EpochEntry[],
  ) {
    this.list = list;
  }

  /** Reads and checks the file; absent means no epoch yet. Throws StoreCorruptError, naming the file, for a damaged one. */
  static load(dataDir: string): EpochHistory {
    const file = path.join(dataDir, EPOCHS_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new EpochHistory(file, []);
      throw err;
    }
    return new EpochHistory(file, parseEpochs(text, file));
  }

  get entries(): ReadonlyArray<EpochEntry> {
    return this.list;
  }

  /** The newest epoch, 0 when there is none. */
  get current(): number {
    return this.list.at(-1)?.epoch ?? 0;
  }

  /**
   * Records that the log continues in `epoch` from `startOffset` (a record boundary at or below
   * `logEnd`). Refused with ReplicationError for an epoch not above the newest, a start below the
   * newest entry's or past the log's end.
   */
  begin(epoch: number, startOffset: number, logEnd: number): Promise<void> {
    return this.serially(async () => {
      if (!Number.isSafeInteger(epoch) || epoch < 1 || epoch > MAX_EPOCH) throw new ReplicationError(`epoch ${epoch} is not an integer in [1, ${MAX_EPOCH}]`);
      if (!Number.isSafeInteger(startOffset) || startOffset < 0) throw new ReplicationError(`epoch start ${startOffset} is not a log offset`);
      const last = this.list.at(-1);
      if (last && epoch <= last.epoch) throw new ReplicationError(`epoch ${epoch} is not newer than the current epoch ${last.epoch}`);
      if (last && startOffset < last.startOffset)
        throw new ReplicationError(`epoch ${epoch} cannot start at ${startOffset}, below the start ${last.startOffset} of epoch ${last.epoch}`);
      if (startOffset > logEnd) throw new ReplicationError(`epoch ${epoch} cannot start at ${startOffset}, past the commit log's end ${logEnd}`);
      await this.replace([...this.list, { epoch, startOffset }]);
    });
  }

  /** Drops the entries whose records all lie at or above `offset` (a truncation to `offset`). */
  dropFrom(offset: number): Promise<void> {
    return this.serially(async () => {
      const kept = this.list.filter((e) => e.startOffset < offset);
      if (kept.length !== this.list.length) await this.replace(kept);
    });
  }

  /** Drops the entries that start past `end` (the log lost records they named); entries at `end` stay. */
  dropAbove(end: number): Promise<void> {
    return this.serially(async () => {
      const kept = this.list.filter((e) => e.startOffset <= end);
      if (kept.length !== this.list.length) await this.replace(kept);
    });
  }

  private async replace(list: EpochEntry[]): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify(list)}\n`);
    this.list = list;
  }

  private serially<T>(f: () => Promise<T>): Promise<T> {
    const run = this.chain.then(f, f);
    this.chain = run.catch(() => {});
    return run;
  }
}

/** Parses and checks an epochs file's text. */
export function parseEpochs(text: string, file: string): EpochEntry[] {
  const bad = (why: string) => new StoreCorruptError(`${file}: ${why}; the epoch history is damaged (restore it, or remove the file to start without one)`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw bad(`not JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(raw)) throw bad('not an array of {epoch, startOffset}');
  const out: EpochEntry[] = [];
  for (const [i, e] of raw.entries()) {
    if (typeof e !== 'object' || e === null) throw bad(`entry ${i} is not an object`);
    const { epoch, startOffset } = e as Record<string, unknown>;
    if (typeof epoch !== 'number' || !Number.isSafeInteger(epoch) || epoch < 1 || epoch > MAX_EPOCH) throw bad(`entry ${i} has no valid epoch`);
    if (typeof startOffset !== 'number' || !Number.isSafeInteger(startOffset) || startOffset < 0) throw bad(`entry ${i} has no valid startOffset`);
    const prev = out.at(-1);
    if (prev && epoch <= prev.epoch) throw bad(`epoch ${epoch} (entry ${i}) does not follow epoch ${prev.epoch}`);
    if (prev && startOffset < prev.startOffset)
      throw bad(`epoch ${epoch} starts at ${startOffset}, below the start ${prev.startOffset} of epoch ${prev.epoch}`);
    out.push({ epoch, startOffset });
  }
  return out;
}
