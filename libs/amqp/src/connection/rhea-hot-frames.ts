import { createRequire } from 'node:module';
import { type DispositionOut, type FlowOut, type TransferOut, decodeHotFrame, encodeDisposition, encodeFlow, encodeTransfer } from '../codec/hot-frames.js';
import { leanIncomingOn } from './rhea-incoming.js';

const require = createRequire(import.meta.url);

interface RheaFrame {
  channel: number;
  type: number;
  performative?: unknown;
  payload?: Buffer;
}

/** rhea's frames module: its transport and sessions look these up on the module at every call. */
interface RheaFrames {
  read_frame(buffer: Buffer): unknown;
  write_frame(frame: RheaFrame): Buffer;
  transfer(fields: TransferOut): unknown;
  disposition(fields: DispositionOut): unknown;
  flow(fields: FlowOut): unknown;
}

interface RheaReader {
  read(): unknown;
}

const frames = require('rhea/lib/frames.js') as RheaFrames;
const types = require('rhea/lib/types.js') as { Reader: new (b: Buffer) => RheaReader };

/** A performative rhea's session built while the hot codec was on: its fields, encoded at write time. */
class HotOut {
  constructor(
    readonly kind: 'transfer' | 'disposition' | 'flow',
    readonly fields: TransferOut | DispositionOut | FlowOut,
  ) {}
}

let depth = 0;
let installed = false;

/** rhea's disposition state, decoded by rhea itself (it keeps states as its typed values). */
const decodeState = (bytes: Buffer): unknown => new types.Reader(bytes).read();

function install(): void {
  installed = true;
  leanIncomingOn(() => depth > 0);
  const original = {
    read_frame: frames.read_frame,
    write_frame: frames.write_frame,
    transfer: frames.transfer,
    disposition: frames.disposition,
    flow: frames.flow,
  };
  frames.read_frame = (buffer: Buffer) => (depth > 0 ? decodeHotFrame(buffer, decodeState) : null) ?? original.read_frame(buffer);
  frames.transfer = (f) => (depth > 0 ? new HotOut('transfer', f) : original.transfer(f));
  frames.disposition = (f) => (depth > 0 ? new HotOut('disposition', f) : original.disposition(f));
  frames.flow = (f) => (depth > 0 ? new HotOut('flow', f) : original.flow(f));
  // Always on: a frame built under the hot codec is encoded here whenever rhea writes it.
  frames.write_frame = (frame: RheaFrame) => {
    const p = frame.performative;
    if (!(p instanceof HotOut)) return original.write_frame(frame);
    const encoded =
      p.kind === 'transfer'
        ? encodeTransfer(frame.channel, p.fields as TransferOut, frame.payload)
        : p.kind === 'disposition'
          ? encodeDisposition(frame.channel, p.fields as DispositionOut)
          : encodeFlow(frame.channel, p.fields as FlowOut);
    if (encoded) return encoded;
    // Outside what the hot encoder writes: rhea builds and encodes it as it always did.
    const performative = original[p.kind](p.fields as never);
    return original.write_frame({ channel: frame.channel, type: frame.type, performative, payload: frame.payload });
  };
}

/**
 * Turns the hot codec on until the matching hotFramesOff: transfer, disposition and flow frames
 * that rhea reads or builds meanwhile go through codec/hot-frames.ts instead of rhea's generic
 * codec (other frames, and anything outside what that codec covers, still through rhea's), and
 * incoming transfers through rhea-incoming.ts. Used around everything a server connection reads
 * and processes, so rhea client connections in the same process keep rhea's codec.
 */
export function hotFramesOn(): void {
  if (!installed) install();
  depth++;
}

/** Ends the matching hotFramesOn. */
export function hotFramesOff(): void {
  depth--;
}

/** Makes a server connection's frame processing (rhea's deferred `_process`) run under the hot codec. */
export function serveWithHotFrames(conn: object): void {
  const c = conn as { _process: () => void };
  const process = c._process;
  c._process = function (this: unknown) {
    hotFramesOn();
    try {
      process.call(this);
    } finally {
      hotFramesOff();
    }
  };
}
