import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type MessageStore, openStore } from '@apogee/store';
import { afterEach, describe, expect, it } from 'vitest';
import { HaReplica } from './ha-replica.js';
import { HaServer, type ReplicaView } from './ha-server.js';
import { type CopiesOutcome, SyncReplication } from './sync-replication.js';

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A stand-in for HaServer and the store: replicas and the confirmed end are set by the test. */
class FakeMaster {
  commitLogConfirmed = 0;
  readonly views = new Map<number, ReplicaView>();
  private readonly listeners = new Set<() => void>();
  liveReplicas(): Iterable<ReplicaView> {
    return this.views.values();
  }
  onProgress(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  ack(replicaId: number, offset: number): void {
    const v = this.views.get(replicaId) ?? { replicaId, remote: 'x', sentOffset: 0, ackedOffset: 0, flushedOffset: 0, lastAckAt: 0 };
    v.ackedOffset = v.flushedOffset = offset;
    this.views.set(replicaId, v);
    for (const l of this.listeners) l();
  }
  drop(replicaId: number): void {
    this.views.delete(replicaId);
    for (const l of this.listeners) l();
  }
}

function settled(p: Promise<CopiesOutcome> | null): { value: CopiesOutcome | 'pending' | null } {
  const box: { value: CopiesOutcome | 'pending' | null } = { value: p === null ? null : 'pending' };
  void p?.then((v) => (box.value = v));
  return box;
}

const tick = () => new Promise((r) => setImmediate(r));

function sync(m: FakeMaster, min: number, now: () => number, changes: number[][] = []): SyncReplication {
  const s = new SyncReplication({
    server: m,
    store: m,
    minInSyncReplicas: min,
    now,
    timeoutMs: 3000,
    joinLagMs: 1000,
    leaveLagMs: 15_000,
    onInSyncChange: (ids) => changes.push([...ids]),
  });
  cleanups.push(() => s.close());
  return s;
}

describe('SyncReplication (the in-sync set and the waits, on a stand-in master)', () => {
  it('answers SLAVE_NOT_AVAILABLE at once while too few copies are in sync, and waits for every in-sync replica and candidate', async () => {
    const m = new FakeMaster();
    const changes: number[][] = [];
    const s = sync(m, 2, () => 0, changes);
    expect(await s.awaitCopies(100)).toBe('SLAVE_NOT_AVAILABLE');
    m.commitLogConfirmed = 100;
    m.ack(1, 100); // holds everything: in sync at once
    expect(s.members()).toEqual([1]);
    expect(await s.awaitCopies(100)).toBe('SEND_OK');
    // Replica 2 is close but lacks the send answered up to 100: a candidate, not a member.
    m.ack(2, 40);
    expect(s.members()).toEqual([1]);
    m.commitLogConfirmed = 300;
    const a = settled(s.awaitCopies(300));
    m.ack(1, 300);
    await tick();
    expect(a.value).toBe('pending'); // the candidate does not hold it yet
    m.ack(2, 300);
    await tick();
    expect(a.value).toBe('SEND_OK');
    expect(s.members()).toEqual([1, 2]);
    expect(changes).toEqual([[1], [1, 2]]);
  });

  it('with a minimum of one copy acks at once when no replica is in sync, and waits when one is', async () => {
    const m = new FakeMaster();
    const s = sync(m, 1, () => 0);
    expect(s.awaitCopies(10)).toBeNull();
    m.ack(7, 0);
    m.commitLogConfirmed = 10;
    const a = settled(s.awaitCopies(10));
    await tick();
    expect(a.value).toBe('pending');
    m.ack(7, 10);
    await tick();
    expect(a.value).toBe('SEND_OK');
  });

  it('answers FLUSH_SLAVE_TIMEOUT past the timeout, and SLAVE_NOT_AVAILABLE to the waiting sends when the set falls below the minimum', async () => {
    const m = new FakeMaster();
    let t = 0;
    const s = sync(m, 2, () => t);
    m.ack(1, 0);
    m.commitLogConfirmed = 50;
    const late = settled(s.awaitCopies(50));
    t = 3000;
    await new Promise((r) => setTimeout(r, 150)); // the ticker expires waits
    expect(late.value).toBe('FLUSH_SLAVE_TIMEOUT');
    const cut = settled(s.awaitCopies(50));
    m.drop(1);
    await tick();
    expect(cut.value).toBe('SLAVE_NOT_AVAILABLE');
    expect(s.members()).toEqual([]);
  });

  it('drops a replica whose newest holding is older than the leave lag and takes it back once it catches up', async () => {
    const m = new FakeMaster();
    let t = 0;
    const changes: number[][] = [];
    sync(m, 1, () => t, changes);
    m.ack(1, 0);
    expect(changes).toEqual([[1]]);
    // The master moves on; the replica stays at 0. Samples are taken on the ticker.
    for (let i = 1; i <= 20; i++) {
      t = i * 1000;
      m.commitLogConfirmed = i * 100;
      await new Promise((r) => setTimeout(r, 110));
    }
    expect(changes).toEqual([[1], []]);
    m.ack(1, 2000);
    expect(changes).toEqual([[1], [], [1]]);
  });

  it('with confirmLeave, keeps waiting for a leaving member until the smaller set is confirmed', async () => {
    const m = new FakeMaster();
    const asked: number[][] = [];
    let agree: (ok: boolean) => void = () => {};
    const s = new SyncReplication({
      server: m,
      store: m,
      minInSyncReplicas: 1,
      now: () => 0,
      confirmLeave: (remaining) => {
        asked.push([...remaining]);
        return new Promise((r) => (agree = r));
      },
    });
    cleanups.push(() => s.close());
    m.ack(1, 0);
    m.ack(2, 0);
    expect(s.members()).toEqual([1, 2]);
    m.commitLogConfirmed = 10;
    const a = settled(s.awaitCopies(10));
    m.ack(2, 10);
    m.drop(1); // gone before it confirmed 10: the send must not be answered without it yet
    await tick();
    expect(asked).toEqual([[2]]);
    expect(a.value).toBe('pending');
    expect(s.members()).toEqual([1, 2]);
    agree(true);
    await tick();
    await tick();
    expect(s.members()).toEqual([2]);
    expect(a.value).toBe('SEND_OK');
  });

  it('refuses a minimum below one', () => {
    const m = new FakeMaster();
    expect(() => new SyncReplication({ server: m, store: m, minInSyncReplicas: 0 })).toThrow(/minInSyncReplicas must be 1 or more/);
  });
});

describe('SyncReplication over a real HA connection', () => {
  async function store(): Promise<MessageStore> {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-sync-'));
    const s = await openStore({ dataDir: d, segmentSize: 64 * 1024 }, quiet);
    cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
    cleanups.push(() => s.close());
    return s;
  }

  it('answers a send only once the replica holds it, and SLAVE_NOT_AVAILABLE after the replica is gone', async () => {
    const master = await store();
    const server = new HaServer({ store: master, log: quiet, heartbeatMs: 100 });
    const port = Number((await server.listen(0)).split(':')[1]);
    cleanups.push(() => server.close());
    const s = new SyncReplication({ server, store: master, minInSyncReplicas: 2 });
    cleanups.push(() => s.close());
    const replicaStore = await store();
    const replica = new HaReplica({ store: replicaStore, master: { host: '127.0.0.1', port }, replicaId: 1, log: quiet, reconnectMs: 50 });
    replica.start();
    cleanups.push(() => replica.stop());
    for (let i = 0; i < 400 && s.members().length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(s.members()).toEqual([1]);
    for (let i = 0; i < 20; i++) {
      const r = await master.put({ topic: 'T', queueId: 0, body: Buffer.from(`m${i}`), properties: {} });
      const end = r.commitLogOffset + r.size;
      expect(await s.awaitCopies(end)).toBe('SEND_OK');
      // Held by the replica when answered: its log reaches the send's end.
      expect(replicaStore.commitLogConfirmed).toBeGreaterThanOrEqual(end);
    }
    await replica.stop();
    for (let i = 0; i < 400 && s.members().length > 0; i++) await new Promise((r) => setTimeout(r, 25));
    const r = await master.put({ topic: 'T', queueId: 0, body: Buffer.from('alone'), properties: {} });
    expect(await s.awaitCopies(r.commitLogOffset + r.size)).toBe('SLAVE_NOT_AVAILABLE');
  });
});
