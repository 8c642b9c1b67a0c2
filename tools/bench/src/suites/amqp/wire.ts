/**
 * Load-generator side of the amqp suite: rhea client connections (the same options against every
 * broker; rhea is loaded from libs/amqp's dependency), the 128 B payload and its header.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as RheaTypes from 'rhea';
import { PAYLOAD, HEADER, log, errText } from '../../load-payload.js';
import { REPO_ROOT } from '../remoting/common.js';
import type { BrokerRef } from './brokers.js';

export const rhea = createRequire(path.join(REPO_ROOT, 'libs/amqp/package.json'))('rhea') as typeof RheaTypes;

export { PAYLOAD, HEADER, log, errText };

/** The encoded message of the suite: one data section (0x00 0x53 0x75, vbin8) of PAYLOAD bytes. */
const SECTION_HEAD = Buffer.from([0x00, 0x53, 0x75, 0xa0, PAYLOAD]);

/**
 * The encoded AMQP message carrying (run, seq, now), to send with `sender.send(bytes, undefined, 0)`:
 * the load generator builds the bytes itself rather than through rhea's message encoder, so less
 * of the shared two cores goes to the client (the same for every broker).
 */
export function encoded(run: number, seq: number): Buffer {
  const b = Buffer.allocUnsafe(SECTION_HEAD.length + PAYLOAD);
  SECTION_HEAD.copy(b, 0);
  b.fill(0x61, SECTION_HEAD.length);
  const p = SECTION_HEAD.length;
  b.writeInt32LE(run, p);
  b.writeInt32LE(seq, p + 4);
  b.writeDoubleLE(performance.now(), p + 8);
  return b;
}

/** Offset past the section value at `pos` for the types bare sections use here, or -1 if unknown. */
function skipValue(b: Buffer, pos: number): number {
  const code = b[pos];
  switch (code) {
    case 0x40:
    case 0x45:
      return pos + 1;
    case 0xa0:
    case 0xc0:
    case 0xc1:
      return pos + 2 + b[pos + 1]!;
    case 0xb0:
    case 0xd0:
    case 0xd1:
      return pos + 5 + b.readUInt32BE(pos + 1);
    default:
      return -1;
  }
}

/**
 * In the load generator, rhea's decode of every received message is replaced by a light one
 * that only finds the data section's bytes (skipping header, annotations and properties sections
 * a broker may add); anything else goes to rhea's own decoder. Same for every broker.
 */
export function installLightDecode(): void {
  const mod = rhea.message as unknown as { decode: (b: Buffer) => unknown };
  const original = mod.decode;
  mod.decode = function (this: unknown, b: Buffer) {
    let pos = 0;
    while (pos + 3 < b.length && b[pos] === 0x00 && b[pos + 1] === 0x53) {
      const section = b[pos + 2];
      const v = pos + 3;
      if (section === 0x75 && (b[v] === 0xa0 || b[v] === 0xb0)) {
        const start = b[v] === 0xa0 ? v + 2 : v + 5;
        const len = b[v] === 0xa0 ? b[v + 1]! : b.readUInt32BE(v + 1);
        return { body: b.subarray(start, start + len) };
      }
      const next = skipValue(b, v);
      if (next < 0) break;
      pos = next;
    }
    return original.call(this, b);
  };
}

/** The payload bytes of a received message, whatever section type the client library decoded. */
export function payloadOf(m: RheaTypes.Message): Buffer | null {
  const b = m.body as unknown;
  if (Buffer.isBuffer(b)) return b;
  const typed = b as { content?: unknown } | null;
  return typed && Buffer.isBuffer(typed.content) ? typed.content : null;
}

/** One open rhea connection to the broker (no reconnects; TCP_NODELAY on every connection, as rhea sets it only once a receiver is attached). */
export async function connect(b: BrokerRef): Promise<RheaTypes.Connection> {
  const container = rhea.create_container({ id: `bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}` });
  const c = container.connect({
    host: '127.0.0.1',
    port: b.port,
    reconnect: false,
    idle_time_out: 0,
    tcp_no_delay: true,
    ...(b.tls ? { transport: 'tls', ca: b.tls.ca, servername: 'localhost' } : {}),
    ...(b.user ?? {}),
  } as RheaTypes.ConnectionOptions);
  c.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    c.once('connection_open', () => resolve());
    c.once('connection_error', () => reject(new Error(`${b.name}: connection refused: ${JSON.stringify(c.error)}`)));
    c.once('disconnected', (ctx: RheaTypes.EventContext) => reject(new Error(`${b.name}: disconnected before open: ${errText(ctx.error)}`)));
  });
  return c;
}

/** Waits for a link's attach to be answered; rejects if the broker detached it. */
export function opened(link: RheaTypes.Sender | RheaTypes.Receiver, role: 'sender' | 'receiver'): Promise<void> {
  return new Promise((resolve, reject) => {
    link.once(`${role}_open`, () => resolve());
    link.once(`${role}_close`, () => reject(new Error(`${role} refused: ${JSON.stringify(link.error)}`)));
  });
}

export function closeAll(conns: RheaTypes.Connection[]): void {
  for (const c of conns) {
    try {
      c.close();
    } catch {
      /* already gone */
    }
  }
}
