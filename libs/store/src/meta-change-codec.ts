import { crc32 } from 'node:zlib';
import { readInt64BE, validateTopicName, writeInt64BE } from '@apogee/message';
import type { TopicConfig } from './api.js';
import { StoreError } from './errors.js';
import { MAX_META_KEY_BYTES, MAX_META_VALUE_BYTES, checkMetaKey, isLocalMetaNamespace } from './meta-kv.js';

/**
 * The binary encoding of the metadata feed (docs/ha-design.md decision 4): batches of changes
 * (`readMetaChanges`) and snapshot chunks (`readMetaSnapshot`). Big-endian throughout.
 *
 *   frame    = version(1) type(1) generation(16) header body crc32(4)
 *   changes  : type 1, header = fromSeq(8) toSeq(8) count(4)
 *   snapshot : type 2, header = seq(8) chunkIndex(4) last(1) count(4)
 *   change   = kind(1) fields
 *     1 offset         group(str) topic(str) queueId(4) offset(8)
 *     2 offset-delete  group(str) topic(str) queueId(4)
 *     3 topic          json(u32 length + bytes)    the TopicConfig
 *     4 topic-delete   topic(str)
 *     5 meta           namespace(str) key(str) value(u32 length + bytes)
 *     6 meta-delete    namespace(str) key(str)
 *   str      = u16 length + UTF-8 bytes
 *
 * The CRC-32 covers every byte before it. Decoding checks every length against the bytes there
 * are and against the store's limits, and every name as the store's own API would, so a frame
 * either decodes whole into changes the store accepts or is refused with MetaFeedError.
 */

export const META_CODEC_VERSION = 1;
export const GENERATION_BYTES = 16;
/** Largest frame accepted or produced (a single change may be one MAX_META_VALUE_BYTES value). */
export const MAX_META_FRAME_BYTES = 2 * MAX_META_VALUE_BYTES;
/** Largest TopicConfig, as JSON (putTopicConfig refuses larger ones). */
export const MAX_TOPIC_CONFIG_BYTES = 64 * 1024;
/** Longest consumer group name in UTF-8 bytes (as an LMQ name; commitOffset refuses longer ones). */
export const MAX_GROUP_BYTES = 1024;

const TYPE_CHANGES = 1;
const TYPE_SNAPSHOT = 2;
const PREFIX = 2 + GENERATION_BYTES;
const CHANGES_HEADER = PREFIX + 8 + 8 + 4;
const SNAPSHOT_HEADER = PREFIX + 8 + 4 + 1 + 4;
const CRC = 4;

const K_OFFSET = 1;
const K_OFFSET_DELETE = 2;
const K_TOPIC = 3;
const K_TOPIC_DELETE = 4;
const K_META = 5;
const K_META_DELETE = 6;

/** Bytes of a frame that cannot be applied: damaged, truncated, too large, of another version, or not where the replica is. */
export class MetaFeedError extends StoreError {
  constructor(
    readonly reason: 'DAMAGED' | 'TOO_LARGE' | 'UNSUPPORTED_VERSION' | 'NOT_CONTIGUOUS',
    message: string,
  ) {
    super(`APG_STORE_META_FEED_${reason}`, message);
  }
}

/** One durable metadata mutation, naming queues by (topic, queueId). */
export type MetaChange =
  | { kind: 'offset'; group: string; topic: string; queueId: number; offset: number }
  | { kind: 'offset-delete'; group: string; topic: string; queueId: number }
  | { kind: 'topic'; config: TopicConfig }
  | { kind: 'topic-delete'; topic: string }
  | { kind: 'meta'; namespace: string; key: string; value: Buffer }
  | { kind: 'meta-delete'; namespace: string; key: string };

export interface DecodedChanges {
  generation: string;
  fromSeq: number;
  toSeq: number;
  changes: MetaChange[];
}

export interface DecodedSnapshotChunk {
  generation: string;
  seq: number;
  chunkIndex: number;
  last: boolean;
  changes: MetaChange[];
}

const str = (s: string) => 2 + Buffer.byteLength(s, 'utf8');

/** Encoded size of one change (exact). */
export function changeSize(c: MetaChange): number {
  switch (c.kind) {
    case 'offset':
      return 1 + str(c.group) + str(c.topic) + 4 + 8;
    case 'offset-delete':
      return 1 + str(c.group) + str(c.topic) + 4;
    case 'topic':
      return 1 + 4 + Buffer.byteLength(JSON.stringify(c.config), 'utf8');
    case 'topic-delete':
      return 1 + str(c.topic);
    case 'meta':
      return 1 + str(c.namespace) + str(c.key) + 4 + c.value.length;
    case 'meta-delete':
      return 1 + str(c.namespace) + str(c.key);
  }
}

