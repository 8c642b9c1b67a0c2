import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type MessageStore, openStore } from '@apogee/store';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeAnswer, encodeDataHeader, encodeHandshake } from './frames.js';
import { HaReplica } from './ha-replica.js';
import { HaServer } from './ha-server.js';

const SEGMENT = 64 * 1024;
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

/** The whole log from offset 0 as replication reads it. */
async function wholeLog(s: MessageStore): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let pos = 0; pos < s.commitLogEnd;) {
    const c = (await s.readForReplica(pos, 1 << 20))!;
    if (c.bytes.length === 0) break;
    parts.push(c.bytes);
    pos = c.next;
  }
  return Buffer.concat(parts);
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
    // The replica stops applying past 20 000 bytes (however fast the stream), and is stopped there.
    const gated = new Proxy(r.s, {
      get(target, p) {
        if (p === 'applyReplicated')
          return (from: number, bytes: Buffer) => (from > 20_000 ? Promise.reject(new Error('held back by the test')) : target.applyReplicated(from, bytes));
        const v: unknown = Reflect.get(target, p, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    let replica = new HaReplica({ store: gated, master: { host: '127.0.0.1', port }, replicaId: 2, log: quiet, reconnectMs: 60_000 });
    replica.start();
    await until('part of the log', () => r.s.commitLogEnd > 20_000 && !replica.connected);
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

  it('closes a connection that is not the protocol, and refuses a replica that has seen a newer epoch (a deposed master)', async () => {
    const { s: master } = await store();
    cleanups.push(() => master.close());
    await master.beginEpoch(1);
    const warnings: string[] = [];
    const { server, port } = await serve(master, { log: { info: () => {}, warn: (o: { reason?: string }) => warnings.push(o.reason ?? '') } });
    const closed = (payload: Buffer) =>
      new Promise<void>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => s.write(payload));
        s.on('close', () => resolve());
        s.on('error', () => {});
      });
    await closed(encodeHandshake({ replicaId: 3, maxOffset: 0, epochs: [{ epoch: 2, startOffset: 0 }] }));
    await closed(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(warnings).toEqual([
      expect.stringMatching(/seen epoch 2, newer than this master's epoch 1: this master is deposed/),
      expect.stringMatching(/bad magic/),
    ]);
    await until('no replica listed', () => server.replicas().length === 0);
  });

  it("truncates a replica that is ahead in the same epoch (its master lost a tail) to the master's end, then streams", async () => {
    const { s: master } = await store();
    cleanups.push(() => master.close());
    const { s: ahead } = await store();
    cleanups.push(() => ahead.close());
    await put(ahead, 5);
    const { port } = await serve(master);
    const replica = new HaReplica({ store: ahead, master: { host: '127.0.0.1', port }, replicaId: 3, log: quiet, reconnectMs: 50 });
    cleanups.push(() => replica.stop());
    replica.start();
    await until('the tail is gone', () => ahead.commitLogEnd === 0);
    await put(master, 20);
    await until('caught up', caughtUp(ahead, master));
    expect(await view(ahead)).toEqual(await view(master));
  });
});

describe('HA port: failover and divergent tails (epochs)', () => {
  it("truncates a deposed master's unreplicated tail when it rejoins as a replica: then its log and queues equal the new master's", async () => {
    const a = await store();
    const b = await store();
    let aStore = a.s;
    cleanups.push(() => aStore.close());
    cleanups.push(() => b.s.close());
    // A is master in epoch 1; B follows it.
    await a.s.beginEpoch(1);
    await put(a.s, 300);
    const first = await serve(a.s, { chunkBytes: 8192 });
    const follower = new HaReplica({ store: b.s, master: { host: '127.0.0.1', port: first.port }, replicaId: 2, log: quiet, reconnectMs: 50 });
    follower.start();
    await until('B caught up with A', caughtUp(b.s, a.s));
    await follower.stop();
    await first.server.close();
    expect(b.s.epochs()).toEqual([{ epoch: 1, startOffset: 0 }]);
    const shared = b.s.commitLogEnd;
    // A goes on alone in epoch 1 (its tail is never replicated, and crosses into a new segment) …
    await put(a.s, 250, 1000);
    expect(a.s.commitLogEnd - (a.s.commitLogEnd % SEGMENT)).toBeGreaterThan(shared - (shared % SEGMENT));
    // … while B becomes master in epoch 2 and takes other writes.
    await b.s.beginEpoch(2);
    await put(b.s, 120, 5000);
    expect(b.s.epochs()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: shared },
    ]);
    // A restarts and rejoins as B's replica.
    await a.s.close();
    aStore = (await store(a.dir)).s;
    const warnings: Array<{ truncateTo?: number }> = [];
    const second = await serve(b.s, { chunkBytes: 1 << 20 });
    const rejoined = new HaReplica({
      store: aStore,
      master: { host: '127.0.0.1', port: second.port },
      replicaId: 1,
      log: { info: () => {}, warn: (o: { truncateTo?: number }) => warnings.push(o) },
      reconnectMs: 50,
    });
    cleanups.push(() => rejoined.stop());
    rejoined.start();
    await until('A caught up with B', caughtUp(aStore, b.s));
    expect(warnings).toContainEqual(expect.objectContaining({ truncateTo: shared }));
    expect((await wholeLog(aStore)).equals(await wholeLog(b.s))).toBe(true);
    expect(await view(aStore)).toEqual(await view(b.s));
    expect(aStore.epochs()).toEqual(b.s.epochs());
    expect(await aStore.queryByKey('T', 'k1100', 10, 0, Number.MAX_SAFE_INTEGER)).toEqual([]); // A's lost tail
    expect(await aStore.queryByKey('T', 'k5100', 10, 0, Number.MAX_SAFE_INTEGER)).toHaveLength(1); // B's epoch 2
    // A fresh replica follows B from the start in large chunks: the frames split at epoch 2's start, so its history is B's.
    const c = await store();
    cleanups.push(() => c.s.close());
    const fresh = new HaReplica({ store: c.s, master: { host: '127.0.0.1', port: second.port }, replicaId: 3, log: quiet, reconnectMs: 50 });
    cleanups.push(() => fresh.stop());
    fresh.start();
    await until('C caught up with B', caughtUp(c.s, b.s));
    expect(c.s.epochs()).toEqual(b.s.epochs());
    expect((await wholeLog(c.s)).equals(await wholeLog(b.s))).toBe(true);
    // More writes on B still reach A, and A reopened holds what it was sent.
    await put(b.s, 30, 6000);
    await until('A caught up again', caughtUp(aStore, b.s));
    await rejoined.stop();
    await aStore.close();
    aStore = (await store(a.dir)).s;
    expect(await view(aStore)).toEqual(await view(b.s));
    expect(aStore.epochs()).toEqual(b.s.epochs());
  });

  it('refuses a frame whose epoch is older than the newest it has seen, and an answer from a master of an older epoch', async () => {
    const { s: replicaStore } = await store();
    cleanups.push(() => replicaStore.close());
    await replicaStore.beginEpoch(2);
    // A master that answers as told, then sends one DATA frame.
    const fake = async (masterEpoch: number, frameEpoch: number) => {
      const reasons: string[] = [];
      const server = net.createServer((s) => {
        s.once('data', () => {
          s.write(encodeAnswer({ truncateTo: 0, masterEpoch }));
          const body = Buffer.alloc(64, 1);
          s.write(Buffer.concat([encodeDataHeader({ offset: 0, epoch: frameEpoch, confirmOffset: 64, size: body.length }), body]));
        });
        s.on('error', () => {});
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as net.AddressInfo).port;
      const replica = new HaReplica({
        store: replicaStore,
        master: { host: '127.0.0.1', port },
        replicaId: 4,
        log: { info: () => {}, warn: (o: { reason?: string }) => o.reason && reasons.push(o.reason) },
        reconnectMs: 10_000,
      });
      replica.start();
      await until('the replica gave up', () => reasons.length > 0);
      await replica.stop();
      await new Promise<void>((r) => server.close(() => r()));
      return reasons[0];
    };
    expect(await fake(2, 1)).toMatch(/a frame of epoch 1, older than epoch 2 seen here: a deposed master/);
    expect(await fake(1, 1)).toMatch(/the master is at epoch 1, older than epoch 2 seen here/);
    expect(replicaStore.commitLogEnd).toBe(0);
    expect(replicaStore.epochs()).toEqual([{ epoch: 2, startOffset: 0 }]);
  });
});
