/**
 * The metadata feed over the HA connection (docs/ha-design.md decisions 2 and 4): real stores in
 * temp directories, a real HaServer and HaReplica over loopback (and a scripted master for the
 * frames a real one never sends).
 */
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type MessageStore, type TopicConfig, openStore } from '@apogee/store';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ACK_BYTES,
  ByteQueue,
  META_CHANGES_HEADER_BYTES,
  META_SNAPSHOT_HEADER_BYTES,
  type MetaPosition,
  type MetaSnapshotHeader,
  decodeAck,
  encodeAnswer,
  encodeHandshake,
  encodeMetaChangesHeader,
  encodeMetaSnapshotHeader,
} from './frames.js';
import type { HaLogger } from './ha-server.js';
import { HaReplica } from './ha-replica.js';
import { HaServer, type HaServerOptions } from './ha-server.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-ha-meta-'));
  cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A store on `dir` (a fresh temp directory by default), closed after the test unless `keep`. */
async function store(dir = tempDir(), keep = false): Promise<{ s: MessageStore; dir: string }> {
  const s = await openStore({ dataDir: dir, segmentSize: 64 * 1024 }, quiet);
  if (!keep) cleanups.push(() => s.close());
  return { s, dir };
}

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
  if (!ok()) throw new Error(`timed out waiting for ${what}`);
}

async function serve(master: MessageStore, opts: Partial<HaServerOptions> = {}): Promise<{ server: HaServer; port: number }> {
  const server = new HaServer({ store: master, log: quiet, heartbeatMs: 100, ...opts });
  const addr = await server.listen(0);
  cleanups.push(() => server.close());
  return { server, port: Number(addr.split(':')[1]) };
}

/** A logger keeping the warnings' reasons and the info messages. */
function recording(): HaLogger & { reasons: string[]; infos: string[] } {
  const reasons: string[] = [];
  const infos: string[] = [];
  return {
    reasons,
    infos,
    info: (_o: object, msg: string) => infos.push(msg),
    warn: (o: { reason?: string }) => {
      if (o.reason) reasons.push(o.reason);
    },
  };
}

function follow(s: MessageStore, port: number, extra: Partial<ConstructorParameters<typeof HaReplica>[0]> = {}): HaReplica {
  const r = new HaReplica({ store: s, master: { host: '127.0.0.1', port }, replicaId: 1, log: quiet, reconnectMs: 50, ...extra });
  cleanups.push(() => r.stop());
  r.start();
  return r;
}

const NAMESPACES = ['mqtt-session', 'mqtt-retained', 'timer', 'broker.subscription-group', 'topicFilterHolders'];
const byName = (a: TopicConfig, b: TopicConfig) => (a.topicName < b.topicName ? -1 : a.topicName > b.topicName ? 1 : 0);
const config = (topicName: string, queues: number, attributes: Record<string, string> = {}): TopicConfig => ({
  topicName,
  readQueueNums: queues,
  writeQueueNums: queues,
  perm: 6,
  topicFilterType: 'SINGLE_TAG',
  topicSysFlag: 0,
  order: false,
  attributes,
});

/**
 * A store's replicated metadata through every read API: topic configs (listed and got), consumer
 * offsets of `groups` (listed and got, for the queues either store lists), meta KV of each
 * namespace (scanned, by prefix, and got).
 */
function metaView(s: MessageStore, groups: string[], probe: MessageStore) {
  const topics = s.listTopicConfigs().sort(byName);
  const topicNames = new Set([...topics, ...probe.listTopicConfigs()].map((t) => t.topicName));
  const offsets: Record<string, unknown> = {};
  for (const g of groups) {
    const listed = s.listConsumerOffsets(g).sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.queueId - b.queueId));
    const got = [...listed, ...probe.listConsumerOffsets(g)].map((o) => [o.topic, o.queueId, s.getConsumerOffset(g, o.topic, o.queueId)]);
    offsets[g] = { listed, got: got.sort() };
  }
  const kv: Record<string, unknown> = {};
  for (const ns of NAMESPACES) {
    const scanned = [...s.metaScan(ns)].map((e) => [e.key, e.value.toString('base64')]);
    const keys = new Set([...scanned.map((e) => e[0]!), ...[...probe.metaScan(ns)].map((e) => e.key)]);
    kv[ns] = {
      scanned,
      prefixed: [...s.metaScan(ns, 'k1')].map((e) => e.key),
      limited: [...s.metaScan(ns, '', 2)].map((e) => e.key),
      got: [...keys].sort().map((k) => [k, s.metaGet(ns, k)?.toString('base64')]),
    };
  }
  return { topics, got: [...topicNames].sort().map((t) => s.getTopicConfig(t)), offsets, kv };
}

