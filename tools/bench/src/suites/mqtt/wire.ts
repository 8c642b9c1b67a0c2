/**
 * Load-generator side helpers of the mqtt suite: mqtt.js connections (MQTT 3.1.1, no reconnects,
 * the same options against every broker), the 128 B benchmark payload and VmRSS of a broker.
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { PAYLOAD, HEADER, log, errText } from '../../load-payload.js';
import { readProcMemory } from '../../proc-memory.js';
import type { BrokerRef } from './brokers.js';

export { PAYLOAD, HEADER, log, errText };

let clientSeq = 0;

/** A client id unique in this process and ≤ 23 characters (the MQTT 3.1.1 limit aedes enforces). */
export function clientId(tag: string): string {
  return `b${process.pid.toString(36)}${tag.slice(0, 4)}${(clientSeq++).toString(36)}`.slice(0, 23);
}

/** One connected mqtt.js client: MQTT 3.1.1, clean session, no reconnect, keep-alive 5 min. */
export async function connect(b: BrokerRef, tag: string, extra: Partial<IClientOptions> = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync({
    host: b.host,
    port: b.port,
    ...(b.tls ? { protocol: 'mqtts' as const, ca: b.tls.ca, servername: 'localhost' } : { protocol: 'mqtt' as const }),
    protocolVersion: 4,
    clean: true,
    clientId: clientId(tag),
    keepalive: 300,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...extra,
  });
  c.on('error', (err) => log(`   ${b.name} client ${c.options.clientId}: ${errText(err)}`));
  return c;
}

/** Closes clients, forcing the ones that do not finish within a second. */
export async function closeAll(clients: readonly MqttClient[]): Promise<void> {
  await Promise.allSettled(
    clients.map(
      (c) =>
        new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            c.end(true);
            resolve();
          }, 1000);
          c.end(false, {}, () => {
            clearTimeout(t);
            resolve();
          });
        }),
    ),
  );
}

/** A 128 B payload carrying (run, seq, now). */
export function payload(run: number, seq: number, size = PAYLOAD): Buffer {
  const b = Buffer.alloc(size, 0x61);
  b.writeInt32LE(run, 0);
  b.writeInt32LE(seq, 4);
  b.writeDoubleLE(performance.now(), 8);
  return b;
}

/** VmRSS of a process in bytes (Linux /proc). */
export async function rssBytes(pid: number): Promise<number> {
  return (await readProcMemory(pid)).rss;
}

/** CPU time (user + system) a process has used, in ms (Linux /proc/<pid>/stat, 100 ticks/s). */
export async function cpuMs(pid: number): Promise<number> {
  const s = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** A hand-built MQTT 3.1.1 CONNECT: clean session, keep-alive 0 (none), the given client id. */
export function connectPacket(id: string): Buffer {
  const idBytes = Buffer.from(id, 'utf8');
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x00]);
  const remaining = variable.length + 2 + idBytes.length;
  if (remaining > 127) throw new Error('client id too long for the one-byte length');
  const b = Buffer.alloc(2 + remaining);
  b[0] = 0x10;
  b[1] = remaining;
  variable.copy(b, 2);
  b.writeUInt16BE(idBytes.length, 2 + variable.length);
  idBytes.copy(b, 4 + variable.length);
  return b;
}

/**
 * An idle MQTT connection without a client library (a raw socket that sent CONNECT and read a
 * successful CONNACK), so thousands of them cost the load generator little.
 */
export function openIdle(b: BrokerRef, timeoutMs = 10_000): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(b.port, b.host);
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new Error(`no CONNACK from ${b.name} within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      s.destroy();
      reject(err);
    };
    s.once('error', fail);
    s.once('connect', () => s.write(connectPacket(clientId('idle'))));
    const onData = (d: Buffer): void => {
      got = Buffer.concat([got, d]);
      if (got.length < 4) return;
      clearTimeout(timer);
      s.off('data', onData);
      s.off('error', fail);
      if (got[0] !== 0x20 || got[3] !== 0) {
        s.destroy();
        reject(new Error(`${b.name} refused CONNECT: ${got.subarray(0, 4).toString('hex')}`));
        return;
      }
      // Keep the socket open and drained; errors after the handshake are logged, not fatal.
      s.on('error', (err) => log(`   idle connection to ${b.name}: ${errText(err)}`));
      s.on('data', () => {});
      resolve(s);
    };
    s.on('data', onData);
  });
}
