/**
 * Issue 13's 32-byte AMQP frame against a real server process, as the open frame and inside
 * sasl-init: an array declaring 2^31 zero-width elements used to grow the heap until Node died,
 * taking every endpoint with it. Now the connection is closed and everything else keeps answering.
 */
import fs from 'node:fs';
import net from 'node:net';
import { RemotingClient, RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { everyEndpointAnswers } from './hostile-helpers.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';

let server: ServerProcess;
let dataDir: string;
beforeAll(async () => {
  dataDir = tempDataDir('apg-hostile-');
  server = await ServerProcess.start(dataDir);
});
afterAll(async () => {
  await killAllStarted();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const FRAMES = {
  'as the open frame (no SASL)': '414d5150000100000000001802000000005310c00b01f0000000057fffffff41',
  'inside sasl-init': '414d5150030100000000001802010000005341c00b01f0000000057fffffff41',
};

/** Sends bytes on a fresh connection and resolves once the server has closed it. */
function sendAndAwaitClose(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    s.on('data', () => {});
    s.on('error', () => {});
    s.on('close', () => resolve());
    setTimeout(() => reject(new Error('the server kept the hostile connection open')), 15_000).unref();
  });
}

function rssAnonMiB(pid: number): number {
  const m = /^RssAnon:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

describe('hostile AMQP frames against the server process', () => {
  for (const [where, hexBytes] of Object.entries(FRAMES)) {
    it(`an array of 2^31 zero-width elements ${where}: that connection closes, memory stays put, every endpoint answers`, async () => {
      await sendAndAwaitClose(server.amqpPort, Buffer.from(hexBytes, 'hex'));
      expect(server.proc.exitCode).toBeNull();
      expect(rssAnonMiB(server.proc.pid!)).toBeLessThan(512);
      const c = await mqtt.connectAsync(server.mqttUrl, { clientId: `after-${where.length}`, reconnectPeriod: 0 });
      const got = new Promise<string>((resolve) => c.on('message', (_t, p) => resolve(p.toString())));
      await c.subscribeAsync('hostile/after', { qos: 1 });
      await c.publishAsync('hostile/after', 'still here', { qos: 1 });
      expect(await got).toBe('still here');
      await c.endAsync();
      const r = new RemotingClient();
      try {
        const route = await r.invoke(server.namesrvAddr, makeRequest(RequestCode.GET_BROKER_CLUSTER_INFO));
        expect(route.code).toBe(ResponseCode.SUCCESS);
      } finally {
        r.close();
      }
    });
  }
});

/** Protocol header, open, begin (channel 0) and a receiving attach (handle 0) from the empty queue q-drain-e2e. */
const OPEN_BEGIN_ATTACH =
  '414d5150000100000000001702000000005310c00a01a1077261772d6532650000001e02000000005311c01104407000000000700000138870000013880000003602000000005312c02907a105647261696e70000000004150005000005328c00e01a10b712d647261696e2d65326500532945';

/** Writes the bytes on a fresh connection; resolves once the server has answered (or closed it). */
function sendAndAwaitAnswer(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
    s.on('error', () => {});
    s.on('close', () => resolve());
    // Whatever comes back (the drained flow, a close), the connection has been served: end it.
    let got = 0;
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (got > 0) setTimeout(() => s.destroy(), 200);
    });
    setTimeout(() => reject(new Error('no answer and no close')), 15_000).unref();
  });
}

describe("issue 13's flow and disposition frames against the server process", () => {
  const cases = {
    // The 35 bytes of the issue: drain=true with link-credit 4,294,967,295 on the receiving link.
    'a drain with link-credit 4,294,967,295 (35 bytes)': '0000002302000000005313c01609437000000800437000000800434370ffffffff4341',
    // A disposition of delivery ids 0..4,294,967,295 (rhea walked it id by id for 12-25 s).
    'a disposition of delivery ids 0..4,294,967,295': '0000001e02000000005315c0110541700000000070ffffffff4100532445',
    // drain=true with link-credit 1,000 (within the cap) but delivery-count 4,294,967,280: rhea's
    // credit is delivery-count + link-credit − its own count, which it counted down one by one.
    'a drain with delivery-count 4,294,967,280 and link-credit 1,000':
      '0000003002000000005313c023097000000000700000138870000000007000001388520070fffffff070000003e84041',
  };
  for (const [what, hexBytes] of Object.entries(cases)) {
    it(`${what}: served or closed at once; every endpoint answers; memory within budget`, async () => {
      await sendAndAwaitAnswer(server.amqpPort, Buffer.concat([Buffer.from(OPEN_BEGIN_ATTACH, 'hex'), Buffer.from(hexBytes, 'hex')]));
      // Right behind it (an event loop frozen by a 4-billion-step loop would not answer for seconds to minutes).
      await everyEndpointAnswers(server, `flow-${what.length}`);
      expect(server.proc.exitCode).toBeNull();
      expect(rssAnonMiB(server.proc.pid!)).toBeLessThan(512);
    });
  }
});
