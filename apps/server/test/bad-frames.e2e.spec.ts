/**
 * Random, truncated and oversized frames against a real server process: the offending connection
 * is closed (or answered with an error), the process never crashes, and other connections carry on.
 */
import net from 'node:net';
import fs from 'node:fs';
import { RemotingClient, RequestCode, ResponseCode, encodeFrame, makeRequest } from '@apogee/remoting';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';

const ITERATIONS = 300;

let server: ServerProcess;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDataDir('apg-fuzz-');
  server = await ServerProcess.start(dataDir);
});

afterAll(async () => {
  await killAllStarted();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Deterministic PRNG (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function validSend(topic: string): Buffer {
  return encodeFrame(
    makeRequest(RequestCode.SEND_MESSAGE_V2, {
      extFields: { a: 'fz', b: topic, c: 'TBW102', d: '4', e: '0', f: '0', g: '1', h: '0', i: '', j: '0', k: 'false' },
      body: Buffer.from('fuzz'),
    }),
  );
}

/** One hostile payload of a kind chosen by `rand`. */
function hostile(rand: () => number): Buffer {
  const kind = Math.floor(rand() * 7);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  const frame = validSend(`Fz${Math.floor(rand() * 4)}`);
  switch (kind) {
    case 0:
      return bytes(1 + Math.floor(rand() * 200)); // noise
    case 1:
      return frame.subarray(0, Math.floor(rand() * frame.length)); // truncated
    case 2: {
      const b = Buffer.from(frame);
      b.writeInt32BE(0x7ffffff0, 0);
      return b;
    } // oversized length
    case 3: {
      const b = Buffer.from(frame);
      b.writeInt32BE(b.readInt32BE(4) | 0x00ffffff, 4);
      return b;
    } // header length past the frame
    case 4: {
      const b = Buffer.from(frame);
      for (let i = 0; i < 6; i++) b[8 + Math.floor(rand() * (b.length - 8))] = Math.floor(rand() * 256);
      return b;
    } // flipped header bytes
    case 5:
      return encodeFrame(makeRequest(Math.floor(rand() * 70_000), { extFields: { x: 'y' } })); // unknown or misused code
    default: {
      const b = Buffer.from(frame);
      b[4] = 0x05;
      return b;
    } // unknown serialize type
  }
}

describe('bad input on the broker port', () => {
  it(`survives ${ITERATIONS} hostile payloads while a well-behaved client keeps working`, async () => {
    const rand = prng(20261121);
    const [host, port] = server.brokerAddr.split(':');
    const good = new RemotingClient({ requestTimeoutMs: 5000 });
    try {
      for (let i = 0; i < ITERATIONS; i++) {
        const sock = net.connect(Number(port), host);
        sock.on('error', () => {});
        sock.on('data', () => {});
        await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
        sock.write(hostile(rand));
        // Either the server closes the connection or it answers; we end it either way.
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => {
            sock.destroy();
            resolve();
          }, 50);
          sock.once('close', () => {
            clearTimeout(t);
            resolve();
          });
        });
        if (i % 25 === 0) {
          const res = await good.invoke(
            server.brokerAddr,
            makeRequest(RequestCode.SEND_MESSAGE_V2, {
              extFields: { a: 'ok', b: 'Healthy', c: 'TBW102', d: '4', e: '0', f: '0', g: '1', h: '0', i: '', j: '0', k: 'false' },
              body: Buffer.from(`still fine ${i}`),
            }),
          );
          expect(res.code, res.remark).toBe(ResponseCode.SUCCESS);
        }
      }
      expect(server.proc.exitCode).toBeNull();
      const max = await good.invoke(server.brokerAddr, makeRequest(RequestCode.GET_MAX_OFFSET, { extFields: { topic: 'Healthy', queueId: '0' } }));
      expect(max.extFields['offset']).toBe(String(Math.ceil(ITERATIONS / 25)));
      // The NameServer port gets the same treatment.
      const [nh, np] = server.namesrvAddr.split(':');
      const ns = net.connect(Number(np), nh);
      ns.on('error', () => {});
      await new Promise<void>((resolve) => ns.once('connect', () => resolve()));
      ns.write(Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]));
      await new Promise<void>((resolve) => ns.once('close', () => resolve()));
      const route = await good.invoke(server.namesrvAddr, makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic: 'Healthy' } }));
      expect(route.code).toBe(ResponseCode.SUCCESS);
    } finally {
      good.close();
    }
    expect(await server.stop()).toBe(0);
  });
});
