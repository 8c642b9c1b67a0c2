/**
 * The HA protocol's frames (docs/ha-design.md, decision 2), big-endian, fixed directions:
 * replica → master: one HANDSHAKE, then ACKs; master → replica: one ANSWER, then frames that each
 * start with their kind (1 byte): DATA (size 0 = heartbeat), META_CHANGES and META_SNAPSHOT (the
 * store's metadata feed, decision 4). Offsets are u64 on the wire and safe integers here.
 *
 * Version 2 added the kind byte, the meta frames and the meta position in the ack; a version 1
 * peer's handshake is refused (and a version 1 master refuses ours), so the two never mix frames.
 */

export const HA_MAGIC = 0x41504841; // 'APHA'
export const HA_VERSION = 2;
/** magic(4) version(2) replicaId(8) maxOffset(8) epochCount(4), then epochCount × (epoch(4) startOffset(8)). */
export const HANDSHAKE_BYTES = 26;
export const ANSWER_BYTES = 12;
/** Kinds of the master's frames after the answer (their first byte). */
export const FRAME_DATA = 1;
export const FRAME_META_CHANGES = 2;
export const FRAME_META_SNAPSHOT = 3;
/** kind(1) offset(8) epoch(4) confirmOffset(8) size(4), then size bytes of the commit log. */
export const DATA_HEADER_BYTES = 25;
/** kind(1) epoch(4) logOffset(8) size(4), then a readMetaChanges batch. */
export const META_CHANGES_HEADER_BYTES = 17;
/** kind(1) epoch(4) logOffset(8) generation(16) seq(8) chunkIndex(4) flags(1) size(4), then one readMetaSnapshot chunk. */
export const META_SNAPSHOT_HEADER_BYTES = 46;
/** maxOffset(8) flushedOffset(8) metaGeneration(16) metaSeq(8); a zero generation = no meta position yet. */
export const ACK_BYTES = 40;
/** Epoch entries a handshake may carry. */
export const MAX_EPOCH_ENTRIES = 4096;
/** Largest DATA body accepted (a record is at most a segment; chunks are far smaller). */
export const MAX_DATA_BYTES = 64 * 1024 * 1024;
/**
 * Largest meta frame body accepted: the store's own bound of an encoded batch or snapshot chunk
 * (8 MiB: one change may carry a 4 MiB meta value). The master asks for far less per frame.
 */
export const MAX_META_BYTES = 8 * 1024 * 1024;
/** META_SNAPSHOT flag: the snapshot's last chunk (the replica applies the whole snapshot then). */
const SNAPSHOT_LAST = 1;
const GENERATION_HEX = /^[0-9a-f]{32}$/;

/** An entry of a log's epoch history: its records from `startOffset` on were written in `epoch`. */
export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: number;
}

export interface Handshake {
  replicaId: number;
  maxOffset: number;
  /** The replica's epoch history, oldest first (MessageStore.epochs). */
  epochs: EpochEntry[];
}

export interface Answer {
  /** Where the replica's log must end before the stream starts (its own end when nothing diverged). */
  truncateTo: number;
  masterEpoch: number;
}

export interface DataHeader {
  offset: number;
  epoch: number;
  /** The master's confirmed end when it sent the frame (for the replica's lag). */
  confirmOffset: number;
  size: number;
}

export interface Ack {
  maxOffset: number;
  flushedOffset: number;
  /** Where the replica's metadata is in its master's feed (what it last applied on this connection); null before its first snapshot. */
  meta?: MetaPosition | null;
}

/** A position in a store's metadata feed (the store's MetaFeedPosition). */
export interface MetaPosition {
  /** 32 hex digits. */
  generation: string;
  seq: number;
}

/** A META_CHANGES frame's header: a readMetaChanges batch follows. */
export interface MetaChangesHeader {
  /** The master's current epoch when it sent the frame. */
  epoch: number;
  /**
   * The master's confirmed commit-log end when the batch was read: everything the batch refers to
   * (a retained message's offset, a consumer offset) is below it, and the replica holds it already.
   */
  logOffset: number;
  size: number;
}

/** A META_SNAPSHOT frame's header: one chunk of a readMetaSnapshot follows. */
export interface MetaSnapshotHeader extends MetaChangesHeader {
  /** The feed position the snapshot is the state at (the same in every chunk of one snapshot). */
  generation: string;
  seq: number;
  /** 0, 1, … in order. */
  chunkIndex: number;
  /** The snapshot's last chunk: the replica applies it whole now. */
  last: boolean;
}

