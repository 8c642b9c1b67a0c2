import { afterEach, describe, expect, it } from 'vitest';
import type { MetaFeedPosition, TopicConfig } from './api.js';
import { MAX_META_FRAME_BYTES, type MetaChange, MetaFeedError, changeSize, decodeChanges, encodeChanges, generationToBytes } from './meta-change-codec.js';
import { MAX_META_VALUE_BYTES } from './meta-kv.js';
import type { DefaultMessageStore } from './message-store.js';
import { openTestStore, tempDir } from './test-support.js';

const cleanups: Array<() => void> = [];
const stores: DefaultMessageStore[] = [];

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => {});
  for (const c of cleanups.splice(0)) c();
});

async function newStore(dir?: string): Promise<DefaultMessageStore> {
  if (dir === undefined) {
    const t = tempDir('apg-metafeed-');
    cleanups.push(t.cleanup);
    dir = t.dir;
  }
  const s = await openTestStore(dir);
  stores.push(s);
  return s;
}

async function reopen(s: DefaultMessageStore): Promise<DefaultMessageStore> {
  await s.close();
  stores.splice(stores.indexOf(s), 1);
  return newStore(s.cfg.dataDir);
}

const GROUPS = ['G1', 'G2', '%LMQ%session-a', 'CID_RMQ_SYS_TRANS'];
const NAMESPACES = [
  'mqtt-session',
  'mqtt-retained',
  'timer',
  'timer-state',
  'topicFilterHolders',
  'transaction-checks',
  'broker.subscription-group',
  'store.retention-floor',
];

function topicConfig(name: string, queues: number, perm = 6): TopicConfig {
  return {
    topicName: name,
    readQueueNums: queues,
    writeQueueNums: queues,
    perm,
    topicFilterType: 'SINGLE_TAG',
    topicSysFlag: 0,
    order: false,
    attributes: { '+x': String(queues) },
  };
}

/** Everything a replica must hold equal to its master, through the public read API. */
function replicatedState(s: DefaultMessageStore) {
  const offsets: Record<string, unknown> = {};
  for (const g of GROUPS) {
    offsets[g] = s
      .listConsumerOffsets(g)
      .map((o) => ({ ...o, read: s.getConsumerOffset(g, o.topic, o.queueId) }))
      .sort((a, b) => (a.topic === b.topic ? a.queueId - b.queueId : a.topic < b.topic ? -1 : 1));
  }
  const meta: Record<string, Array<{ key: string; value: string }>> = {};
  for (const ns of NAMESPACES) meta[ns] = [...s.metaScan(ns)].map((e) => ({ key: e.key, value: e.value.toString('hex') }));
  return {
    offsets,
    topics: s.listTopicConfigs().sort((a, b) => (a.topicName < b.topicName ? -1 : 1)),
    meta,
    retentionFloor: s.retentionFloor(),
  };
}

/** A scripted mix of every kind of metadata mutation; step i of n. */
async function mutate(s: DefaultMessageStore, i: number): Promise<void> {
  const v = (x: string) => Buffer.from(`${x}-${i}`);
  switch (i % 12) {
    case 0:
      await s.commitOffset('G1', 'T0', i % 4, i);
      break;
    case 1:
      await Promise.all([s.commitOffset('G1', 'T0', 0, i * 10), s.commitOffset('G2', 'T1', 1, i), s.commitOffset('%LMQ%session-a', '%LMQ%session-a', 0, i)]);
      break;
    case 2:
      await s.putTopicConfig(topicConfig(`T${i % 5}`, 1 + (i % 8)));
      break;
    case 3:
      await s.metaPut('mqtt-session', `client-${i % 7}`, v('session'));
      break;
    case 4:
      await s.metaPut('mqtt-retained', `a/b/${i % 3}`, v('retained'));
      await s.metaPut('timer', `due-${String(i).padStart(6, '0')}`, v('timer'));
      break;
    case 5:
      await s.metaDelete('mqtt-session', `client-${(i + 3) % 7}`);
      await s.metaPut('store.local.scratch', `k${i}`, v('local'));
      break;
    case 6:
      if (i % 24 === 6) await s.deleteConsumerOffsets('G1', 'T0');
      else await s.deleteConsumerOffsets('G2');
      break;
    case 7:
      await s.deleteTopicConfig(`T${(i + 2) % 5}`);
      await s.metaPut('broker.subscription-group', `group-${i % 4}`, Buffer.from(JSON.stringify({ groupName: `group-${i % 4}`, retryMaxTimes: i })));
      break;
    case 8:
      await s.setRetentionFloor('timer', 1000 + i);
      await s.metaPut('timer-state', 'cursor', v('cursor'));
      break;
    case 9:
      await s.metaPut('topicFilterHolders', `h${i % 3}`, v('holder'));
      await s.metaPut('transaction-checks', `half-${i}`, v('3'));
      break;
    case 10:
      if (i % 24 === 10) await s.metaDelete('timer', `due-${String(i - 6).padStart(6, '0')}`);
      await s.metaDelete('broker.subscription-group', `group-${(i + 1) % 4}`);
      break;
    case 11:
      await s.commitOffset('CID_RMQ_SYS_TRANS', 'RMQ_SYS_TRANS_HALF_TOPIC', 0, i);
      if (i % 36 === 11) await s.setRetentionFloor('timer', null);
      break;
  }
}

