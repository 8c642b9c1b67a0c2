import { afterEach, describe, expect, it } from 'vitest';
import type { DefaultMessageStore } from './message-store.js';
import { ReplicationError } from './replication.js';
import { openTestStore, tempDir } from './test-support.js';

/** openTestStore's segment size. */
const SEGMENT = 64 * 1024;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function store(extra = {}): Promise<{ s: DefaultMessageStore; dir: string }> {
  const t = tempDir('apg-repl-');
  const s = await openTestStore(t.dir, extra);
  cleanups.push(t.cleanup, () => s.close().catch(() => {}));
  return { s, dir: t.dir };
}

/** 400 messages of 100–400 bytes over 4 queues of T (a few segments of 64 KiB), every 5th also into two LMQs, with keys. */
async function fill(s: DefaultMessageStore, n = 400, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) {
    const properties: Record<string, string> = { KEYS: `k${i}`, TAGS: `t${i % 3}` };
    if (i % 5 === 0) properties['INNER_MULTI_DISPATCH'] = '%LMQ%a,%LMQ%b';
    await s.put({ topic: 'T', queueId: i % 4, body: Buffer.alloc(100 + ((i * 37) % 300), i % 251), properties });
  }
}

/** Copies the master's confirmed log to the replica in chunks of `chunk` bytes (so records and fillers fall across chunks). */
async function follow(master: DefaultMessageStore, replica: DefaultMessageStore, chunk: number, stopAfter = Infinity): Promise<number> {
  let applied = 0;
  for (;;) {
    const from = replica.commitLogEnd;
    const c = await master.readForReplica(from, chunk);
    if (c === null) throw new Error(`master has nothing at ${from}`);
    if (c.bytes.length === 0 || applied >= stopAfter) return applied;
    expect(await replica.applyReplicated(from, c.bytes)).toBe(c.next);
    applied++;
  }
}

/** The whole log from offset 0, chunk by chunk as replication reads it (a filler's 8 bytes, not the rest of its segment). */
async function wholeLog(s: DefaultMessageStore): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let pos = 0; pos < s.commitLogEnd;) {
    const c = (await s.readForReplica(pos, 1 << 20))!;
    if (c.bytes.length === 0) break;
    parts.push(c.bytes);
    pos = c.next;
  }
  return Buffer.concat(parts);
}

async function view(s: DefaultMessageStore) {
  const queues: Record<string, unknown> = {};
  for (const [topic, q] of [
    ['T', 0],
    ['T', 1],
    ['T', 2],
    ['T', 3],
    ['%LMQ%a', 0],
    ['%LMQ%b', 0],
  ] as const) {
    const got = await s.get(topic, q, 0, 1000, { maxBytes: 1 << 24 });
    queues[`${topic}:${q}`] = {
      max: s.getMaxOffset(topic, q),
      messages: got.messages.map((m) => [m.queueOffset, m.commitLogOffset, m.tagsCode, m.record.toString('base64')]),
    };
  }
  const keys = await s.queryByKey('T', 'k123', 10, 0, Number.MAX_SAFE_INTEGER);
  return { end: s.commitLogEnd, queues, key: keys.map((k) => k.commitLogOffset) };
}

describe('commit-log replication', () => {
  it('gives a replica the same log, queue, LMQ and key indexes as its master, over segment ends and many chunks', async () => {
    const { s: master } = await store();
    const { s: replica } = await store();
    await fill(master);
    expect(master.commitLogEnd).toBeGreaterThan(2 * 64 * 1024); // three segments, so fillers are replicated
    await follow(master, replica, 7_001);
    expect(replica.commitLogEnd).toBe(master.commitLogEnd);
    expect(await view(replica)).toEqual(await view(master));
    const log = await wholeLog(master);
    expect(log.length).toBeGreaterThan(2 * SEGMENT - 1024);
    expect((await wholeLog(replica)).equals(log)).toBe(true);
    // More writes follow on the master: the replica keeps up from where it is.
    await fill(master, 50, 400);
    await follow(master, replica, 64 * 1024);
    expect(await view(replica)).toEqual(await view(master));
  });

  it('picks up after the replica is closed mid-stream and reopened (its recovery and the stream agree)', async () => {
    const { s: master } = await store();
    const r = tempDir('apg-repl-r-');
    cleanups.push(r.cleanup);
    await fill(master);
    let replica = await openTestStore(r.dir);
    expect(await follow(master, replica, 5_000, 20)).toBe(20);
    const halfway = replica.commitLogEnd;
    await replica.close();
    replica = await openTestStore(r.dir);
    cleanups.push(() => replica.close());
    expect(replica.commitLogEnd).toBe(halfway);
    await follow(master, replica, 5_000);
    expect(await view(replica)).toEqual(await view(master));
    // Reopened once more: what was replicated is what recovery finds.
    await replica.close();
    replica = await openTestStore(r.dir);
    expect(await view(replica)).toEqual(await view(master));
  });

  it('refuses a chunk that does not start at its end, a damaged record and a log laid out differently', async () => {
    const { s: master } = await store();
    const { s: replica } = await store();
    await fill(master, 20);
    const chunk = (await master.readForReplica(0, 1 << 20))!.bytes;
    await expect(replica.applyReplicated(100, chunk)).rejects.toBeInstanceOf(ReplicationError);
    const damaged = Buffer.from(chunk);
    const firstSize = damaged.readInt32BE(0);
    damaged[firstSize + 60] = (damaged[firstSize + 60] ?? 0) ^ 0xff; // inside the second record
    await expect(replica.applyReplicated(0, damaged)).rejects.toThrow(/no valid record at \d+/);
    // The first, good record stayed applied; the stream goes on from there.
    expect(replica.commitLogEnd).toBe(firstSize);
    await follow(master, replica, 4096);
    expect(await view(replica)).toEqual(await view(master));
    // A replica with another segment size would place records elsewhere: refused.
    const { s: other } = await store({ segmentSize: 128 * 1024 });
    await fill(master, 400, 20);
    await expect(follow(master, other, 64 * 1024)).rejects.toThrow(/filler|would land at/);
  });

  it('serves only confirmed, retained bytes', async () => {
    const { s: master } = await store();
    expect(await master.readForReplica(0, 4096)).toEqual({ bytes: Buffer.alloc(0), next: 0 });
    expect(await master.readForReplica(10, 4096)).toBeNull();
    await fill(master, 5);
    // Whole records only: asked for 10 bytes, it sends the first record whole.
    const first = (await master.readForReplica(0, 10))!;
    expect(first.bytes.length).toBe(first.bytes.readInt32BE(0));
    expect(first.next).toBe(first.bytes.length);
    const all = (await master.readForReplica(0, 1 << 20))!;
    expect(all.next).toBe(master.commitLogEnd);
    expect(await master.readForReplica(master.commitLogEnd + 1, 10)).toBeNull();
    expect(await master.readForReplica(1, 4096)).toBeNull(); // not a record boundary
  });
});