/** A frame that breaks the protocol: the connection is closed. */
export class HaProtocolError extends Error {
  override readonly name = 'HaProtocolError';
}

function writeU64(buf: Buffer, n: number, at: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a u64 offset: ${n}`);
  buf.writeUInt32BE(Math.floor(n / 0x1_0000_0000), at);
  buf.writeUInt32BE(n >>> 0, at + 4);
}

function readU64(buf: Buffer, at: number, what: string): number {
  const n = buf.readUInt32BE(at) * 0x1_0000_0000 + buf.readUInt32BE(at + 4);
  if (!Number.isSafeInteger(n)) throw new HaProtocolError(`${what} ${n} is past 2^53`);
  return n;
}

export function encodeHandshake(h: Handshake): Buffer {
  const buf = Buffer.alloc(HANDSHAKE_BYTES + h.epochs.length * 12);
  buf.writeUInt32BE(HA_MAGIC, 0);
  buf.writeUInt16BE(HA_VERSION, 4);
  writeU64(buf, h.replicaId, 6);
  writeU64(buf, h.maxOffset, 14);
  buf.writeUInt32BE(h.epochs.length, 22);
  h.epochs.forEach((e, i) => {
    buf.writeUInt32BE(e.epoch, HANDSHAKE_BYTES + i * 12);
    writeU64(buf, e.startOffset, HANDSHAKE_BYTES + i * 12 + 4);
  });
  return buf;
}

/** The handshake at the start of `buf`, with its length; null while more bytes are needed. */
export function decodeHandshake(buf: Buffer): { handshake: Handshake; bytes: number } | null {
  if (buf.length < HANDSHAKE_BYTES) return null;
  if (buf.readUInt32BE(0) !== HA_MAGIC) throw new HaProtocolError('not an Apogee HA handshake (bad magic)');
  const version = buf.readUInt16BE(4);
  if (version !== HA_VERSION) throw new HaProtocolError(`HA protocol version ${version} is not supported (this broker speaks ${HA_VERSION})`);
  const count = buf.readUInt32BE(22);
  if (count > MAX_EPOCH_ENTRIES) throw new HaProtocolError(`handshake with ${count} epoch entries (at most ${MAX_EPOCH_ENTRIES})`);
  const bytes = HANDSHAKE_BYTES + count * 12;
  if (buf.length < bytes) return null;
  const epochs: Handshake['epochs'] = [];
  for (let i = 0; i < count; i++)
    epochs.push({ epoch: buf.readUInt32BE(HANDSHAKE_BYTES + i * 12), startOffset: readU64(buf, HANDSHAKE_BYTES + i * 12 + 4, 'epoch start') });
  return { handshake: { replicaId: readU64(buf, 6, 'replica id'), maxOffset: readU64(buf, 14, 'replica offset'), epochs }, bytes };
}

export function encodeAnswer(a: Answer): Buffer {
  const buf = Buffer.alloc(ANSWER_BYTES);
  writeU64(buf, a.truncateTo, 0);
  buf.writeUInt32BE(a.masterEpoch, 8);
  return buf;
}

export function decodeAnswer(buf: Buffer): Answer {
  return { truncateTo: readU64(buf, 0, 'truncation offset'), masterEpoch: buf.readUInt32BE(8) };
}

/** The DATA frame's header, its kind byte first. */
export function encodeDataHeader(h: DataHeader): Buffer {
  const buf = Buffer.alloc(DATA_HEADER_BYTES);
  buf.writeUInt8(FRAME_DATA, 0);
  writeU64(buf, h.offset, 1);
  buf.writeUInt32BE(h.epoch, 9);
  writeU64(buf, h.confirmOffset, 13);
  buf.writeUInt32BE(h.size, 21);
  return buf;
}

export function decodeDataHeader(buf: Buffer, at = 0): DataHeader {
  expectKind(buf, at, FRAME_DATA);
  const size = buf.readUInt32BE(at + 21);
  if (size > MAX_DATA_BYTES) throw new HaProtocolError(`data frame of ${size} bytes (at most ${MAX_DATA_BYTES})`);
  return { offset: readU64(buf, at + 1, 'data offset'), epoch: buf.readUInt32BE(at + 9), confirmOffset: readU64(buf, at + 13, 'confirm offset'), size };
}

/** The header length of a master frame of `kind` (its first byte); throws for a kind this version does not know. */
export function frameHeaderBytes(kind: number): number {
  switch (kind) {
    case FRAME_DATA:
      return DATA_HEADER_BYTES;
    case FRAME_META_CHANGES:
      return META_CHANGES_HEADER_BYTES;
    case FRAME_META_SNAPSHOT:
      return META_SNAPSHOT_HEADER_BYTES;
    default:
      throw new HaProtocolError(`a frame of unknown kind ${kind} (HA protocol version ${HA_VERSION} knows ${FRAME_DATA}..${FRAME_META_SNAPSHOT})`);
  }
}

function expectKind(buf: Buffer, at: number, kind: number): void {
  const k = buf.readUInt8(at);
  if (k !== kind) throw new HaProtocolError(`a frame of kind ${k} where kind ${kind} was expected`);
}

function checkMetaSize(size: number, what: string): void {
  if (size === 0 || size > MAX_META_BYTES) throw new HaProtocolError(`${what} frame of ${size} bytes (1..${MAX_META_BYTES})`);
}

export function encodeMetaChangesHeader(h: MetaChangesHeader): Buffer {
  const buf = Buffer.alloc(META_CHANGES_HEADER_BYTES);
  buf.writeUInt8(FRAME_META_CHANGES, 0);
  buf.writeUInt32BE(h.epoch, 1);
  writeU64(buf, h.logOffset, 5);
  buf.writeUInt32BE(h.size, 13);
  return buf;
}

export function decodeMetaChangesHeader(buf: Buffer, at = 0): MetaChangesHeader {
  expectKind(buf, at, FRAME_META_CHANGES);
  const size = buf.readUInt32BE(at + 13);
  checkMetaSize(size, 'meta changes');
  return { epoch: buf.readUInt32BE(at + 1), logOffset: readU64(buf, at + 5, 'meta log offset'), size };
}

export function encodeMetaSnapshotHeader(h: MetaSnapshotHeader): Buffer {
  if (!GENERATION_HEX.test(h.generation)) throw new RangeError(`not a feed generation: ${h.generation}`);
  const buf = Buffer.alloc(META_SNAPSHOT_HEADER_BYTES);
  buf.writeUInt8(FRAME_META_SNAPSHOT, 0);
  buf.writeUInt32BE(h.epoch, 1);
  writeU64(buf, h.logOffset, 5);
  buf.write(h.generation, 13, 16, 'hex');
  writeU64(buf, h.seq, 29);
  buf.writeUInt32BE(h.chunkIndex, 37);
  buf.writeUInt8(h.last ? SNAPSHOT_LAST : 0, 41);
  buf.writeUInt32BE(h.size, 42);
  return buf;
}

export function decodeMetaSnapshotHeader(buf: Buffer, at = 0): MetaSnapshotHeader {
  expectKind(buf, at, FRAME_META_SNAPSHOT);
  const size = buf.readUInt32BE(at + 42);
  checkMetaSize(size, 'meta snapshot');
  const flags = buf.readUInt8(at + 41);
  if ((flags & ~SNAPSHOT_LAST) !== 0) throw new HaProtocolError(`meta snapshot frame with unknown flags ${flags}`);
  return {
    epoch: buf.readUInt32BE(at + 1),
    logOffset: readU64(buf, at + 5, 'meta log offset'),
    generation: buf.toString('hex', at + 13, at + 29),
    seq: readU64(buf, at + 29, 'meta snapshot seq'),
    chunkIndex: buf.readUInt32BE(at + 37),
    last: flags === SNAPSHOT_LAST,
    size,
  };
}

export function encodeAck(a: Ack): Buffer {
  const buf = Buffer.alloc(ACK_BYTES);
  writeU64(buf, a.maxOffset, 0);
  writeU64(buf, a.flushedOffset, 8);
  if (a.meta) {
    if (!GENERATION_HEX.test(a.meta.generation)) throw new RangeError(`not a feed generation: ${a.meta.generation}`);
    buf.write(a.meta.generation, 16, 16, 'hex');
    writeU64(buf, a.meta.seq, 32);
  }
  return buf;
}

const ZERO_GENERATION = '0'.repeat(32);

export function decodeAck(buf: Buffer, at = 0): Ack {
  const generation = buf.toString('hex', at + 16, at + 32);
  const seq = readU64(buf, at + 32, 'acked meta seq');
  if (generation === ZERO_GENERATION && seq !== 0) throw new HaProtocolError(`an ack of meta seq ${seq} without a generation`);
  return {
    maxOffset: readU64(buf, at, 'acked offset'),
    flushedOffset: readU64(buf, at + 8, 'flushed offset'),
    meta: generation === ZERO_GENERATION ? null : { generation, seq },
  };
}

/** Collects socket chunks and hands out exactly `n` bytes at a time (no copy when one chunk holds them). */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  get available(): number {
    return this.length;
  }

  /** The first `n` bytes without taking them, or null while fewer are here. */
  peek(n: number): Buffer | null {
    if (this.length < n) return null;
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  take(n: number): Buffer | null {
    const b = this.peek(n);
    if (b === null) return null;
    const first = this.chunks[0]!;
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.length -= n;
    return b;
  }
}

// ---------------------------------------------------------------- epochs (docs/ha-design.md, decision 2)

/** The epoch of the record at `offset`: that of the newest entry starting at or below it, 0 below the first. */
export function epochAt(epochs: ReadonlyArray<EpochEntry>, offset: number): number {
  for (let i = epochs.length - 1; i >= 0; i--) if (epochs[i]!.startOffset <= offset) return epochs[i]!.epoch;
  return 0;
}

/** Where the epoch holding `offset` ends: the first entry start above `offset` (Infinity in the newest epoch). */
export function epochEndAfter(epochs: ReadonlyArray<EpochEntry>, offset: number): number {
  for (const e of epochs) if (e.startOffset > offset) return e.startOffset;
  return Number.POSITIVE_INFINITY;
}

/** A log as the handshake compares it: its epoch history and its end. */
export interface LogEpochs {
  epochs: ReadonlyArray<EpochEntry>;
  end: number;
}

/**
 * Where a replica's log must end so that it is a prefix of its master's (Kafka's leader-epoch
 * rule): the end of the newest epoch both histories hold — for the replica's newest epoch the
 * master also has, the lower of its end on the master (the start of the master's next epoch, or
 * the master's end if it is the master's current one) and its end on the replica. Records older
 * than a history's first entry are of epoch 0, which both hold (on a log whose history starts at
 * offset 0, an empty one): so nothing shared gives 0. A string is a refusal: the replica has seen
 * an epoch newer than the master's current one (the master is deposed), or its history is not
 * one.
 */
export function truncationPoint(master: LogEpochs, replica: LogEpochs): number | string {
  const bad = checkHistory(replica.epochs, replica.end);
  if (bad) return `the replica's epoch history is not valid: ${bad}`;
  const masterEpoch = master.epochs.at(-1)?.epoch ?? 0;
  const replicaEpoch = replica.epochs.at(-1)?.epoch ?? 0;
  if (replicaEpoch > masterEpoch) return `the replica has seen epoch ${replicaEpoch}, newer than this master's epoch ${masterEpoch}: this master is deposed`;
  const m = withEpochZero(master.epochs);
  const r = withEpochZero(replica.epochs);
  const onMaster = new Map(m.map((e, j) => [e.epoch, j]));
  for (let i = r.length - 1; i >= 0; i--) {
    const j = onMaster.get(r[i]!.epoch);
    if (j === undefined) continue;
    const endOnReplica = i + 1 < r.length ? r[i + 1]!.startOffset : replica.end;
    const endOnMaster = j + 1 < m.length ? m[j + 1]!.startOffset : master.end;
    return Math.min(endOnReplica, endOnMaster, replica.end);
  }
  return 0; // not reached: both hold epoch 0
}

function withEpochZero(epochs: ReadonlyArray<EpochEntry>): ReadonlyArray<EpochEntry> {
  return epochs[0]?.epoch === 0 ? epochs : [{ epoch: 0, startOffset: 0 }, ...epochs];
}

/** Why `epochs` is no epoch history of a log ending at `end`, or null. */
function checkHistory(epochs: ReadonlyArray<EpochEntry>, end: number): string | null {
  let prev: EpochEntry | undefined;
  for (const e of epochs) {
    if (prev && e.epoch <= prev.epoch) return `epoch ${e.epoch} follows epoch ${prev.epoch}`;
    if (prev && e.startOffset < prev.startOffset) return `epoch ${e.epoch} starts at ${e.startOffset}, below epoch ${prev.epoch}'s start ${prev.startOffset}`;
    if (e.startOffset > end) return `epoch ${e.epoch} starts at ${e.startOffset}, past the log's end ${end}`;
    prev = e;
  }
  return null;
}
