/*
 * Patch `hot-frames` of the inventory: transfer, disposition and flow frames that rhea reads or
 * builds inside the server scope of a connection that has it on go through codec/hot-frames.ts
 * instead of rhea's generic codec (other frames, and anything outside what that codec covers,
 * still through rhea's). rhea client connections in the same process keep rhea's codec.
 */
import { type DispositionOut, type FlowOut, type TransferOut, decodeHotFrame, encodeDisposition, encodeFlow, encodeTransfer } from '../codec/hot-frames.js';

interface RheaFrame {
  channel: number;
  type: number;
  performative?: unknown;
  payload?: Buffer;
}

/** rhea's frames module: its transport and sessions look these up on the module at every call. */
export interface RheaFrames {
  read_frame(buffer: Buffer): unknown;
  write_frame(frame: RheaFrame): Buffer;
  transfer(fields: TransferOut): unknown;
  disposition(fields: DispositionOut): unknown;
  flow(fields: FlowOut): unknown;
}

interface RheaReader {
  read(): unknown;
}

/** rhea's types module as far as this patch uses it (its reader decodes disposition states). */
export interface RheaReaderModule {
  Reader: new (b: Buffer) => RheaReader;
}

/** A performative rhea's session built while the hot codec was on: its fields, encoded at write time. */
class HotOut {
  constructor(
    readonly kind: 'transfer' | 'disposition' | 'flow',
    readonly fields: TransferOut | DispositionOut | FlowOut,
  ) {}
}

let installed = false;

/**
 * Replaces rhea's frame functions (idempotent): they take the hot path while `active()` holds and
 * call rhea's otherwise; a frame built on the hot path is encoded by the hot codec whenever rhea
 * writes it.
 */
export function installHotFrames(frames: RheaFrames, types: RheaReaderModule, active: () => boolean): void {
  if (installed) return;
  installed = true;
  /** rhea's disposition state, decoded by rhea itself (it keeps states as its typed values). */
  const decodeState = (bytes: Buffer): unknown => new types.Reader(bytes).read();
  const original = {
    read_frame: frames.read_frame,
    write_frame: frames.write_frame,
    transfer: frames.transfer,
    disposition: frames.disposition,
    flow: frames.flow,
  };
  frames.read_frame = (buffer: Buffer) => (active() ? decodeHotFrame(buffer, decodeState) : null) ?? original.read_frame(buffer);
  frames.transfer = (f) => (active() ? new HotOut('transfer', f) : original.transfer(f));
  frames.disposition = (f) => (active() ? new HotOut('disposition', f) : original.disposition(f));
  frames.flow = (f) => (active() ? new HotOut('flow', f) : original.flow(f));
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
