import net from 'node:net';
import { frame, protocolHeader, PROTOCOL_AMQP } from '../src/codec/frames.js';
import {
  encodeBinary,
  encodeBool,
  encodeDescribed,
  encodeList,
  encodeString,
  encodeUint,
  NULL_VALUE,
  listElements,
  readDescriptor,
  readText,
} from '../src/codec/types.js';

/** A frame the raw client received. */
export interface RawFrame {
  size: number;
  channel: number;
  /** Performative code (0x10 open … 0x18 close); undefined for an empty (heartbeat) frame. */
  code: number | undefined;
  body: Buffer;
}

/**
 * A bare-socket AMQP client for the cases a library will not produce: hand-made frames, garbage,
 * wrong headers. It skips SASL (the test server allows anonymous clients).
 */
export class RawAmqp {
  readonly frames: RawFrame[] = [];
  header: Buffer | null = null;
  private buf = Buffer.alloc(0);
  closed = false;
  readonly done: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.input(d));
    this.done = new Promise((r) =>
      socket.on('close', () => {
        this.closed = true;
        r();
      }),
    );
    socket.on('error', () => {});
  }

  static async connect(port: number): Promise<RawAmqp> {
    const s = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('error', reject);
    });
    return new RawAmqp(s);
  }

  /** Protocol header + open (container id, max-frame-size, channel-max, idle-time-out). */
  open(opts: { maxFrameSize?: number; channelMax?: number; idleTimeoutMs?: number } = {}): void {
    const fields = [
      encodeString('raw-client'),
      NULL_VALUE,
      opts.maxFrameSize === undefined ? NULL_VALUE : encodeUint(opts.maxFrameSize),
      opts.channelMax === undefined ? NULL_VALUE : Buffer.from([0x60, opts.channelMax >> 8, opts.channelMax & 0xff]),
      opts.idleTimeoutMs === undefined ? NULL_VALUE : encodeUint(opts.idleTimeoutMs),
    ];
    this.write(Buffer.concat([protocolHeader(PROTOCOL_AMQP), perf(0, 0x10, fields)]));
  }

  begin(channel: number): void {
    this.write(perf(channel, 0x11, [NULL_VALUE, encodeUint(0), encodeUint(5000), encodeUint(5000)]));
  }

  /** Attach as sender (role false) to `address`, unsettled. */
  attachSender(channel: number, handle: number, name: string, address: string): void {
    const target = encodeDescribed(0x29, encodeList([encodeString(address)]));
    const source = encodeDescribed(0x28, encodeList([encodeString('raw')]));
    this.write(
      perf(channel, 0x12, [
        encodeString(name),
        encodeUint(handle),
        encodeBool(false),
        Buffer.from([0x50, 0]),
        Buffer.from([0x50, 0]),
        source,
        target,
        NULL_VALUE,
        NULL_VALUE,
        encodeUint(0),
      ]),
    );
  }

  /** Attach as receiver (role true) from `address`; the server sends on it once credit is granted. */
  attachReceiver(channel: number, handle: number, name: string, address: string): void {
    const source = encodeDescribed(0x28, encodeList([encodeString(address)]));
    const target = encodeDescribed(0x29, encodeList([encodeString('raw')]));
    this.write(perf(channel, 0x12, [encodeString(name), encodeUint(handle), encodeBool(true), Buffer.from([0x50, 0]), Buffer.from([0x50, 0]), source, target]));
  }

  /** A link flow: session windows of 5000 from transfer id 0 on both sides, then the link's delivery-count and credit. */
  flow(channel: number, handle: number, deliveryCount: number, credit: number): void {
    this.write(
      perf(channel, 0x13, [
        encodeUint(0),
        encodeUint(5000),
        encodeUint(0),
        encodeUint(5000),
        encodeUint(handle),
        encodeUint(deliveryCount),
        encodeUint(credit),
      ]),
    );
  }

  /** A disposition of deliveries first..last (role true: from a receiver), settled, accepted. */
  disposition(channel: number, role: boolean, first: number, last: number): void {
    this.write(perf(channel, 0x15, [encodeBool(role), encodeUint(first), encodeUint(last), encodeBool(true), encodeDescribed(0x24, encodeList([]))]));
  }

  /** One transfer frame carrying `payload`; `deliveryId`/`tag` null leaves them out (continuation). */
  transfer(channel: number, handle: number, deliveryId: number | null, tag: Buffer | null, payload: Buffer, more: boolean): void {
    const fields = [
      encodeUint(handle),
      deliveryId === null ? NULL_VALUE : encodeUint(deliveryId),
      tag === null ? NULL_VALUE : encodeBinary(tag),
      deliveryId === null ? NULL_VALUE : encodeUint(0),
      encodeBool(false),
      encodeBool(more),
    ];
    this.write(Buffer.concat([perf(channel, 0x14, fields, payload)]));
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }

  /** The first received frame matching, waiting for it. */
  async waitFor(pred: (f: RawFrame) => boolean, what: string, timeoutMs = 10_000): Promise<RawFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.find(pred);
      if (f) return f;
      if (Date.now() > deadline) throw new Error(`raw client: timed out waiting for ${what}; got ${this.frames.map((x) => x.code).join(',')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The error condition and description of a received close/detach/disposition-like frame. */
  static errorOf(f: RawFrame): { condition: string | undefined; description: string | undefined } {
    const d = readDescriptor(f.body, 0);
    const { items } = listElements(f.body, d.pos);
    const at = f.code === 0x16 ? 2 : 0; // detach: handle, closed, error; close/end: error
    const e = items[at];
    if (e === undefined || f.body[e] === 0x40) return { condition: undefined, description: undefined };
    const ed = readDescriptor(f.body, e);
    const fields = listElements(f.body, ed.pos).items;
    return { condition: readText(f.body, fields[0]!), description: fields[1] === undefined ? undefined : readText(f.body, fields[1]) };
  }

  end(): void {
    this.socket.destroy();
  }

  private input(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    if (!this.header) {
      if (this.buf.length < 8) return;
      this.header = this.buf.subarray(0, 8);
      this.buf = this.buf.subarray(8);
    }
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(0);
      if (this.buf.length < size) return;
      const doff = this.buf[4]! * 4;
      const body = this.buf.subarray(doff, size);
      const code = body.length > 0 ? readDescriptor(body, 0).code : undefined;
      this.frames.push({ size, channel: this.buf.readUInt16BE(6), code, body });
      this.buf = this.buf.subarray(size);
    }
  }
}

export function perf(channel: number, code: number, fields: Buffer[], payload?: Buffer): Buffer {
  const body = encodeDescribed(code, encodeList(fields));
  return frame(0, channel, payload ? Buffer.concat([body, payload]) : body);
}

/** An encoded AMQP message with one data section. */
export function dataMessage(bytes: Buffer): Buffer {
  return encodeDescribed(0x75, encodeBinary(bytes));
}