/** Bytes of the frame around a body of changes. */
export const CHANGES_OVERHEAD = CHANGES_HEADER + CRC;
export const SNAPSHOT_OVERHEAD = SNAPSHOT_HEADER + CRC;

export function generationToBytes(generation: string): Buffer {
  const b = Buffer.from(generation, 'hex');
  if (b.length !== GENERATION_BYTES || b.toString('hex') !== generation)
    throw new MetaFeedError('DAMAGED', `generation ${JSON.stringify(generation)} is not ${GENERATION_BYTES} bytes of hex`);
  return b;
}

class Writer {
  at = 0;
  constructor(readonly b: Buffer) {}
  u8(v: number): void {
    this.b[this.at++] = v;
  }
  u16(v: number): void {
    this.b.writeUInt16BE(v, this.at);
    this.at += 2;
  }
  u32(v: number): void {
    this.b.writeUInt32BE(v, this.at);
    this.at += 4;
  }
  i64(v: number): void {
    writeInt64BE(this.b, v, this.at);
    this.at += 8;
  }
  str(s: string): void {
    const n = this.b.write(s, this.at + 2, 'utf8');
    this.u16(n);
    this.at += n;
  }
  bytes(v: Buffer): void {
    this.u32(v.length);
    v.copy(this.b, this.at);
    this.at += v.length;
  }
  change(c: MetaChange): void {
    switch (c.kind) {
      case 'offset':
        this.u8(K_OFFSET);
        this.str(c.group);
        this.str(c.topic);
        this.u32(c.queueId);
        this.i64(c.offset);
        return;
      case 'offset-delete':
        this.u8(K_OFFSET_DELETE);
        this.str(c.group);
        this.str(c.topic);
        this.u32(c.queueId);
        return;
      case 'topic':
        this.u8(K_TOPIC);
        this.bytes(Buffer.from(JSON.stringify(c.config), 'utf8'));
        return;
      case 'topic-delete':
        this.u8(K_TOPIC_DELETE);
        this.str(c.topic);
        return;
      case 'meta':
        this.u8(K_META);
        this.str(c.namespace);
        this.str(c.key);
        this.bytes(c.value);
        return;
      case 'meta-delete':
        this.u8(K_META_DELETE);
        this.str(c.namespace);
        this.str(c.key);
        return;
    }
  }
  crc(): void {
    this.b.writeUInt32BE(crc32(this.b.subarray(0, this.at)), this.at);
    this.at += 4;
  }
}

/** A batch of changes in (fromSeq, toSeq]; `bodyBytes` is the sum of their changeSize. */
export function encodeChanges(generation: Buffer, fromSeq: number, toSeq: number, changes: readonly MetaChange[], bodyBytes: number): Buffer {
  const w = new Writer(Buffer.allocUnsafe(CHANGES_OVERHEAD + bodyBytes));
  w.u8(META_CODEC_VERSION);
  w.u8(TYPE_CHANGES);
  generation.copy(w.b, 2);
  w.at = PREFIX;
  w.i64(fromSeq);
  w.i64(toSeq);
  w.u32(changes.length);
  for (const c of changes) w.change(c);
  w.crc();
  if (w.at !== w.b.length) throw new Error(`meta change batch encoded to ${w.at} bytes, ${w.b.length} expected`);
  return w.b;
}

export function encodeSnapshotChunk(
  generation: Buffer,
  seq: number,
  chunkIndex: number,
  last: boolean,
  changes: readonly MetaChange[],
  bodyBytes: number,
): Buffer {
  const w = new Writer(Buffer.allocUnsafe(SNAPSHOT_OVERHEAD + bodyBytes));
  w.u8(META_CODEC_VERSION);
  w.u8(TYPE_SNAPSHOT);
  generation.copy(w.b, 2);
  w.at = PREFIX;
  w.i64(seq);
  w.u32(chunkIndex);
  w.u8(last ? 1 : 0);
  w.u32(changes.length);
  for (const c of changes) w.change(c);
  w.crc();
  if (w.at !== w.b.length) throw new Error(`meta snapshot chunk encoded to ${w.at} bytes, ${w.b.length} expected`);
  return w.b;
}

const damaged = (what: string, msg: string) => new MetaFeedError('DAMAGED', `${what}: ${msg}`);

