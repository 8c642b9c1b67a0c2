import { encodeDescribed, encodeList, encodeString, encodeSymbol } from './types.js';

/** Protocol ids of the 8-byte protocol header "AMQP" id major minor revision (spec 2.2, 5.3.1). */
export const PROTOCOL_AMQP = 0;
export const PROTOCOL_TLS = 2;
export const PROTOCOL_SASL = 3;

/** Frame types (spec 2.3.1, 5.3.2). */
export const FRAME_AMQP = 0;
export const FRAME_SASL = 1;

/** Performative descriptor codes the gateway looks at (spec 2.7). */
export const Performative = {
  OPEN: 0x10,
  BEGIN: 0x11,
  ATTACH: 0x12,
  FLOW: 0x13,
  TRANSFER: 0x14,
  DISPOSITION: 0x15,
  DETACH: 0x16,
  END: 0x17,
  CLOSE: 0x18,
} as const;

/** Descriptor of the error composite (spec 2.8.14). */
const ERROR_DESCRIPTOR = 0x1d;

/** Smallest max-frame-size a peer may announce (spec 2.7.1 MIN-MAX-FRAME-SIZE). */
export const MIN_MAX_FRAME_SIZE = 512;

/** The 8-byte protocol header for AMQP 1.0.0 with the given protocol id. */
export function protocolHeader(id: number): Buffer {
  return Buffer.from([0x41, 0x4d, 0x51, 0x50, id, 1, 0, 0]);
}

/** The protocol id of a valid AMQP 1.0.0 header, or undefined for anything else. */
export function parseProtocolHeader(b: Buffer, pos = 0): number | undefined {
  if (b.length < pos + 8) return undefined;
  if (b[pos] !== 0x41 || b[pos + 1] !== 0x4d || b[pos + 2] !== 0x51 || b[pos + 3] !== 0x50) return undefined;
  if (b[pos + 5] !== 1 || b[pos + 6] !== 0 || b[pos + 7] !== 0) return undefined;
  const id = b[pos + 4]!;
  return id === PROTOCOL_AMQP || id === PROTOCOL_SASL ? id : undefined;
}

/** A whole frame: 8-byte header (doff 2) and the body. */
export function frame(type: number, channel: number, body: Buffer): Buffer {
  const f = Buffer.allocUnsafe(8 + body.length);
  f.writeUInt32BE(f.length, 0);
  f[4] = 2;
  f[5] = type;
  f.writeUInt16BE(channel, 6);
  body.copy(f, 8);
  return f;
}

/** An open frame with only the container id (sent when a connection must be closed before it opened). */
export function openFrame(containerId: string): Buffer {
  return frame(FRAME_AMQP, 0, encodeDescribed(Performative.OPEN, encodeList([encodeString(containerId)])));
}

/** A close frame carrying an error condition and description (spec 2.7.9). */
export function closeFrame(condition: string, description: string): Buffer {
  const error = encodeDescribed(ERROR_DESCRIPTOR, encodeList([encodeSymbol(condition), encodeString(description)]));
  return frame(FRAME_AMQP, 0, encodeDescribed(Performative.CLOSE, encodeList([error])));
}