/** Feeds `replica` from `master` in pieces of about `maxBytes` until it is at the master's position. */
async function pump(master: DefaultMessageStore, replica: DefaultMessageStore, from: MetaFeedPosition, maxBytes: number): Promise<MetaFeedPosition> {
  let pos = from;
  for (let rounds = 0; ; rounds++) {
    const bytes = master.readMetaChanges(pos.generation, pos.seq, maxBytes);
    if (bytes === null) throw new Error(`position ${pos.seq} fell out of the journal`);
    pos = await replica.applyMetaChanges(bytes);
    if (pos.seq === master.metaFeedPosition().seq) return pos;
    if (rounds > 100_000) throw new Error('pump does not progress');
  }
}

/** A snapshot's chunks in memory (so the same bytes can be replayed or altered). */
async function snapshotChunks(s: DefaultMessageStore): Promise<{ position: MetaFeedPosition; chunks: Buffer[] }> {
  const snap = s.readMetaSnapshot();
  const chunks: Buffer[] = [];
  for await (const c of snap.chunks) chunks.push(c);
  return { position: snap.position, chunks };
}

async function expectRefused(p: Promise<unknown>, reason: MetaFeedError['reason'], text?: RegExp): Promise<MetaFeedError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MetaFeedError);
  const e = err as MetaFeedError;
  expect(e.reason).toBe(reason);
  expect(e.code).toBe(`APG_STORE_META_FEED_${reason}`);
  if (text) expect(e.message).toMatch(text);
  return e;
}

