/*
 * The three frames of the message path — transfer, disposition and flow — decoded and encoded by
 * hand. rhea's generic codec builds a typed wrapper object for every field of every frame (about
 * half of what the gateway allocated per message, and so most of its young-generation GC pauses);
 * these functions read and write the same fields straight from and into one buffer.
 *
 * They cover the encodings peers use for these frames. Anything else — a symbolic descriptor, a
 * field in an unusual encoding, a transfer carrying a delivery state, a rejected or modified
 * outcome, flow properties — makes them return null, and the caller falls back to rhea's own codec,
 * which then decides (and reports errors) exactly as before. No I/O; no state.
 */
import { Performative } from './frames.js';
import { Code, skipValue } from './types.js';

/** A decoded frame in the shape rhea's read_frame returns (rhea's handlers read these properties). */
export interface HotFrame {
  size: number;
  type: number;
  channel: number;
  performative: HotPerformative;
  payload: Buffer | undefined;
}

/** What rhea's transport calls on a decoded performative: `target['on_' + name](frame)`. */
interface Dispatcher {
  on_transfer(frame: HotFrame): void;
  on_disposition(frame: HotFrame): void;
  on_flow(frame: HotFrame): void;
}

export type HotPerformative = TransferFields | DispositionFields | FlowFields;

/**
 * Field values as rhea's performative getters give them: absent → undefined, encoded null →
 * null, uint → number, boolean → true/false (the one-byte boolean encoding → its byte, as rhea
 * reads it), binary → a view of the frame's bytes.
 */
type Uint = number | null | undefined;
type Bool = boolean | number | null | undefined;

export class TransferFields {
  handle: Uint = undefined;
  delivery_id: Uint = undefined;
  delivery_tag: Buffer | null | undefined = undefined;
  message_format: Uint = undefined;
  settled: Bool = undefined;
  more: Bool = undefined;
  rcv_settle_mode: Uint = undefined;
  /** Always undefined: a transfer with a delivery state goes to rhea's codec. */
  state: undefined = undefined;
  resume: Bool = undefined;
  aborted: Bool = undefined;
  batchable: Bool = undefined;
  dispatch(target: Dispatcher, frame: HotFrame): void {
    target.on_transfer(frame);
  }
}

export class DispositionFields {
  role: Bool = undefined;
  first: Uint = undefined;
  last: Uint = undefined;
  settled: Bool = undefined;
  /** The state exactly as rhea decodes it (rhea keeps it as a typed value), via `decodeState`. */
  state: unknown = undefined;
  batchable: Bool = undefined;
  dispatch(target: Dispatcher, frame: HotFrame): void {
    target.on_disposition(frame);
  }
}

export class FlowFields {
  next_incoming_id: Uint = undefined;
  incoming_window: Uint = undefined;
  next_outgoing_id: Uint = undefined;
  outgoing_window: Uint = undefined;
  handle: Uint = undefined;
  delivery_count: Uint = undefined;
  link_credit: Uint = undefined;
  available: Uint = undefined;
  drain: Bool = undefined;
  echo: Bool = undefined;
  /** Always undefined: a flow with properties goes to rhea's codec. */
  properties: undefined = undefined;
  dispatch(target: Dispatcher, frame: HotFrame): void {
    target.on_flow(frame);
  }
}

/** Thrown inside the decoder for "not one of ours": the caller falls back. Never escapes. */
const FALLBACK = Symbol('fallback');

const EMPTY = Buffer.alloc(0);

/** Read position inside the frame being decoded (the decoder is synchronous and not re-entrant). */
let buf: Buffer = EMPTY;
let pos = 0;
let end = 0;

function byte(): number {
  if (pos >= end) throw FALLBACK;
  return buf[pos++]!;
}

function readUint(): Uint {
  const code = byte();
  switch (code) {
    case Code.NULL:
      return null;
    case Code.UINT0:
      return 0;
    case Code.SMALLUINT:
      return byte();
    case Code.UINT: {
      if (pos + 4 > end) throw FALLBACK;
      const v = buf.readUInt32BE(pos);
      pos += 4;
      return v;
    }
    default:
      throw FALLBACK;
  }
}

function readUbyte(): Uint {
  const code = byte();
  if (code === Code.NULL) return null;
  if (code === Code.UBYTE) return byte();
  throw FALLBACK;
}

