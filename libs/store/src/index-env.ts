import { type Database, type RootDatabase, open } from 'lmdb';

/**
 * The store's LMDB environment: queue indexes, key index and metadata, one file set under
 * `<dataDir>/index`. Writes are async and batched per event turn by lmdb-js (committed on its
 * worker thread, durably with overlapping sync); reads are synchronous memory-mapped lookups of
 * bounded size.
 */
export interface IndexEnv {
  root: RootDatabase;
  /** (topic \0 queueId) -> qid, offsets, inline tail entries (see queue-index.ts) */
  queues: Database<Buffer, Buffer>;
  /** qid + block number -> up to BLOCK_ENTRIES index entries */
  blocks: Database<Buffer, Buffer>;
  /** time bucket + topic \0 key \0 + store time + log offset -> record size */
  keys: Database<Buffer, Buffer>;
  /** qid + group -> consumer offset + update time */
  offsets: Database<Buffer, Buffer>;
  /** group \0 qid -> queue name key: which queues a group has offsets in */
  groups: Database<Buffer, Buffer>;
  /** topic -> TopicConfig */
  topics: Database<unknown, string>;
  /** small system values (dispatch marker, next qid) */
  sys: Database<Buffer, string>;
  /** namespace \0 key -> value: endpoints' durable metadata (see meta-kv.ts) */
  meta: Database<Buffer, Buffer>;
}

export function openIndexEnv(path: string): IndexEnv {
  const root = open({ path, maxDbs: 16, compression: false, encoding: 'binary', keyEncoding: 'binary' }) as RootDatabase;
  const bin = (name: string) => root.openDB<Buffer, Buffer>({ name, encoding: 'binary', keyEncoding: 'binary', compression: false });
  return {
    root,
    queues: bin('queues'),
    blocks: bin('blocks'),
    keys: bin('keys'),
    offsets: bin('offsets'),
    groups: bin('groups'),
    topics: root.openDB<unknown, string>({ name: 'topics', encoding: 'json', keyEncoding: 'ordered-binary' }),
    sys: root.openDB<Buffer, string>({ name: 'sys', encoding: 'binary', keyEncoding: 'ordered-binary' }),
    meta: bin('meta'),
  };
}

export function u32Key(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n, 0);
  return b;
}