describe('metadata feed', () => {
  it('brings a replica fed changes in small pieces, and one fed a mid-way snapshot then changes, to the master state', async () => {
    const master = await newStore();
    // Queues that exist on the master but not (yet) on the replicas: their offsets are kept by name there.
    for (let q = 0; q < 4; q++) await master.put({ topic: 'T0', queueId: q, body: Buffer.from('m') });
    const r1 = await newStore();
    const r2 = await newStore();
    let p1 = await r1.applyMetaSnapshot(master.readMetaSnapshot().chunks);
    let snap2: { position: MetaFeedPosition; chunks: Buffer[] } | undefined;
    const steps = 240;
    for (let i = 0; i < steps; i++) {
      await mutate(master, i);
      if (i % 5 === 4) p1 = await pump(master, r1, p1, 64);
      if (i === steps / 2) snap2 = await snapshotChunks(master);
    }
    expect(snap2!.chunks.length).toBeGreaterThan(0);
    // r2 applies its snapshot late (the master moved on), then the changes since the snapshot.
    let p2 = await r2.applyMetaSnapshot(snap2!.chunks);
    expect(p2).toEqual(snap2!.position);
    p2 = await pump(master, r2, p2, 1000);
    p1 = await pump(master, r1, p1, 64);
    expect(p1).toEqual(master.metaFeedPosition());
    expect(p2).toEqual(master.metaFeedPosition());

    const want = replicatedState(master);
    expect(want.offsets['G1']).not.toEqual([]);
    expect(want.topics.length).toBeGreaterThan(0);
    expect(want.meta['timer']!.length).toBeGreaterThan(0);
    expect(want.retentionFloor).not.toBeNull();
    expect(replicatedState(r1)).toEqual(want);
    expect(replicatedState(r2)).toEqual(want);
    // Local namespaces stay local; the replicas have no T0 queues, yet read the master's offsets.
    expect([...r1.metaScan('store.local.scratch')]).toEqual([]);
    expect([...master.metaScan('store.local.scratch')].length).toBeGreaterThan(0);
    expect(r1.hasQueue('T0', 0)).toBe(false);

    // And still after a reopen of the replica (its state is durable).
    const r1b = await reopen(r1);
    expect(replicatedState(r1b)).toEqual(want);
  });

  it('keeps a replica’s offsets of queues it has no messages of yet, and moves them to the queue once it has', async () => {
    const master = await newStore();
    const replica = await newStore();
    let pos = await replica.applyMetaSnapshot(master.readMetaSnapshot().chunks);
    for (let i = 0; i < 10; i++) await master.put({ topic: 'TQ', queueId: 2, body: Buffer.from(`m${i}`) });
    await master.commitOffset('G1', 'TQ', 2, 7);
    pos = await pump(master, replica, pos, 4096);
    expect(replica.hasQueue('TQ', 2)).toBe(false);
    expect(replica.getConsumerOffset('G1', 'TQ', 2)).toBe(7);
    expect(replica.listConsumerOffsets('G1')).toEqual([{ topic: 'TQ', queueId: 2, offset: 7 }]);
    // The messages replicate: the queue appears, the offset reads the same.
    let from = 0;
    for (;;) {
      const chunk = await master.readForReplica(from, 1 << 20);
      if (!chunk || chunk.bytes.length === 0) break;
      await replica.applyReplicated(from, chunk.bytes);
      from = chunk.next;
    }
    expect(replica.getMaxOffset('TQ', 2)).toBe(10);
    expect(replica.getConsumerOffset('G1', 'TQ', 2)).toBe(7);
    await master.commitOffset('G1', 'TQ', 2, 9);
    pos = await pump(master, replica, pos, 4096);
    expect(replica.getConsumerOffset('G1', 'TQ', 2)).toBe(9);
    expect(replica.listConsumerOffsets('G1')).toEqual([{ topic: 'TQ', queueId: 2, offset: 9 }]);
    expect([...replica.metaScan('store.local.offsets-by-name')]).toEqual([]);
    await master.deleteConsumerOffsets('G1');
    pos = await pump(master, replica, pos, 4096);
    expect(replica.getConsumerOffset('G1', 'TQ', 2)).toBeUndefined();
    // Names at their limits (an LMQ group and topic of 1,024 bytes each) are kept by name too.
    const long = `%LMQ%${'x'.repeat(1019)}`;
    await master.commitOffset(long, long, 0, 42);
    pos = await pump(master, replica, pos, 4096);
    expect(replica.hasQueue(long, 0)).toBe(false);
    expect(replica.getConsumerOffset(long, long, 0)).toBe(42);
    expect(replica.listConsumerOffsets(long)).toEqual([{ topic: long, queueId: 0, offset: 42 }]);
    // Beyond them the master refuses, so it never records what a replica would refuse.
    await expect(master.commitOffset(`${long}y`, 'T', 0, 1)).rejects.toThrow(/longer than 1024 bytes/);
    await expect(master.putTopicConfig({ ...topicConfig('TQ', 1), attributes: { big: 'x'.repeat(70_000) } })).rejects.toThrow(/the limit is 65536/);
  });

  it('coalesces consumer-offset commits of one queue: a hot consumer leaves one journal entry', async () => {
    const s = await newStore();
    const start = s.metaFeedPosition();
    const commits: Array<Promise<void>> = [];
    for (let i = 1; i <= 5000; i++) commits.push(s.commitOffset('G1', 'T', 0, i));
    await Promise.all(commits);
    expect(s.metaFeed.stats().changes).toBe(1);
    // Interleaved with another queue's and other changes: one entry per offset, the others in order.
    for (let i = 1; i <= 100; i++) {
      const w = [s.commitOffset('G1', 'T', 0, 5000 + i), s.commitOffset('G2', 'T', 1, i)];
      if (i % 25 === 0) w.push(s.metaPut('ns', `k${i}`, Buffer.from('v')));
      if (i % 10 === 0) await Promise.all(w);
    }
    expect(s.metaFeed.stats().changes).toBe(2 + 4);
    const d = decodeChanges(s.readMetaChanges(start.generation, start.seq, 1 << 20)!);
    expect(d.toSeq).toBe(s.metaFeedPosition().seq);
    expect(d.changes.filter((c) => c.kind === 'offset')).toEqual([
      { kind: 'offset', group: 'G1', topic: 'T', queueId: 0, offset: 5100 },
      { kind: 'offset', group: 'G2', topic: 'T', queueId: 1, offset: 100 },
    ]);
    expect(d.changes.filter((c) => c.kind === 'meta').map((c) => (c.kind === 'meta' ? c.key : ''))).toEqual(['k25', 'k50', 'k75', 'k100']);
    // A delete supersedes the commit.
    await s.deleteConsumerOffsets('G2');
    const d2 = decodeChanges(s.readMetaChanges(start.generation, start.seq, 1 << 20)!);
    expect(d2.changes.filter((c) => c.kind.startsWith('offset')).map((c) => c.kind)).toEqual(['offset', 'offset-delete']);
  });

  it('answers null for a position that fell out of the journal, of another generation or ahead; changes since a reopen get a new generation', async () => {
    let s = await newStore();
    const start = s.metaFeedPosition();
    expect(start.seq).toBe(0);
    expect(start.generation).toMatch(/^[0-9a-f]{32}$/);
    expect(decodeChanges(s.readMetaChanges(start.generation, 0, 1000)!).changes).toEqual([]);
    s.metaFeed.setLimits(10_000, 10);
    for (let i = 0; i < 25; i++) await s.metaPut('ns', `k${i}`, Buffer.from('v'));
    const now = s.metaFeedPosition();
    expect(s.metaFeed.stats().changes).toBe(10);
    expect(s.readMetaChanges(start.generation, 0, 1 << 20)).toBeNull();
    expect(s.readMetaChanges(start.generation, now.seq - 11, 1 << 20)).toBeNull();
    const tail = decodeChanges(s.readMetaChanges(start.generation, now.seq - 10, 1 << 20)!);
    expect(tail.changes.length).toBe(10);
    expect(s.readMetaChanges(start.generation, now.seq + 1, 1 << 20)).toBeNull();
    expect(s.readMetaChanges('0'.repeat(32), now.seq, 1 << 20)).toBeNull();
    // Bounded by bytes as well.
    s.metaFeed.setLimits(3000, 1000);
    await s.metaPut('ns', 'big', Buffer.alloc(2000));
    await s.metaPut('ns', 'big2', Buffer.alloc(2000));
    expect(s.metaFeed.stats().changes).toBe(1);
    expect(s.metaFeed.stats().bytes).toBeLessThanOrEqual(3000);

    s = await reopen(s);
    const after = s.metaFeedPosition();
    expect(after.generation).not.toBe(start.generation);
    expect(after.seq).toBe(0);
    expect(s.readMetaChanges(start.generation, now.seq, 1 << 20)).toBeNull();
    // The state itself survived and a snapshot carries it.
    const replica = await newStore();
    await replica.applyMetaSnapshot(s.readMetaSnapshot().chunks);
    expect(replica.metaGet('ns', 'k24')?.toString()).toBe('v');
  });

  it('refuses damaged, truncated, oversized, foreign-version and misplaced change bytes with MetaFeedError, state unchanged', async () => {
    const master = await newStore();
    const replica = await newStore();
    let pos = await replica.applyMetaSnapshot(master.readMetaSnapshot().chunks);
    await master.commitOffset('G1', 'T', 0, 5);
    await master.metaPut('mqtt-session', 'c1', Buffer.from('s1'));
    pos = await pump(master, replica, pos, 4096);
    const before = replicatedState(replica);
    await master.commitOffset('G1', 'T', 0, 6);
    await master.putTopicConfig(topicConfig('T', 4));
    await master.metaPut('mqtt-session', 'c2', Buffer.from('s2'));
    const good = master.readMetaChanges(pos.generation, pos.seq, 1 << 20)!;

    const flipped = Buffer.from(good);
    flipped[flipped.length - 10]! ^= 0x40;
    await expectRefused(replica.applyMetaChanges(flipped), 'DAMAGED', /CRC-32/);
    await expectRefused(replica.applyMetaChanges(good.subarray(0, good.length - 7)), 'DAMAGED');
    await expectRefused(replica.applyMetaChanges(good.subarray(0, 10)), 'DAMAGED', /truncated/);
    await expectRefused(replica.applyMetaChanges(Buffer.alloc(0)), 'DAMAGED', /truncated/);
    const v2 = Buffer.from(good);
    v2[0] = 2;
    await expectRefused(replica.applyMetaChanges(v2), 'UNSUPPORTED_VERSION', /version 2/);
    await expectRefused(replica.applyMetaChanges(Buffer.alloc(MAX_META_FRAME_BYTES + 1, 1)), 'TOO_LARGE');
    const gen = generationToBytes(pos.generation);
    // Well-formed frames (valid CRC) whose content breaks the store's limits or rules.
    const frame = (changes: MetaChange[]) =>
      encodeChanges(
        gen,
        pos.seq,
        pos.seq + 1,
        changes,
        changes.reduce((n, c) => n + changeSize(c), 0),
      );
    await expectRefused(
      replica.applyMetaChanges(frame([{ kind: 'meta', namespace: 'ns', key: 'k', value: Buffer.alloc(MAX_META_VALUE_BYTES + 1) }])),
      'TOO_LARGE',
      /limit/,
    );
    await expectRefused(replica.applyMetaChanges(frame([{ kind: 'meta', namespace: 'ns', key: 'k'.repeat(1600), value: Buffer.alloc(1) }])), 'TOO_LARGE');
    await expectRefused(replica.applyMetaChanges(frame([{ kind: 'offset', group: '', topic: 'T', queueId: 0, offset: 1 }])), 'DAMAGED', /group is empty/);
    await expectRefused(replica.applyMetaChanges(frame([{ kind: 'offset', group: 'G', topic: 'bad topic', queueId: 0, offset: 1 }])), 'DAMAGED');
    await expectRefused(
      replica.applyMetaChanges(frame([{ kind: 'meta', namespace: 'store.local.offsets-by-name', key: 'k', value: Buffer.alloc(1) }])),
      'DAMAGED',
      /never replicates/,
    );
    await expectRefused(
      replica.applyMetaChanges(frame([{ kind: 'topic', config: { ...topicConfig('T', 1), perm: 'rw' as unknown as number } }])),
      'DAMAGED',
      /perm/,
    );
    // The first change good, the second bad: nothing of the batch is applied.
    await expectRefused(
      replica.applyMetaChanges(
        frame([
          { kind: 'meta', namespace: 'mqtt-session', key: 'c9', value: Buffer.from('x') },
          { kind: 'offset', group: 'G\u0000', topic: 'T', queueId: 0, offset: 1 },
        ]),
      ),
      'DAMAGED',
    );
    // Not where the replica is.
    await expectRefused(replica.applyMetaChanges(master.readMetaChanges(pos.generation, pos.seq + 1, 1 << 20)!), 'NOT_CONTIGUOUS', /this replica is at/);
    const fresh = await newStore();
    await expectRefused(fresh.applyMetaChanges(good), 'NOT_CONTIGUOUS', /apply a snapshot first/);
    expect(replicatedState(replica)).toEqual(before);

    // The good bytes still apply, and twice is refused.
    pos = await replica.applyMetaChanges(good);
    expect(replicatedState(replica)).toEqual(replicatedState(master));
    await expectRefused(replica.applyMetaChanges(good), 'NOT_CONTIGUOUS');
  });

  it('applies a snapshot as a replacement, atomically; a damaged or incomplete snapshot changes nothing', async () => {
    const master = await newStore();
    for (let i = 0; i < 300; i++) await master.metaPut('timer', `t${String(i).padStart(4, '0')}`, Buffer.alloc(2000, i));
    await master.commitOffset('G1', 'T0', 0, 3);
    await master.putTopicConfig(topicConfig('T0', 2));
    const snap = await snapshotChunks(master);
    expect(snap.chunks.length).toBeGreaterThan(1);

    const replica = await newStore();
    // The replica's own state, which the snapshot replaces: absent entries go, local ones stay.
    await replica.commitOffset('G1', 'T9', 0, 99);
    await replica.commitOffset('G2', 'T0', 0, 1);
    await replica.putTopicConfig(topicConfig('T9', 1));
    await replica.metaPut('mqtt-session', 'stale', Buffer.from('x'));
    await replica.metaPut('timer', 't0001', Buffer.from('old'));
    await replica.metaPut('store.local.mine', 'k', Buffer.from('kept'));
    const before = replicatedState(replica);

    const damaged = snap.chunks.map((c) => Buffer.from(c));
    damaged[1]![40]! ^= 1;
    await expectRefused(replica.applyMetaSnapshot(damaged), 'DAMAGED', /CRC/);
    await expectRefused(replica.applyMetaSnapshot(snap.chunks.slice(0, -1)), 'DAMAGED', /before its last chunk/);
    await expectRefused(replica.applyMetaSnapshot([snap.chunks[1]!, snap.chunks[0]!]), 'DAMAGED', /chunk 1 where chunk 0/);
    await expectRefused(replica.applyMetaSnapshot([...snap.chunks, snap.chunks[0]!]), 'DAMAGED', /after the last/);
    await expectRefused(replica.applyMetaSnapshot([]), 'DAMAGED', /no chunks/);
    expect(replicatedState(replica)).toEqual(before);

    const seen: number[] = [];
    replica.onMetaChange((p) => seen.push(p.seq));
    const pos = await replica.applyMetaSnapshot(snap.chunks);
    expect(pos).toEqual(snap.position);
    expect(replicatedState(replica)).toEqual(replicatedState(master));
    expect(replica.getConsumerOffset('G1', 'T9', 0)).toBeUndefined();
    expect(replica.listConsumerOffsets('G2')).toEqual([]);
    expect(replica.getTopicConfig('T9')).toBeUndefined();
    expect(replica.metaGet('store.local.mine', 'k')?.toString()).toBe('kept');
    // The replica's own feed restarts: its replicas need a snapshot.
    expect(seen.length).toBe(1);
    const own = replica.metaFeedPosition();
    expect(replica.readMetaChanges(own.generation, own.seq - 1, 1000)).toBeNull();
    // Durable: the same after a reopen.
    const again = await reopen(replica);
    expect(replicatedState(again)).toEqual(replicatedState(master));
  });

  it('snapshots the state as of the call, however late its chunks are read', async () => {
    const master = await newStore();
    for (let i = 0; i < 200; i++) await master.metaPut('timer', `t${String(i).padStart(4, '0')}`, Buffer.alloc(3000, i));
    await master.commitOffset('G1', 'T0', 0, 3);
    const want = replicatedState(master);
    const snap = master.readMetaSnapshot();
    // The master moves on before the chunks are read.
    await master.metaPut('timer', 't0001', Buffer.from('changed'));
    await master.metaDelete('timer', 't0002');
    await master.metaPut('timer', 'zzz', Buffer.from('new'));
    await master.commitOffset('G1', 'T0', 0, 4);
    await master.putTopicConfig(topicConfig('T0', 3));
    const replica = await newStore();
    let pos = await replica.applyMetaSnapshot(snap.chunks);
    expect(replicatedState(replica)).toEqual(want);
    pos = await pump(master, replica, pos, 100);
    expect(replicatedState(replica)).toEqual(replicatedState(master));
    expect(replica.metaGet('timer', 't0001')?.toString()).toBe('changed');
  });

  it('tells listeners once per burst of changes', async () => {
    const s = await newStore();
    const seen: MetaFeedPosition[] = [];
    const off = s.onMetaChange((p) => seen.push(p));
    const writes = [s.commitOffset('G', 'T', 0, 1), s.metaPut('ns', 'a', Buffer.from('1')), s.putTopicConfig(topicConfig('T', 1))];
    await Promise.resolve();
    expect(seen).toEqual([s.metaFeedPosition()]);
    await Promise.all(writes);
    off();
    await s.metaDelete('ns', 'a');
    expect(seen.length).toBe(1);
  });
});
