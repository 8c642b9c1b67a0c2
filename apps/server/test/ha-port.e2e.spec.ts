/**
 * The HA port of a real server process (`--ha-port N`): a replica (libs/ha's HaReplica into a
 * store of the test's own) follows the broker's commit log while @apogee/client sends; after the
 * server is SIGKILLed mid-load and restarted on its data directory, the replica reconnects and
 * catches up; every acknowledged message is in the replica's copy of the topic's queues.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Producer } from '@apogee/client';
import { HaReplica } from '@apogee/ha';
import { decodeRecord } from '@apogee/message';
import { type MessageStore, openStore } from '@apogee/store';
import { afterAll, describe, expect, it } from 'vitest';
import { createTopic } from './remoting-helpers.js';
import { ServerProcess, freePort, freePorts, killAllStarted, tempDataDir } from './server-process.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Bodies in the replica's copy of the topic's queues. */
async function bodiesIn(store: MessageStore, topic: string, queues: number): Promise<Set<string>> {
  const out = new Set<string>();
  for (let q = 0; q < queues; q++) {
    for (let offset = 0; ;) {
      const got = await store.get(topic, q, offset, 256, { maxBytes: 1 << 24 });
      if (got.messages.length === 0) break;
      for (const m of got.messages) out.add(decodeRecord(m.record).body.toString('utf8'));
      offset = got.nextOffset;
    }
  }
  return out;
}

describe('HA port of a server process', { timeout: 120_000 }, () => {
  const dir = tempDataDir('apg-ha-port-');
  afterAll(async () => {
    await killAllStarted();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('streams the commit log to a replica, across a SIGKILL and restart of the server', async () => {
    const ports = await freePorts();
    const haPort = await freePort();
    const flags = ['--ha-port', String(haPort), '--mqtt-port', 'off', '--amqp-port', 'off'];
    let server = await ServerProcess.start(path.join(dir, 'server'), ports, flags);
    expect(server.output).toMatch(/HA port listening/);
    await createTopic(server.brokerAddr, server.namesrvAddr, 'HaT', 2);
    const replicaStore = await openStore({ dataDir: path.join(dir, 'replica') }, quiet);
    const replica = new HaReplica({ store: replicaStore, master: { host: '127.0.0.1', port: haPort }, replicaId: 1, log: quiet, reconnectMs: 100 });
    replica.start();
    const acked: string[] = [];
    try {
      const send = async (prefix: string, n: number) => {
        const producer = new Producer({ nameServer: server.namesrvAddr, group: `ha-pg-${prefix}` });
        await producer.start();
        try {
          for (let i = 0; i < n; i++) {
            const body = `${prefix}-${i}`;
            await producer.send({ topic: 'HaT', body: Buffer.from(body) });
            acked.push(body);
          }
        } finally {
          await producer.shutdown();
        }
      };
      await send('before', 150);
      await until('the replica has the first messages', async () => (await bodiesIn(replicaStore, 'HaT', 2)).size === 150);
      await server.kill();
      server = await ServerProcess.start(path.join(dir, 'server'), ports, flags);
      await send('after', 100);
      await until('the replica has every acknowledged message', async () => (await bodiesIn(replicaStore, 'HaT', 2)).size === acked.length);
      const got = await bodiesIn(replicaStore, 'HaT', 2);
      expect(acked.filter((b) => !got.has(b))).toEqual([]);
      expect(got.size).toBe(250);
    } finally {
      await replica.stop();
      await replicaStore.close();
    }
  });
});
