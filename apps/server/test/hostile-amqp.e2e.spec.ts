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
