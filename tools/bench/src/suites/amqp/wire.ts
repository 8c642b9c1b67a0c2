/**
 * Load-generator side of the amqp suite: rhea client connections (the same options against every
 * broker; rhea is loaded from libs/amqp's dependency), the 128 B payload and its header.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as RheaTypes from 'rhea';
import { REPO_ROOT } from '../remoting/common.js';
import type { BrokerRef } from './brokers.js';

export const rhea = createRequire(path.join(REPO_ROOT, 'libs/amqp/package.json'))('rhea') as typeof RheaTypes;

export const PAYLOAD = 128;

/** Payload header: run id (int32), sequence (int32), send time (performance.now(), float64). */
export const HEADER = 16;

export function log(message: string): void {
  process.stderr.write(message + '\n');
}

export function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A data-section body of PAYLOAD bytes carrying (run, seq, now). */
export function body(run: number, seq: number): unknown {
  const b = Buffer.alloc(PAYLOAD, 0x61);
  b.writeInt32LE(run, 0);
  b.writeInt32LE(seq, 4);
  b.writeDoubleLE(performance.now(), 8);
  return rhea.message.data_section(b);
}

/** The payload bytes of a received message, whatever section type the client library decoded. */
export function payloadOf(m: RheaTypes.Message): Buffer | null {
  const b = m.body as unknown;
  if (Buffer.isBuffer(b)) return b;
  const typed = b as { content?: unknown } | null;
  return typed && Buffer.isBuffer(typed.content) ? typed.content : null;
}

/** One open rhea connection to the broker (no reconnects). */
export async function connect(b: BrokerRef): Promise<RheaTypes.Connection> {
  const container = rhea.create_container({ id: `bench-${process.pid}-${Math.random().toString(36).slice(2, 8)}` });
  const c = container.connect({ host: '127.0.0.1', port: b.port, reconnect: false, idle_time_out: 0, ...(b.user ?? {}) } as RheaTypes.ConnectionOptions);
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