function readBool(): Bool {
  const code = byte();
  switch (code) {
    case Code.NULL:
      return null;
    case Code.TRUE:
      return true;
    case Code.FALSE:
      return false;
    case Code.BOOLEAN:
      return byte();
    default:
      throw FALLBACK;
  }
}

function readBinary(): Buffer | null {
  const code = byte();
  let n: number;
  if (code === Code.NULL) return null;
  if (code === Code.VBIN8) n = byte();
  else if (code === Code.VBIN32) {
    if (pos + 4 > end) throw FALLBACK;
    n = buf.readUInt32BE(pos);
    pos += 4;
  } else throw FALLBACK;
  if (pos + n > end) throw FALLBACK;
  const v = buf.subarray(pos, pos + n);
  pos += n;
  return v;
}

/** Reads a list header; returns the element count and sets `end` to the list's end. */
function listHeader(): number {
  const code = byte();
  if (code === Code.LIST0) {
    end = pos;
    return 0;
  }
  let size: number;
  let count: number;
  if (code === Code.LIST8) {
    size = byte();
    const start = pos;
    count = byte();
    if (start + size > end || count > size) throw FALLBACK;
    end = start + size;
  } else if (code === Code.LIST32) {
    if (pos + 8 > end) throw FALLBACK;
    size = buf.readUInt32BE(pos);
    count = buf.readUInt32BE(pos + 4);
    if (pos + 4 + size > end || count > size) throw FALLBACK;
    end = pos + 4 + size;
    pos += 8;
  } else throw FALLBACK;
  return count;
}

/**
 * Decodes `frame` (exactly one whole frame, as rhea's transport hands it) when it is an AMQP
 * transfer, disposition or flow in the encodings this codec covers; null otherwise.
 * `decodeState` turns a disposition's state bytes into the value rhea would hold (rhea's reader).
 */
export function decodeHotFrame(frame: Buffer, decodeState: (bytes: Buffer) => unknown): HotFrame | null {
  if (frame.length < 11) return null;
  const size = frame.readUInt32BE(0);
  const doff = frame[4]!;
  if (size !== frame.length || doff < 2 || frame[5] !== 0 || doff * 4 + 3 > size) return null;
  const body = doff * 4;
  if (frame[body] !== Code.DESCRIBED || frame[body + 1] !== Code.SMALLULONG) return null;
  const code = frame[body + 2]!;
  if (code !== Performative.TRANSFER && code !== Performative.DISPOSITION && code !== Performative.FLOW) return null;
  buf = frame;
  pos = body + 3;
  end = frame.length;
  try {
    const count = listHeader();
    const listEnd = end;
    let performative: HotPerformative;
    if (code === Performative.TRANSFER) performative = transferFields(count);
    else if (code === Performative.DISPOSITION) performative = dispositionFields(count, listEnd, decodeState);
    else performative = flowFields(count);
    const payload = listEnd < frame.length ? frame.subarray(listEnd) : undefined;
    return { size, type: 0, channel: frame.readUInt16BE(6), performative, payload };
  } catch (err) {
    if (err === FALLBACK) return null;
    throw err;
  } finally {
    buf = EMPTY;
  }
}

function transferFields(count: number): TransferFields {
  const t = new TransferFields();
  if (count > 0) t.handle = readUint();
  if (count > 1) t.delivery_id = readUint();
  if (count > 2) t.delivery_tag = readBinary();
  if (count > 3) t.message_format = readUint();
  if (count > 4) t.settled = readBool();
  if (count > 5) t.more = readBool();
  if (count > 6) t.rcv_settle_mode = readUbyte();
  if (count > 7 && byte() !== Code.NULL) throw FALLBACK; // a delivery state: rhea's codec
  if (count > 8) t.resume = readBool();
  if (count > 9) t.aborted = readBool();
  if (count > 10) t.batchable = readBool();
  return t;
}

function dispositionFields(count: number, listEnd: number, decodeState: (bytes: Buffer) => unknown): DispositionFields {
  const d = new DispositionFields();
  if (count > 0) d.role = readBool();
  if (count > 1) d.first = readUint();
  if (count > 2) d.last = readUint();
  if (count > 3) d.settled = readBool();
  if (count > 4) {
    // rhea keeps an encoded null state as a typed value, not null: leave that oddity to rhea.
    if (pos >= end || buf[pos] === Code.NULL) throw FALLBACK;
    let stateEnd: number;
    try {
      stateEnd = skipValue(buf, pos, listEnd);
    } catch {
      throw FALLBACK;
    }
    d.state = decodeState(buf.subarray(pos, stateEnd));
    pos = stateEnd;
  }
  if (count > 5) d.batchable = readBool();
  return d;
}

