/**
 * The HA protocol's frames (docs/ha-design.md, decision 2), big-endian, fixed directions:
 * replica → master: one HANDSHAKE, then ACKs; master → replica: one ANSWER, then DATA frames
 * (size 0 = heartbeat). Offsets are u64 on the wire and safe integers here.
 */

export const HA_MAGIC = 0x41504841; // 'APHA'
export const HA_VERSION = 1;
/** magic(4) version(2) replicaId(8) maxOffset(8) epochCount(4), then epochCount × (epoch(4) startOffset(8)). */
export const HANDSHAKE_BYTES = 26;
export const ANSWER_BYTES = 12;
export const DATA_HEADER_BYTES = 24;
export const ACK_BYTES = 16;
/** Epoch entries a handshake may carry. */
export const MAX_EPOCH_ENTRIES = 4096;
/** Largest DATA body accepted (a record is at most a segment; chunks are far smaller). */
export const MAX_DATA_BYTES = 64 * 1024 * 1024;

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

export function encodeDataHeader(h: DataHeader): Buffer {
  const buf = Buffer.alloc(DATA_HEADER_BYTES);
  writeU64(buf, h.offset, 0);
  buf.writeUInt32BE(h.epoch, 8);
  writeU64(buf, h.confirmOffset, 12);
  buf.writeUInt32BE(h.size, 20);
  return buf;
}

export function decodeDataHeader(buf: Buffer, at = 0): DataHeader {
  const size = buf.readUInt32BE(at + 20);
  if (size > MAX_DATA_BYTES) throw new HaProtocolError(`data frame of ${size} bytes (at most ${MAX_DATA_BYTES})`);
  return { offset: readU64(buf, at, 'data offset'), epoch: buf.readUInt32BE(at + 8), confirmOffset: readU64(buf, at + 12, 'confirm offset'), size };
}

export function encodeAck(a: Ack): Buffer {
  const buf = Buffer.alloc(ACK_BYTES);
  writeU64(buf, a.maxOffset, 0);
  writeU64(buf, a.flushedOffset, 8);
  return buf;
}

export function decodeAck(buf: Buffer, at = 0): Ack {
  return { maxOffset: readU64(buf, at, 'acked offset'), flushedOffset: readU64(buf, at + 8, 'flushed offset') };
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
