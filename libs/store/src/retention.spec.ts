import fs from 'node:fs';
import { decodeRecord } from '@apogee/message';
import { afterEach, describe, expect, it } from 'vitest';
import type { DefaultMessageStore } from './message-store.js';
import { openTestStore, tempDir } from './test-support.js';

let cleanup: (() => void) | undefined;
let store: DefaultMessageStore | undefined;

afterEach(async () => {
  await store?.close();
  store = undefined;
  cleanup?.();
});

describe('retention', () => {
  it('deletes whole expired segments, moves queue min offsets forward and says so on reads below it', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    let now = Date.now();
    store = await openTestStore(t.dir, { now: () => now, retentionMs: 3600_000 });
    const puts = [];
    for (let i = 0; i < 200; i++)
      puts.push(await store.put({ topic: 'T', queueId: 0, body: Buffer.alloc(1000, 1), properties: { INNER_MULTI_DISPATCH: '%LMQ%r', KEYS: `k${i}` } }));
    const segmentsBefore = store.stats().segments;
    expect(segmentsBefore).toBeGreaterThan(3);
    now += 2 * 3600_000; // every sealed segment is now older than the retention
    await store.runMaintenance();
    expect(store.stats().segments).toBe(1);
    const minLog = store.stats().minCommitLogOffset;
    const firstKept = puts.findIndex((p) => p.commitLogOffset >= minLog);
    expect(firstKept).toBeGreaterThan(0);
    expect(store.getMinOffset('T', 0)).toBe(firstKept);
    expect(store.getMinOffset('%LMQ%r', 0)).toBe(firstKept);
    expect(await store.get('T', 0, 0, 1)).toMatchObject({ status: 'OFFSET_TOO_SMALL', nextOffset: firstKept });
    const kept = await store.get('T', 0, firstKept, 1);
    expect(kept.status).toBe('FOUND');
    expect(decodeRecord(kept.messages[0]!.record).commitLogOffset).toBe(puts[firstKept]!.commitLogOffset);
    expect(await store.readRecord(puts[0]!.commitLogOffset)).toBeNull();
    // Min offsets and the shortened log survive a restart; appends continue at the next offset.
    await store.close();
    store = await openTestStore(t.dir, { now: () => now, retentionMs: 3600_000 });
    expect(store.getMinOffset('T', 0)).toBe(firstKept);
    expect((await store.put({ topic: 'T', queueId: 0, body: Buffer.from('after') })).queueOffset).toBe(200);
  });

  it('deletes the oldest segments while the disk is fuller than diskMaxUsedRatio', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const s = fs.statfsSync(t.dir);
    const used = 1 - s.bavail / s.blocks;
    // A ratio just below current usage makes the disk count as over the threshold.
    store = await openTestStore(t.dir, { diskMaxUsedRatio: Math.max(0.001, used * 0.5) });
    for (let i = 0; i < 200; i++) await store.put({ topic: 'T', queueId: 0, body: Buffer.alloc(1000) });
    expect(store.stats().segments).toBeGreaterThan(3);
    await store.runMaintenance();
    expect(store.stats().segments).toBe(1);
    expect(store.getMinOffset('T', 0)).toBeGreaterThan(0);
  });
});

describe('LMQ lifecycle', () => {
  it('removes an LMQ idle past its TTL together with its consumer offsets, keeping active ones', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    let now = Date.now();
    const ttl = 60_000;
    store = await openTestStore(t.dir, { now: () => now, lmqIdleTtlMs: ttl });
    await store.put({ topic: 'T', queueId: 0, body: Buffer.from('x'), properties: { INNER_MULTI_DISPATCH: '%LMQ%idle,%LMQ%busy' } });
    await store.commitOffset('%LMQ%c1', '%LMQ%idle', 0, 1);
    await store.commitOffset('%LMQ%c1', '%LMQ%busy', 0, 1);
    // Expiry only removes persisted, clean queues.
    await store.flush();
    now += ttl / 2;
    await store.put({ topic: 'T', queueId: 0, body: Buffer.from('y'), properties: { INNER_MULTI_DISPATCH: '%LMQ%busy' } });
    await store.flush();
    now += ttl / 2 + 1000;
    await store.runMaintenance();
    expect(store.hasQueue('%LMQ%idle', 0)).toBe(false);
    expect(store.getConsumerOffset('%LMQ%c1', '%LMQ%idle', 0)).toBeUndefined();
    expect(store.listConsumerOffsets('%LMQ%c1').map((o) => o.topic)).toEqual(['%LMQ%busy']);
    expect(store.getMaxOffset('%LMQ%busy', 0)).toBe(2);
    expect(store.getMaxOffset('T', 0)).toBe(2); // topic queues never expire
    // A removed LMQ comes back fresh when a message names it again, and stays gone after restart.
    const again = await store.put({ topic: 'T', queueId: 0, body: Buffer.from('z'), properties: { INNER_MULTI_DISPATCH: '%LMQ%idle' } });
    expect(again.lmqOffsets).toEqual([0]);
    await store.close();
    store = await openTestStore(t.dir, { now: () => now, lmqIdleTtlMs: ttl });
    expect(store.getMaxOffset('%LMQ%idle', 0)).toBe(1);
    expect(store.getConsumerOffset('%LMQ%c1', '%LMQ%idle', 0)).toBeUndefined();
  });

  it('keeps segments from the lowest retention floor on, across a restart, until the floor moves', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    let now = Date.now();
    store = await openTestStore(t.dir, { now: () => now, retentionMs: 3600_000 });
    const puts = [];
    for (let i = 0; i < 200; i++) puts.push(await store.put({ topic: 'T', queueId: 0, body: Buffer.alloc(1000, 1) }));
    await store.setRetentionFloor('timer', puts[10]!.commitLogOffset);
    await store.setRetentionFloor('other', puts[150]!.commitLogOffset);
    expect(store.retentionFloor()).toBe(puts[10]!.commitLogOffset);
    await store.close();
    now += 2 * 3600_000;
    store = await openTestStore(t.dir, { now: () => now, retentionMs: 3600_000 });
    await store.runMaintenance();
    expect(await store.readRecord(puts[10]!.commitLogOffset)).not.toBeNull();
    expect(store.stats().minCommitLogOffset).toBeLessThanOrEqual(puts[10]!.commitLogOffset);
    await store.setRetentionFloor('timer', null);
    await store.runMaintenance();
    expect(await store.readRecord(puts[10]!.commitLogOffset)).toBeNull();
    expect(await store.readRecord(puts[150]!.commitLogOffset)).not.toBeNull();
  });
});
