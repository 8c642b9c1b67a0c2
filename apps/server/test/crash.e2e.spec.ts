/**
 * SIGKILL the server in the middle of a SYNC_FLUSH send load, restart it on the same data
 * directory, and check that every acknowledged message can be consumed, uncorrupted.
 */
import fs from 'node:fs';
import { decodeRecords, encodeProperties } from '@apogee/message';
import { RemotingClient, RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import { afterAll, describe, expect, it } from 'vitest';
import { createTopic } from './remoting-helpers.js';
import { ServerProcess, freePorts, killAllStarted, tempDataDir } from './server-process.js';

const QUEUES = 4;
const CYCLES = 3;
const WRITERS = 4;
const WINDOW = 16;

afterAll(killAllStarted);

interface Ack {
  id: string;
  queueId: number;
  queueOffset: number;
}

/** Sends until `stop()` says so; records every SUCCESS. Errors after the kill are expected. */
async function sendLoad(brokerAddr: string, cycle: number, acks: Ack[], stop: () => boolean): Promise<void> {
  const writers = Array.from({ length: WRITERS }, async (_, w) => {
    const client = new RemotingClient({ requestTimeoutMs: 5000 });
    let seq = 0;
    const one = async (): Promise<void> => {
      while (!stop()) {
        const id = `c${cycle}-w${w}-${seq++}`;
        let res;
        try {
          res = await client.invoke(
            brokerAddr,
            makeRequest(RequestCode.SEND_MESSAGE_V2, {
              extFields: {
                a: 'crash-p',
                b: 'Crash',
                c: 'TBW102',
                d: '4',
                e: '-1',
                f: '0',
                g: String(Date.now()),
                h: '0',
                i: encodeProperties({ KEYS: id }),
                j: '0',
                k: 'false',
              },
              body: Buffer.from(`${id}|${'x'.repeat(200 + (seq % 300))}`),
            }),
          );
        } catch {
          return; // connection gone: the server was killed
        }
        if (res.code === ResponseCode.SUCCESS) acks.push({ id, queueId: Number(res.extFields['queueId']), queueOffset: Number(res.extFields['queueOffset']) });
      }
    };
    await Promise.all(Array.from({ length: WINDOW }, one));
    client.close();
  });
  await Promise.all(writers);
}

async function readAll(brokerAddr: string): Promise<Map<string, { queueId: number; queueOffset: number }>> {
  const client = new RemotingClient({ requestTimeoutMs: 10_000 });
  const found = new Map<string, { queueId: number; queueOffset: number }>();
  try {
    for (let q = 0; q < QUEUES; q++) {
      let offset = 0;
      for (let guard = 0; guard < 100_000; guard++) {
        const res = await client.invoke(
          brokerAddr,
          makeRequest(RequestCode.PULL_MESSAGE, {
            extFields: {
              consumerGroup: 'crash-check',
              topic: 'Crash',
              queueId: String(q),
              queueOffset: String(offset),
              maxMsgNums: '32',
              sysFlag: '4',
              commitOffset: '0',
              suspendTimeoutMillis: '0',
              subscription: '*',
              subVersion: '0',
            },
          }),
        );
        if (res.code !== ResponseCode.SUCCESS) {
          expect(res.code).toBe(ResponseCode.PULL_NOT_FOUND);
          break;
        }
        for (const m of decodeRecords(res.body!)) {
          const body = m.body.toString();
          const id = body.slice(0, body.indexOf('|'));
          expect(m.properties.get('KEYS')).toBe(id);
          expect(body.length).toBeGreaterThan(200);
          found.set(id, { queueId: m.queueId, queueOffset: m.queueOffset });
        }
        offset = Number(res.extFields['nextBeginOffset']);
      }
    }
  } finally {
    client.close();
  }
  return found;
}

describe('crash safety of the server process', () => {
  it(`keeps every message acknowledged under SYNC_FLUSH across ${CYCLES} SIGKILLs`, async () => {
    const dataDir = tempDataDir('apg-crash-');
    const ports = await freePorts();
    const acks: Ack[] = [];
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const server = await ServerProcess.start(dataDir, ports, ['--flush', 'sync']);
        if (cycle === 0) await createTopic(server.brokerAddr, server.namesrvAddr, 'Crash', QUEUES);
        let killed = false;
        const before = acks.length;
        const load = sendLoad(server.brokerAddr, cycle, acks, () => killed);
        // Kill once this cycle has a few hundred acknowledged messages in flight behind it.
        for (let i = 0; i < 600 && acks.length - before < 400; i++) await new Promise((r) => setTimeout(r, 10));
        await server.kill();
        killed = true;
        await load;
        expect(acks.length - before).toBeGreaterThan(0);
      }
      const server = await ServerProcess.start(dataDir, ports, ['--flush', 'sync']);
      const found = await readAll(server.brokerAddr);
      const missing = acks.filter((a) => !found.has(a.id));
      expect(missing.slice(0, 5), `${missing.length} of ${acks.length} acknowledged messages lost`).toEqual([]);
      for (const a of acks) expect(found.get(a.id)).toEqual({ queueId: a.queueId, queueOffset: a.queueOffset });
      expect(await server.stop()).toBe(0);
    } finally {
      await killAllStarted();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