class Reader {
  at: number;
  constructor(
    readonly b: Buffer,
    readonly end: number,
    readonly what: string,
    start: number,
  ) {
    this.at = start;
  }
  need(n: number, field: string): void {
    if (this.at + n > this.end) throw damaged(this.what, `truncated: ${field} needs ${n} bytes at ${this.at}, only ${this.end - this.at} left`);
  }
  u8(field: string): number {
    this.need(1, field);
    return this.b[this.at++]!;
  }
  u32(field: string): number {
    this.need(4, field);
    const v = this.b.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  i64(field: string): number {
    this.need(8, field);
    const hi = this.b.readInt32BE(this.at);
    if (hi > 0x1fffff || hi < -0x1fffff) throw damaged(this.what, `${field} at ${this.at} is not a safe integer`);
    const v = readInt64BE(this.b, this.at);
    this.at += 8;
    return v;
  }
  str(field: string, max: number): string {
    this.need(2, field);
    const n = this.b.readUInt16BE(this.at);
    this.at += 2;
    if (n > max) throw new MetaFeedError('TOO_LARGE', `${this.what}: ${field} is ${n} bytes; the limit is ${max}`);
    this.need(n, field);
    const s = this.b.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }
  bytes(field: string, max: number): Buffer {
    const n = this.u32(`${field} length`);
    if (n > max) throw new MetaFeedError('TOO_LARGE', `${this.what}: ${field} is ${n} bytes; the limit is ${max}`);
    this.need(n, field);
    // A copy: the frame's buffer may be reused by its reader, the value lives on in the store.
    const v = Buffer.from(this.b.subarray(this.at, this.at + n));
    this.at += n;
    return v;
  }
  group(): string {
    const g = this.str('group', MAX_GROUP_BYTES);
    checkGroup(g, (m) => damaged(this.what, m));
    return g;
  }
  topic(): string {
    const t = this.str('topic', MAX_META_KEY_BYTES);
    try {
      validateTopicName(t);
    } catch (err) {
      throw damaged(this.what, (err as Error).message);
    }
    return t;
  }
  queueId(): number {
    const q = this.u32('queueId');
    if (q > 0x7fffffff) throw damaged(this.what, `queue id ${q} out of range`);
    return q;
  }
  metaKey(): { namespace: string; key: string } {
    const namespace = this.str('namespace', MAX_META_KEY_BYTES);
    const key = this.str('key', MAX_META_KEY_BYTES);
    try {
      checkMetaKey(namespace, key);
    } catch (err) {
      throw damaged(this.what, (err as Error).message);
    }
    if (isLocalMetaNamespace(namespace)) throw damaged(this.what, `namespace ${namespace} is a store's local state and never replicates`);
    return { namespace, key };
  }
  change(): MetaChange {
    const kind = this.u8('change kind');
    switch (kind) {
      case K_OFFSET: {
        const group = this.group();
        const topic = this.topic();
        const queueId = this.queueId();
        return { kind: 'offset', group, topic, queueId, offset: this.i64('offset') };
      }
      case K_OFFSET_DELETE: {
        const group = this.group();
        const topic = this.topic();
        return { kind: 'offset-delete', group, topic, queueId: this.queueId() };
      }
      case K_TOPIC:
        return { kind: 'topic', config: parseTopicConfig(this.bytes('topic config', MAX_TOPIC_CONFIG_BYTES), (m) => damaged(this.what, m)) };
      case K_TOPIC_DELETE:
        return { kind: 'topic-delete', topic: this.topic() };
      case K_META: {
        const { namespace, key } = this.metaKey();
        return { kind: 'meta', namespace, key, value: this.bytes('value', MAX_META_VALUE_BYTES) };
      }
      case K_META_DELETE:
        return { kind: 'meta-delete', ...this.metaKey() };
      default:
        throw damaged(this.what, `unknown change kind ${kind} at ${this.at - 1}`);
    }
  }
}

/** A consumer group name as the store keeps it: non-empty, no U+0000, at most MAX_GROUP_BYTES. */
export function checkGroup(group: string, err: (msg: string) => Error): void {
  if (typeof group !== 'string' || group.length === 0) throw err('consumer group is empty');
  if (group.includes('\u0000')) throw err('consumer group holds U+0000');
  if (group.length > MAX_GROUP_BYTES / 3 && Buffer.byteLength(group, 'utf8') > MAX_GROUP_BYTES)
    throw err(`consumer group is longer than ${MAX_GROUP_BYTES} bytes`);
}

function parseTopicConfig(b: Buffer, err: (msg: string) => Error): TopicConfig {
  let v: unknown;
  try {
    v = JSON.parse(b.toString('utf8'));
  } catch (e) {
    throw err(`topic config is not JSON (${(e as Error).message})`);
  }
  const c = v as Record<string, unknown>;
  const int = (f: string) => {
    if (!Number.isSafeInteger(c[f])) throw err(`topic config ${f} is not an integer`);
  };
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw err('topic config is not an object');
  if (typeof c['topicName'] !== 'string') throw err('topic config has no topicName');
  try {
    validateTopicName(c['topicName']);
  } catch (e) {
    throw err((e as Error).message);
  }
  for (const f of ['readQueueNums', 'writeQueueNums', 'perm', 'topicSysFlag']) int(f);
  if (c['topicFilterType'] !== 'SINGLE_TAG' && c['topicFilterType'] !== 'MULTI_TAG') throw err('topic config topicFilterType is not SINGLE_TAG or MULTI_TAG');
  if (typeof c['order'] !== 'boolean') throw err('topic config order is not a boolean');
  const attrs = c['attributes'];
  if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs) || Object.values(attrs).some((a) => typeof a !== 'string'))
    throw err('topic config attributes are not a string map');
  return v as TopicConfig;
}