function flowFields(count: number): FlowFields {
  const f = new FlowFields();
  if (count > 0) f.next_incoming_id = readUint();
  if (count > 1) f.incoming_window = readUint();
  if (count > 2) f.next_outgoing_id = readUint();
  if (count > 3) f.outgoing_window = readUint();
  if (count > 4) f.handle = readUint();
  if (count > 5) f.delivery_count = readUint();
  if (count > 6) f.link_credit = readUint();
  if (count > 7) f.available = readUint();
  if (count > 8) f.drain = readBool();
  if (count > 9) f.echo = readBool();
  if (count > 10 && byte() !== Code.NULL) throw FALLBACK; // properties: rhea's codec
  return f;
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Fields rhea's session passes to `frames.transfer` when it sends a delivery. */
export interface TransferOut {
  handle: unknown;
  delivery_id: unknown;
  delivery_tag: unknown;
  message_format: unknown;
  settled: unknown;
  more: unknown;
}

/** Fields rhea's session passes to `frames.disposition`. */
export interface DispositionOut {
  role: unknown;
  first: unknown;
  last: unknown;
  settled: unknown;
  state: unknown;
}

/** Fields rhea's session passes to `frames.flow`. */
export interface FlowOut {
  next_incoming_id: unknown;
  incoming_window: unknown;
  next_outgoing_id: unknown;
  outgoing_window: unknown;
  handle?: unknown;
  delivery_count?: unknown;
  link_credit?: unknown;
  drain?: unknown;
  available?: unknown;
  echo?: unknown;
  properties?: unknown;
}

const HEADER = 8;
/** 0x00 0x53 code, then a list8 or list32 header. */
const PERFORMATIVE_HEAD = 3;

function isUint(v: unknown): v is number {
  return typeof v === 'number' && v >= 0 && v <= 0xffffffff && Number.isInteger(v);
}

function uintSize(v: number): number {
  return v === 0 ? 1 : v < 256 ? 2 : 5;
}

function putUint(out: Buffer, p: number, v: number): number {
  if (v === 0) {
    out[p] = Code.UINT0;
    return p + 1;
  }
  if (v < 256) {
    out[p] = Code.SMALLUINT;
    out[p + 1] = v;
    return p + 2;
  }
  out[p] = Code.UINT;
  out.writeUInt32BE(v, p + 1);
  return p + 5;
}

function putBool(out: Buffer, p: number, v: boolean): number {
  out[p] = v ? Code.TRUE : Code.FALSE;
  return p + 1;
}

/** Allocates the frame and writes its header, descriptor and list header; returns [frame, pos]. */
function startFrame(channel: number, code: number, fieldsSize: number, count: number, payloadSize: number): [Buffer, number] {
  const list8 = fieldsSize + 1 <= 255;
  const listHead = list8 ? 3 : 9;
  const size = HEADER + PERFORMATIVE_HEAD + listHead + fieldsSize + payloadSize;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32BE(size, 0);
  out[4] = 2;
  out[5] = 0;
  out.writeUInt16BE(channel, 6);
  out[8] = Code.DESCRIBED;
  out[9] = Code.SMALLULONG;
  out[10] = code;
  if (list8) {
    out[11] = Code.LIST8;
    out[12] = fieldsSize + 1;
    out[13] = count;
    return [out, 14];
  }
  out[11] = Code.LIST32;
  out.writeUInt32BE(fieldsSize + 4, 12);
  out.writeUInt32BE(count, 16);
  return [out, 20];
}

/** A transfer frame carrying `payload`, or null when a field is outside what this encoder writes. */
export function encodeTransfer(channel: number, f: TransferOut, payload: Buffer | undefined): Buffer | null {
  const { handle, delivery_id: id, delivery_tag: tag, message_format: format, settled, more } = f;
  if (!isUint(handle) || !isUint(id) || !Buffer.isBuffer(tag) || !isUint(format) || typeof settled !== 'boolean' || typeof more !== 'boolean') return null;
  const tagSize = tag.length < 256 ? 2 + tag.length : 5 + tag.length;
  const fieldsSize = uintSize(handle) + uintSize(id) + tagSize + uintSize(format) + 2;
  const payloadSize = payload ? payload.length : 0;
  const [out, start] = startFrame(channel, Performative.TRANSFER, fieldsSize, 6, payloadSize);
  let p = putUint(out, start, handle);
  p = putUint(out, p, id);
  if (tag.length < 256) {
    out[p] = Code.VBIN8;
    out[p + 1] = tag.length;
    p += 2;
  } else {
    out[p] = Code.VBIN32;
    out.writeUInt32BE(tag.length, p + 1);
    p += 5;
  }
  p += tag.copy(out, p);
  p = putUint(out, p, format);
  p = putBool(out, p, settled);
  p = putBool(out, p, more);
  if (payload) payload.copy(out, p);
  return out;
}

/** Outcomes with no fields, encoded whole (described code, empty list). */
const EMPTY_OUTCOMES = new Set([0x24 /* accepted */, 0x26 /* released */]);

/**
 * The outcome code of a state this encoder writes, else -1; 0 for none. Accepted and released
 * have no fields, and rhea builds them as a described list that is empty or holds only nulls
 * (its typed values: `{ value: null }`).
 */
function stateCode(state: unknown): number {
  if (state === undefined || state === null) return 0;
  const s = state as { descriptor?: { value?: unknown }; value?: unknown };
  const code = s.descriptor?.value;
  if (typeof code !== 'number' || !EMPTY_OUTCOMES.has(code) || !Array.isArray(s.value)) return -1;
  for (const v of s.value as unknown[]) if ((v as { value?: unknown } | null)?.value !== null) return -1;
  return code;
}

/** A disposition frame, or null when a field is outside what this encoder writes. */
export function encodeDisposition(channel: number, f: DispositionOut): Buffer | null {
  const { role, first, last, settled, state } = f;
  if (typeof role !== 'boolean' || !isUint(first) || (last !== undefined && last !== null && !isUint(last))) return null;
  if (settled !== undefined && typeof settled !== 'boolean') return null;
  const code = stateCode(state);
  if (code < 0) return null;
  const lastSize = isUint(last) ? uintSize(last) : 1;
  const fieldsSize = 1 + uintSize(first) + lastSize + 1 + (code === 0 ? 1 : 4);
  const [out, start] = startFrame(channel, Performative.DISPOSITION, fieldsSize, 5, 0);
  let p = putBool(out, start, role);
  p = putUint(out, p, first);
  if (isUint(last)) p = putUint(out, p, last);
  else out[p++] = Code.NULL;
  if (typeof settled === 'boolean') p = putBool(out, p, settled);
  else out[p++] = Code.NULL;
  if (code === 0) out[p] = Code.NULL;
  else {
    out[p] = Code.DESCRIBED;
    out[p + 1] = Code.SMALLULONG;
    out[p + 2] = code;
    out[p + 3] = Code.LIST0;
  }
  return out;
}

/** A flow frame (session flow, or link flow when `handle` is set), or null when outside what this encoder writes. */
export function encodeFlow(channel: number, f: FlowOut): Buffer | null {
  const { next_incoming_id: nii, incoming_window: iw, next_outgoing_id: noi, outgoing_window: ow, handle, delivery_count: dc, link_credit: lc, drain } = f;
  if (f.available !== undefined || f.echo !== undefined || f.properties !== undefined) return null;
  if (!isUint(nii) || !isUint(iw) || !isUint(noi) || !isUint(ow)) return null;
  const linkFlow = handle !== undefined;
  if (linkFlow && (!isUint(handle) || !isUint(dc) || !isUint(lc) || (drain !== undefined && typeof drain !== 'boolean'))) return null;
  if (!linkFlow && (dc !== undefined || lc !== undefined || drain !== undefined)) return null;
  let fieldsSize = uintSize(nii) + uintSize(iw) + uintSize(noi) + uintSize(ow);
  if (linkFlow) fieldsSize += uintSize(handle as number) + uintSize(dc as number) + uintSize(lc as number) + 2;
  const [out, start] = startFrame(channel, Performative.FLOW, fieldsSize, linkFlow ? 9 : 4, 0);
  let p = putUint(out, start, nii);
  p = putUint(out, p, iw);
  p = putUint(out, p, noi);
  p = putUint(out, p, ow);
  if (linkFlow) {
    p = putUint(out, p, handle as number);
    p = putUint(out, p, dc as number);
    p = putUint(out, p, lc as number);
    out[p++] = Code.NULL; // available
    putBool(out, p, drain === true);
  }
  return out;
}