const GROUPS = ['g1', 'g2', 'CID_RMQ_SYS_TRANS', '%LMQ%sess'];
const sameMeta = (replica: MessageStore, master: MessageStore) => () =>
  JSON.stringify(metaView(replica, GROUPS, master)) === JSON.stringify(metaView(master, GROUPS, replica));

async function putMessages(s: MessageStore, n: number, topic = 'T'): Promise<Array<{ end: number; queueOffset: number; queueId: number }>> {
  const out: Array<{ end: number; queueOffset: number; queueId: number }> = [];
  for (let i = 0; i < n; i++) {
    const r = await s.put({ topic, queueId: i % 2, body: Buffer.alloc(300, i), properties: {} });
    out.push({ end: r.commitLogOffset + r.size, queueOffset: r.queueOffset, queueId: i % 2 });
  }
  return out;
}

/** The first scripted mix: configs, offsets (queues with and without messages, LMQ groups), KV in several namespaces, deletes. */
async function scriptBefore(m: MessageStore): Promise<void> {
  await putMessages(m, 20);
  await m.putTopicConfig(config('T', 2));
  await m.putTopicConfig(config('Orders', 8, { '+message.type': 'FIFO' }));
  await m.putTopicConfig(config('Gone', 1));
  await m.commitOffset('g1', 'T', 0, 5);
  await m.commitOffset('g1', 'T', 1, 3);
  await m.commitOffset('g2', 'T', 0, 9);
  await m.commitOffset('g2', 'NoMessages', 4, 7); // a queue neither store has messages of
  await m.commitOffset('CID_RMQ_SYS_TRANS', 'T', 1, 2);
  for (let i = 0; i < 12; i++) await m.metaPut(NAMESPACES[i % NAMESPACES.length]!, `k${i}`, Buffer.from(`value ${i} `.repeat(i + 1)));
  await m.metaPut('broker.subscription-group', 'g1', Buffer.from(JSON.stringify({ groupName: 'g1', retryMaxTimes: 4 })));
  await m.metaPut('topicFilterHolders', 'mqtt:c1', Buffer.from(JSON.stringify({ v: 1, filters: ['a/+'], expirySeconds: -1, disconnectedAt: 0 })));
  await m.metaPut('store.local.mine', 'x', Buffer.from('never replicated'));
  await m.deleteTopicConfig('Gone');
  await m.metaDelete('timer', 'k2');
}

/** The second: while the replica follows, and again after (updates, coalesced commits, deletes of every kind). */
async function scriptAfter(m: MessageStore, round: number): Promise<void> {
  const sent = await putMessages(m, 10);
  for (const [i, r] of sent.entries()) await m.commitOffset('g1', 'T', r.queueId, r.queueOffset + 1 + (i % 3));
  await m.putTopicConfig(config(`New${round}`, 3));
  await m.putTopicConfig(config('Orders', 16));
  await m.metaPut('mqtt-session', `k1-${round}`, Buffer.from(`session ${round}`));
  await m.metaPut('mqtt-retained', 'k10', Buffer.from(`replaced ${round}`));
  await m.metaDelete('mqtt-session', 'k0');
  await m.deleteConsumerOffsets('g2', 'NoMessages');
  await m.commitOffset('%LMQ%sess', '%LMQ%sess', 0, round);
  await m.metaPut('broker.subscription-group', `g-${round}`, Buffer.from(JSON.stringify({ groupName: `g-${round}` })));
}

