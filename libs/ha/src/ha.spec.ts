import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type MessageStore, openStore } from '@apogee/store';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeHandshake } from './frames.js';
import { HaReplica } from './ha-replica.js';
import { HaServer } from './ha-server.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function store(dir?: string): Promise<{ s: MessageStore; dir: string }> {
  const d = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'apg-ha-'));
  if (!dir) cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
  const s = await openStore({ dataDir: d, segmentSize: 64 * 1024 }, quiet);
  return { s, dir: d };
}

async function put(s: MessageStore, n: number, from = 0): Promise<void> {
  const puts: Array<Promise<unknown>> = [];
  for (let i = from; i < from + n; i++) {
    const properties: Record<string, string> = { KEYS: `k${i}` };
    if (i % 4 === 0) properties['INNER_MULTI_DISPATCH'] = '%LMQ%x';
    puts.push(s.put({ topic: 'T', queueId: i % 2, body: Buffer.alloc(200 + (i % 97), i % 251), properties }));
  }
  await Promise.all(puts);
}

/** The replica holds everything the master has, written (its reads serve confirmed records only). */
const caughtUp = (replica: MessageStore, master: MessageStore) => () =>
  replica.commitLogEnd === master.commitLogEnd && replica.commitLogConfirmed === replica.commitLogEnd;

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!ok()) throw new Error(`timed out waiting for ${what}`);
}

async function view(s: MessageStore) {
  const out: Record<string, unknown> = { end: s.commitLogEnd };
  for (const [t, q] of [
    ['T', 0],
    ['T', 1],
    ['%LMQ%x', 0],
  ] as const) {
    const got = await s.get(t, q, 0, 10_000, { maxBytes: 1 << 26 });
    out[`${t}:${q}`] = got.messages.map((m) => [m.queueOffset, m.commitLogOffset, m.record.toString('base64')]);
  }
  return out;
}

async function serve(master: MessageStore, opts = {}): Promise<{ server: HaServer; port: number }> {
  const server = new HaServer({ store: master, log: quiet, heartbeatMs: 100, ...opts });
  const addr = await server.listen(0);
  cleanups.push(() => server.close());
  return { server, port: Number(addr.split(':')[1]) };
}

describe('HA port: a replica following its master over TCP', () => {
  it('streams what the master has and what it writes while the replica follows; the replica acks it', async () => {
    const { s: master } = await store();
    cleanups.push(() => master.close());
    const { s: replicaStore } = await store();
    cleanups.push(() => replicaStore.close());
    await put(master, 300);
    const { server, port } = await serve(master);
    const replica = new HaReplica({ store: replicaStore, master: { host: '127.0.0.1', port }, replicaId: 1, log: quiet, reconnectMs: 50 });
    cleanups.push(() => replica.stop());
    replica.start();
    await put(master, 300, 300); // written while the stream runs
    await until('the replica caught up', caughtUp(replicaStore, master));
    expect(await view(replicaStore)).toEqual(await view(master));
    await until('the ack', () => server.replicas()[0]?.ackedOffset === master.commitLogEnd);
    expect(server.replicas()[0]).toMatchObject({ replicaId: 1, sentOffset: master.commitLogEnd });
    expect(replica.lagBytes).toBe(0);
    // Idle: heartbeats keep the connection; a later write still arrives.
    await new Promise((r) => setTimeout(r, 300));
    await put(master, 10, 600);
    await until('the late write', caughtUp(replicaStore, master));
    expect(await view(replicaStore)).toEqual(await view(master));
  });

  it('resumes where the replica stopped after it was stopped and its store reopened', async () => {
    const { s: master } = await store();
    cleanups.push(() => master.close());
    const r = await store();
    await put(master, 400);
    const { port } = await serve(master, { chunkBytes: 4096 });
    let replica = new HaReplica({ store: r.s, master: { host: '127.0.0.1', port }, replicaId: 2, log: quiet, reconnectMs: 50 });
    replica.start();
    await until('part of the log', () => r.s.commitLogEnd > 20_000);
    await replica.stop();
    await r.s.close();
    const reopened = (await store(r.dir)).s;
    cleanups.push(() => reopened.close());
    expect(reopened.commitLogEnd).toBeGreaterThan(20_000);
    expect(reopened.commitLogEnd).toBeLessThan(master.commitLogEnd);
    replica = new HaReplica({ store: reopened, master: { host: '127.0.0.1', port }, replicaId: 2, log: quiet, reconnectMs: 50 });
    cleanups.push(() => replica.stop());
    replica.start();
    await until('caught up again', caughtUp(reopened, master));
    expect(await view(reopened)).toEqual(await view(master));
  });

  it('drops a replica that stops acking', async () => {
    const { s: master } = await store();
    cleanups.push(() => master.close());
    await put(master, 20);
    const warnings: string[] = [];
    const { server, port } = await serve(master, {
      idleTimeoutMs: 300,
      log: { info: () => {}, warn: (o: { reason?: string }) => warnings.push(o.reason ?? '') },
    });
    // A peer that shakes hands and reads the stream, but never acks.
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write(encodeHandshake({ replicaId: 9, maxOffset: 0, epochs: [] })));
      s.resume();
      s.on('close', () => resolve());
      s.on('error', () => {});
    });
    expect(warnings).toEqual([expect.stringMatching(/no ack for 300 ms/)]);
    await until('the master forgot it', () => server.replicas().length === 0);
  });

  it('refuses a replica that is ahead, and closes a connection that is not the protocol', async () => {
    const { s: master } = await store();
    cleanups.push(() => master.close());
    const { s: ahead } = await store();
    cleanups.push(() => ahead.close());
    await put(ahead, 5);
    const warnings: string[] = [];
    const { server, port } = await serve(master, { log: { info: () => {}, warn: (o: { reason?: string }) => warnings.push(o.reason ?? '') } });
    const closed = (payload: Buffer) =>
      new Promise<void>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => s.write(payload));
        s.on('close', () => resolve());
        s.on('error', () => {});
      });
    await closed(encodeHandshake({ replicaId: 3, maxOffset: ahead.commitLogEnd, epochs: [] }));
    await closed(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(warnings).toEqual([expect.stringMatching(/past this master's end 0/), expect.stringMatching(/bad magic/)]);
    await until('no replica listed', () => server.replicas().length === 0);
  });
});
