// What one controller knows of its group's keys: a mirror built from a range of the group's prefix
// and kept current by a watch on it. Pure state, no I/O. Every key remembers the revision of the last
// change applied to it and older news is ignored, so the controller may apply the result of its own
// txn at once (at the txn's revision) and let the watch deliver the same change later.
import type { KeyValue } from '@apogee/etcd';
import {
  type CandidateRecord,
  type GroupKeys,
  type InSyncRecord,
  type MasterRecord,
  type PreferredRecord,
  parseCandidate,
  parseEpoch,
  parseInSync,
  parseMaster,
  parsePreferred,
} from './keys.js';

/** One key as last seen: its parsed value (null when it did not parse: then `error` says why). */
export interface Entry<T> {
  readonly value: T | null;
  readonly error: string | null;
  readonly modRevision: number;
  readonly createRevision: number;
  readonly lease: string;
}

export class GroupView {
  master: Entry<MasterRecord> | null = null;
  epoch: Entry<number> | null = null;
  inSync: Entry<InSyncRecord> | null = null;
  preferred: Entry<PreferredRecord> | null = null;
  readonly candidates = new Map<number, Entry<CandidateRecord>>();
  /** The newest revision this view has applied. */
  revision = 0;
  private readonly changedAt = new Map<string, number>();

  constructor(private readonly keys: GroupKeys) {}

  /** Replaces everything with a range's answer read at `revision`. */
  reset(kvs: readonly KeyValue[], revision: number): void {
    this.master = this.epoch = this.inSync = this.preferred = null;
    this.candidates.clear();
    this.changedAt.clear();
    this.revision = 0;
    for (const kv of kvs) this.put(kv);
    this.revision = revision;
  }

  /** A put of `kv` (from the watch or our own txn). Returns false when it was old news. */
  put(kv: KeyValue): boolean {
    return this.change(kv.key.toString('utf8'), kv.modRevision, kv);
  }

  /** A delete of `key` at `revision`. Returns false when it was old news. */
  delete(key: string, revision: number): boolean {
    return this.change(key, revision, null);
  }

  /** A parse error of a key we read, if any (the controller reports it). */
  errors(): string[] {
    const all = [this.master, this.epoch, this.inSync, this.preferred, ...this.candidates.values()];
    return all.flatMap((e) => (e?.error ? [e.error] : []));
  }

  private change(key: string, revision: number, kv: KeyValue | null): boolean {
    if (revision <= (this.changedAt.get(key) ?? 0)) return false;
    this.changedAt.set(key, revision);
    this.revision = Math.max(this.revision, revision);
    const text = kv?.value.toString('utf8') ?? '';
    if (key === this.keys.master) this.master = kv && entry(kv, () => parseMaster(text));
    else if (key === this.keys.epoch) this.epoch = kv && entry(kv, () => parseEpoch(text));
    else if (key === this.keys.inSync) this.inSync = kv && entry(kv, () => parseInSync(text));
    else if (key === this.keys.preferred) this.preferred = kv && entry(kv, () => parsePreferred(text));
    else if (key.startsWith(this.keys.candidates)) {
      const id = Number(key.slice(this.keys.candidates.length));
      if (!Number.isSafeInteger(id) || id < 0) return true; // not a candidate key of ours: ignored
      if (kv)
        this.candidates.set(
          id,
          entry(kv, () => parseCandidate(text)),
        );
      else this.candidates.delete(id);
    }
    return true;
  }
}

function entry<T>(kv: KeyValue, parse: () => T): Entry<T> {
  let value: T | null = null;
  let error: string | null = null;
  try {
    value = parse();
  } catch (e) {
    error = (e as Error).message;
  }
  return { value, error, modRevision: kv.modRevision, createRevision: kv.createRevision, lease: kv.lease };
}