describe('HA port: the metadata feed', () => {
  it("replicates metadata written before and while the replica follows: the replica's equals the master's through every read API", async () => {
    const { s: master } = await store();
    await scriptBefore(master);
    const { server, port } = await serve(master);
    const { s: r } = await store();
    let applied = 0;
    const replica = follow(r, port, { onMetaApplied: () => applied++ });
    await scriptAfter(master, 1);
    await until('equal metadata', sameMeta(r, master));
    await scriptAfter(master, 2);
    await until('equal metadata again', sameMeta(r, master));
    expect(metaView(r, GROUPS, master)).toEqual(metaView(master, GROUPS, r));
    // Spot checks of what the view covers.
    expect(r.getTopicConfig('Orders')?.readQueueNums).toBe(16);
    expect(r.getTopicConfig('Gone')).toBeUndefined();
    expect(r.getConsumerOffset('g2', 'T', 0)).toBe(9);
    expect(r.getConsumerOffset('g2', 'NoMessages', 4)).toBeUndefined();
    expect(r.metaGet('mqtt-session', 'k0')).toBeUndefined();
    expect(r.metaGet('store.local.mine', 'x')).toBeUndefined();
    await until('the ack of the last position', () => {
      const v = server.replicas()[0];
      return v?.metaAcked?.seq === master.metaFeedPosition().seq;
    });
    expect(server.replicas()[0]).toMatchObject({ metaSnapshots: 1, metaAcked: master.metaFeedPosition() });
    expect(replica.metaPosition).toEqual(master.metaFeedPosition());
    expect(replica.metaSnapshots).toBe(1);
    expect(applied).toBeGreaterThanOrEqual(2);
  });

  it('gives a replica whose store was reopened (a restart) a snapshot, which removes what the master no longer has', async () => {
    const { s: master } = await store();
    await scriptBefore(master);
    const { server, port } = await serve(master);
    const rs = await store(undefined, true);
    let replica = follow(rs.s, port);
    await until('equal metadata', sameMeta(rs.s, master));
    await replica.stop();
    await rs.s.close();
    // While it is down: more, and deletes of every kind.
    await scriptAfter(master, 3);
    await master.deleteTopicConfig('Orders');
    await master.deleteConsumerOffsets('g1');
    for (const ns of NAMESPACES) for (const { key } of [...master.metaScan(ns, 'k1')]) await master.metaDelete(ns, key);
    const reopened = (await store(rs.dir)).s;
    // The reopened store still holds the state of before, which the snapshot must correct.
    expect(reopened.getTopicConfig('Orders')).toBeDefined();
    replica = follow(reopened, port);
    // (The store's reads see a snapshot's writes before they are durable, and the follower counts it once they are.)
    await until('equal metadata after the restart', () => sameMeta(reopened, master)() && replica.metaSnapshots === 1);
    expect(reopened.getTopicConfig('Orders')).toBeUndefined();
    expect(reopened.listConsumerOffsets('g1')).toEqual([]);
    expect([...reopened.metaScan('mqtt-session', 'k1')]).toEqual([]);
    expect(replica.metaSnapshots).toBe(1);
    await until('the replica listed', () => server.replicas().length === 1 && server.replicas()[0]!.metaSnapshots === 1);
    // It follows changes again afterwards.
    await scriptAfter(master, 4);
    await until('equal metadata, later', sameMeta(reopened, master));
  });

  it('sends a new snapshot on the same connection when the replica fell out of the journal while it was held up', async () => {
    const { s: master } = await store();
    // A small journal: 50 changes.
    (master as unknown as { metaFeed: { setLimits(bytes: number, changes: number): void } }).metaFeed.setLimits(1 << 20, 50);
    await scriptBefore(master);
    const log = recording();
    const { server, port } = await serve(master, { log });
    const { s: r } = await store();
    let release: (() => void) | null = null;
    let held = 0;
    const gated = new Proxy(r, {
      get(target, p) {
        if (p === 'applyMetaChanges')
          return async (bytes: Buffer) => {
            if (release === null) {
              held++;
              await new Promise<void>((resolve) => (release = resolve));
            }
            return target.applyMetaChanges(bytes);
          };
        const v: unknown = Reflect.get(target, p, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const replicaLog = recording();
    const replica = follow(gated, port, { log: replicaLog });
    await until('the first snapshot', () => replica.metaSnapshots === 1);
    // A change: its batch is held up in the replica; meanwhile 400 more push its position out of the journal.
    await master.metaPut('timer', 'first', Buffer.from('1'));
    await until('a batch held', () => held === 1);
    await Promise.all(Array.from({ length: 400 }, (_, i) => master.metaPut('timer', `t${i}`, Buffer.from(`v${i}`))));
    release!();
    await until('a second snapshot', () => replica.metaSnapshots === 2);
    await until('equal metadata', sameMeta(r, master));
    expect(server.replicas()[0]?.metaSnapshots).toBe(2);
    // One connection throughout.
    expect(replicaLog.infos.filter((m) => m === 'ha: following the master')).toHaveLength(1);
    expect(replicaLog.reasons).toEqual([]);
    expect(log.infos).toContain('ha: the replica needs a metadata snapshot');
    // Changes flow again after it.
    await master.metaPut('timer', 'after', Buffer.from('2'));
    await until('the later change', () => r.metaGet('timer', 'after')?.toString() === '2');
  });

  it('never applies metadata that refers to log offsets before the replica holds them', async () => {
    const { s: master } = await store();
    // Messages and a retained-like index (topic → the commit-log end of its record) and offsets, before the replica connects …
    const write = async (i: number) => {
      const [m] = await putMessages(master, 1, 'R');
      await master.metaPut('mqtt-retained', `t${i}`, Buffer.from(String(m!.end)));
      await master.commitOffset('g1', 'R', m!.queueId, m!.queueOffset + 1);
    };
    for (let i = 0; i < 60; i++) await write(i);
    // The master's log stream lags its confirmed end (each read is slow), so metadata could easily overtake it.
    const lagging = new Proxy(master, {
      get(target, p) {
        if (p === 'readForReplica')
          return async (from: number, max: number) => {
            await new Promise((res) => setTimeout(res, 10));
            return target.readForReplica(from, max);
          };
        const v: unknown = Reflect.get(target, p, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const { port } = await serve(lagging, { chunkBytes: 1024 });
    const { s: r } = await store();
    const violations: string[] = [];
    let applies = 0;
    // Each apply is checked against the log the replica holds when it starts (frames are applied
    // one at a time: the log does not grow during a meta apply).
    const check = async <T>(apply: () => Promise<T>): Promise<T> => {
      const end = r.commitLogEnd;
      const out = await apply();
      applies++;
      for (const { key, value } of r.metaScan('mqtt-retained')) {
        if (Number(value.toString()) > end) violations.push(`${key} → ${value.toString()} with the log at ${end}`);
      }
      for (const q of [0, 1]) {
        const o = r.getConsumerOffset('g1', 'R', q);
        if (o !== undefined && o > r.getMaxOffset('R', q)) violations.push(`offset ${o} of R:${q} past its end ${r.getMaxOffset('R', q)}`);
      }
      if (r.commitLogEnd !== end) violations.push('the log grew during a meta apply');
      return out;
    };
    const checked = new Proxy(r, {
      get(target, p) {
        if (p === 'applyMetaChanges') return (b: Buffer) => check(() => target.applyMetaChanges(b));
        if (p === 'applyMetaSnapshot') return (c: AsyncIterable<Buffer>) => check(() => target.applyMetaSnapshot(c));
        const v: unknown = Reflect.get(target, p, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const replicaLog = recording();
    const replica = follow(checked, port, { log: replicaLog });
    // … and more while it follows.
    for (let i = 60; i < 120; i++) await write(i);
    await until('the replica caught up, log and metadata', () => r.commitLogEnd === master.commitLogEnd && sameMeta(r, master)());
    expect(violations).toEqual([]);
    expect(applies).toBeGreaterThanOrEqual(2);
    expect(replica.metaSnapshots).toBe(1);
    expect(replicaLog.reasons).toEqual([]);
  });

  it('refuses a version 1 handshake with a clear reason', async () => {
    const { s: master } = await store();
    const log = recording();
    const { port } = await serve(master, { log });
    const v1 = encodeHandshake({ replicaId: 5, maxOffset: 0, epochs: [] });
    v1.writeUInt16BE(1, 4);
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write(v1));
      s.on('close', () => resolve());
      s.on('error', () => {});
    });
    expect(log.reasons).toEqual([expect.stringMatching(/HA protocol version 1 is not supported \(this broker speaks 2\)/)]);
  });
});

// ---------------------------------------------------------------- a scripted master: damaged and misplaced meta frames

/** The acks a replica sends on one connection, and a wait for its meta position. */
class Acks {
  private readonly q = new ByteQueue();
  meta: MetaPosition | null = null;
  constructor(s: net.Socket) {
    s.on('data', (c: Buffer) => {
      this.q.push(c);
      for (let b = this.q.take(ACK_BYTES); b; b = this.q.take(ACK_BYTES)) this.meta = decodeAck(b).meta ?? null;
    });
  }
}

/**
 * A master that answers the handshake (nothing to truncate, epoch 0) and then runs `script` on
 * the socket. Returns the port; the server is closed after the test.
 */
async function scripted(script: (s: net.Socket, acks: Acks) => Promise<void>): Promise<number> {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => {
      const acks = new Acks(s);
      s.write(encodeAnswer({ truncateTo: 0, masterEpoch: 0 }));
      script(s, acks).catch(() => s.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as net.AddressInfo).port;
}

interface SnapshotFrames {
  frames: Buffer[];
  /** Frame `i` again with its header changed. */
  with(i: number, over: Partial<MetaSnapshotHeader>): Buffer;
}

async function snapshotFrames(source: MessageStore, logOffset = 0): Promise<SnapshotFrames> {
  const snap = source.readMetaSnapshot();
  const chunks: Buffer[] = [];
  for await (const c of snap.chunks) chunks.push(c);
  const header = (i: number): MetaSnapshotHeader => ({
    epoch: 0,
    logOffset,
    generation: snap.position.generation,
    seq: snap.position.seq,
    chunkIndex: i,
    last: i === chunks.length - 1,
    size: chunks[i]!.length,
  });
  return {
    frames: chunks.map((c, i) => Buffer.concat([encodeMetaSnapshotHeader(header(i)), c])),
    with: (i, over) => Buffer.concat([encodeMetaSnapshotHeader({ ...header(i), ...over }), chunks[i]!]),
  };
}

const changesFrame = (batch: Buffer, logOffset = 0) => Buffer.concat([encodeMetaChangesHeader({ epoch: 0, logOffset, size: batch.length }), batch]);

/** Flips one byte of a frame's body (past its header), keeping the frame's layout. */
function damaged(frame: Buffer, headerBytes: number): Buffer {
  const b = Buffer.from(frame);
  const at = headerBytes + Math.floor((b.length - headerBytes) / 2);
  b[at] = b[at]! ^ 0x5a;
  return b;
}

describe('HA port: damaged and misplaced metadata frames', () => {
  it('close the connection and leave the replica as it was', async () => {
    const { s: source } = await store();
    await scriptBefore(source);
    // Enough state for a snapshot of several chunks (256 KiB each).
    for (let i = 0; i < 40; i++) await source.metaPut('mqtt-session', `big${i}`, Buffer.alloc(16 * 1024, i));
    const snap = await snapshotFrames(source);
    const frames = snap.frames;
    expect(frames.length).toBeGreaterThan(2);
    const at = source.metaFeedPosition();
    const before = metaView(source, GROUPS, source);
    await source.metaPut('mqtt-session', 'later', Buffer.from('x'));
    await source.putTopicConfig(config('Later', 1));
    const batch = source.readMetaChanges(at.generation, at.seq, 1 << 20)!;
    const { s: other } = await store();
    await other.putTopicConfig(config('OtherMaster', 2));

    const { s: r } = await store();
    /**
     * Runs a replica against a scripted master until `done` (by default: it closed the connection
     * with a reason, which is returned).
     */
    const against = async (script: (s: net.Socket, acks: Acks) => Promise<void>, done?: (replica: HaReplica) => boolean): Promise<string> => {
      const port = await scripted(script);
      const log = recording();
      const replica = new HaReplica({ store: r, master: { host: '127.0.0.1', port }, replicaId: 7, log, reconnectMs: 60_000 });
      replica.start();
      await until('the scripted connection is over', () => (done ? done(replica) : log.reasons.length > 0));
      await replica.stop();
      return log.reasons[0] ?? '';
    };
    const waitMeta = async (acks: Acks) => until('the meta ack', () => acks.meta !== null);
    const unchanged = () => expect(metaView(r, GROUPS, r)).toEqual(before);

    // A good snapshot, then a change batch with a flipped byte.
    let reason = await against(async (s, acks) => {
      for (const f of frames) s.write(f);
      await waitMeta(acks);
      s.write(damaged(changesFrame(batch), META_CHANGES_HEADER_BYTES));
    });
    expect(reason).toMatch(/metadata batch was refused, nothing of it applied: meta change batch: CRC-32 mismatch/);
    unchanged(); // the snapshot's state, not the batch's

    // A snapshot whose second chunk is damaged: none of it is applied (the replica keeps the state of before).
    reason = await against(async (s) => {
      s.write(frames[0]!);
      s.write(damaged(frames[1]!, META_SNAPSHOT_HEADER_BYTES));
    });
    expect(reason).toMatch(/metadata snapshot was refused, nothing of it applied: meta snapshot chunk: CRC-32 mismatch/);
    unchanged();

    // A snapshot cut off by the connection's end before its last chunk: not applied.
    let closedAfter = false;
    await against(
      async (s) => {
        s.write(frames[0]!);
        s.write(frames[1]!, () => {
          closedAfter = true;
          s.destroy();
        });
      },
      (replica) => closedAfter && !replica.connected,
    );
    await new Promise((res) => setTimeout(res, 50));
    unchanged();

    // Chunks out of order, of two snapshots mixed, a last flag too early.
    reason = await against(async (s) => {
      s.write(frames[1]!);
    });
    expect(reason).toMatch(/snapshot starting with chunk 1/);
    reason = await against(async (s) => {
      s.write(frames[0]!);
      s.write(frames[2]!);
    });
    expect(reason).toMatch(/chunk 2 of .* where chunk 1 of .* was due/);
    reason = await against(async (s) => {
      s.write(frames[0]!);
      s.write(snap.with(1, { seq: at.seq + 1 }));
    });
    expect(reason).toMatch(/where chunk 1 of .* was due/);
    reason = await against(async (s) => {
      s.write(snap.with(0, { last: true }));
    });
    expect(reason).toMatch(/metadata snapshot was refused, nothing of it applied: .*before its last chunk/);
    unchanged();

    // Changes before any snapshot on the connection, changes in the middle of one.
    reason = await against(async (s) => {
      s.write(changesFrame(batch));
    });
    expect(reason).toMatch(/metadata changes before the first metadata snapshot/);
    reason = await against(async (s) => {
      s.write(frames[0]!);
      s.write(changesFrame(batch));
    });
    expect(reason).toMatch(/metadata changes in the middle of a snapshot/);
    unchanged();

    // A meta frame read when the master's log was ahead of this replica's: refused (it may refer past the log).
    reason = await against(async (s, acks) => {
      for (const f of frames) s.write(f);
      await waitMeta(acks);
      s.write(changesFrame(batch, 4096));
    });
    expect(reason).toMatch(/confirmed to 4096, ahead of this replica's log \(0\)/);
    reason = await against(async (s) => {
      for (const f of (await snapshotFrames(other, 10)).frames) s.write(f);
    });
    expect(reason).toMatch(/confirmed to 10, ahead of this replica's log/);
    unchanged();

    // A batch that does not continue where the replica is (the snapshot's position): NOT_CONTIGUOUS.
    const stale = source.readMetaChanges(at.generation, at.seq - 1, 1 << 20)!;
    reason = await against(async (s, acks) => {
      for (const f of frames) s.write(f);
      await waitMeta(acks);
      s.write(changesFrame(stale));
    });
    expect(reason).toMatch(/metadata batch was refused, nothing of it applied: the change batch continues/);
    unchanged();

    // Unknown kinds, empty and oversized meta frames.
    for (const [bytes, why] of [
      [Buffer.from([9, 0, 0, 0]), /unknown kind 9/],
      [encodeMetaChangesHeader({ epoch: 0, logOffset: 0, size: 0 }), /meta changes frame of 0 bytes/],
      [encodeMetaChangesHeader({ epoch: 0, logOffset: 0, size: 64 * 1024 * 1024 }), /meta changes frame of 67108864 bytes/],
    ] as const) {
      reason = await against(async (s) => {
        s.write(bytes);
      });
      expect(reason).toMatch(why);
    }
    unchanged();
    expect(r.commitLogEnd).toBe(0);

    // And the good path still works on this store: the snapshot, then the batch.
    let appliedBoth = false;
    await against(
      async (s, acks) => {
        for (const f of frames) s.write(f);
        await waitMeta(acks);
        s.write(changesFrame(batch));
        await until('the batch applied', () => acks.meta?.seq === source.metaFeedPosition().seq);
        appliedBoth = true;
      },
      () => appliedBoth,
    );
    expect(r.getTopicConfig('Later')).toBeDefined();
    expect(r.metaGet('mqtt-session', 'later')?.toString()).toBe('x');
  });
});