/** Checks size, version, type and CRC; returns the reader positioned after the prefix. */
function open(b: Buffer, type: number, header: number, what: string): Reader {
  if (!Buffer.isBuffer(b)) throw new MetaFeedError('DAMAGED', `${what}: not a Buffer`);
  if (b.length > MAX_META_FRAME_BYTES) throw new MetaFeedError('TOO_LARGE', `${what} is ${b.length} bytes; the limit is ${MAX_META_FRAME_BYTES}`);
  if (b.length >= 1 && b[0] !== META_CODEC_VERSION)
    throw new MetaFeedError('UNSUPPORTED_VERSION', `${what} has codec version ${b[0]}; this store reads version ${META_CODEC_VERSION}`);
  if (b.length < header + CRC) throw damaged(what, `truncated: ${b.length} bytes, a frame has at least ${header + CRC}`);
  if (b[1] !== type) throw damaged(what, `frame type ${b[1]}, expected ${type}`);
  const end = b.length - CRC;
  if (crc32(b.subarray(0, end)) !== b.readUInt32BE(end)) throw damaged(what, 'CRC-32 mismatch (truncated or altered)');
  return new Reader(b, end, what, PREFIX);
}

function body(r: Reader, count: number): MetaChange[] {
  // Every change takes at least 4 bytes: a count beyond that is damage, not an allocation to make.
  if (count > (r.end - r.at) / 4) throw damaged(r.what, `${count} changes cannot fit in ${r.end - r.at} bytes`);
  const out: MetaChange[] = [];
  for (let i = 0; i < count; i++) out.push(r.change());
  if (r.at !== r.end) throw damaged(r.what, `${r.end - r.at} bytes after the last change`);
  return out;
}

export function decodeChanges(b: Buffer): DecodedChanges {
  const r = open(b, TYPE_CHANGES, CHANGES_HEADER, 'meta change batch');
  const generation = b.toString('hex', 2, PREFIX);
  const fromSeq = r.i64('fromSeq');
  const toSeq = r.i64('toSeq');
  if (fromSeq < 0 || toSeq < fromSeq) throw damaged(r.what, `sequence range (${fromSeq}, ${toSeq}] is not a range`);
  const count = r.u32('count');
  return { generation, fromSeq, toSeq, changes: body(r, count) };
}

export function decodeSnapshotChunk(b: Buffer): DecodedSnapshotChunk {
  const r = open(b, TYPE_SNAPSHOT, SNAPSHOT_HEADER, 'meta snapshot chunk');
  const generation = b.toString('hex', 2, PREFIX);
  const seq = r.i64('seq');
  if (seq < 0) throw damaged(r.what, `sequence ${seq} is negative`);
  const chunkIndex = r.u32('chunkIndex');
  const lastFlag = r.u8('last');
  if (lastFlag > 1) throw damaged(r.what, `last flag ${lastFlag}`);
  const count = r.u32('count');
  const changes = body(r, count);
  for (const c of changes) if (c.kind !== 'offset' && c.kind !== 'topic' && c.kind !== 'meta') throw damaged(r.what, `a snapshot holds no ${c.kind} changes`);
  return { generation, seq, chunkIndex, last: lastFlag === 1, changes };
}
