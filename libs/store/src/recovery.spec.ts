import fs from 'node:fs';
import path from 'node:path';
import { decodeRecord } from '@apogee/message';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeCheckpoint, readCheckpoint } from './checkpoint.js';
import type { DefaultMessageStore } from './message-store.js';
import { memoryLogger, openTestStore, tempDir } from './test-support.js';

let cleanup: (() => void) | undefined;
let store: DefaultMessageStore | undefined;

afterEach(async () => {
  await store?.close();
  store = undefined;
  cleanup?.();
});

async function fill(s: DefaultMessageStore, n: number) {
  const out = [];
  for (let i = 0; i < n; i++)
    out.push(
      await s.put({ topic: 'T', queueId: i % 2, body: Buffer.from(`b${i}`), properties: { INNER_MULTI_DISPATCH: `%LMQ%x,%LMQ%y${i % 3}`, KEYS: `k${i}` } }),
    );
  return out;
}

async function expectAll(s: DefaultMessageStore, puts: Awaited<ReturnType<typeof fill>>) {
  for (const [i, p] of puts.entries()) {
    const got = await s.get('T', i % 2, p.queueOffset, 1);
    expect(decodeRecord(got.messages[0]!.record).body.toString()).toBe(`b${i}`);
    const x = await s.get('%LMQ%x', 0, p.lmqOffsets[0]!, 1);
    expect(decodeRecord(x.messages[0]!.record).body.toString()).toBe(`b${i}`);
  }
  expect(s.getMaxOffset('%LMQ%x', 0)).toBe(puts.length);
}

describe('recovery', () => {
  it('rebuilds every index (queues, LMQs, keys) from the commit log when the index is lost', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    store = await openTestStore(t.dir);
    const puts = await fill(store, 120);
    await store.close();
    fs.rmSync(path.join(t.dir, 'index'), { recursive: true });
    store = await openTestStore(t.dir);
    await expectAll(store, puts);
    const now = Date.now();
    expect((await store.queryByKey('T', 'k7', 5, now - 60_000, now + 60_000)).length).toBe(1);
    const next = await store.put({ topic: 'T', queueId: 0, body: Buffer.from('n'), properties: { INNER_MULTI_DISPATCH: '%LMQ%x' } });
    expect(next.queueOffset).toBe(60);
    expect(next.lmqOffsets).toEqual([120]);
  });

  it('recovers with a garbage checkpoint file', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    store = await openTestStore(t.dir);
    const puts = await fill(store, 50);
    await store.close();
    fs.writeFileSync(path.join(t.dir, 'checkpoint'), Buffer.from('not a checkpoint'));
    store = await openTestStore(t.dir);
    await expectAll(store, puts);
  });

  it('after a crash re-reads from the older of the checkpoint and the dispatch marker, not from the start of the segment', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    store = await openTestStore(t.dir);
    const puts = await fill(store, 200);
    await store.close();
    // A crash image: the checkpoint is not clean and was written when record 149 was the last durable one.
    const cpFile = path.join(t.dir, 'checkpoint');
    const cp = readCheckpoint(cpFile)!;
    const checkpointed = puts[149]!.commitLogOffset + puts[149]!.size;
    fs.writeFileSync(cpFile, encodeCheckpoint({ ...cp, flushedOffset: checkpointed, cleanShutdown: false }));
    const log = memoryLogger();
    store = await openTestStore(t.dir, {}, log);
    const recovered = log.lines.find((l) => l.msg === 'store: recovered')!;
    expect(recovered.obj).toMatchObject({ clean: false, from: checkpointed });
    await expectAll(store, puts);
  });

  it('truncates queue indexes that point past a commit log that lost durable data', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    store = await openTestStore(t.dir);
    const puts = await fill(store, 100);
    await store.close();
    // Simulate a crash on a disk that lost the tail of the log below the index's dispatch
    // marker: no clean-shutdown checkpoint, and the last records gone.
    fs.rmSync(path.join(t.dir, 'checkpoint'));
    const keep = puts[59]!;
    const cut = keep.commitLogOffset + keep.size;
    const segDir = path.join(t.dir, 'commitlog');
    for (const name of fs.readdirSync(segDir).sort()) {
      const base = Number(name);
      const file = path.join(segDir, name);
      if (base >= cut) fs.rmSync(file);
      else if (base + 65536 > cut) {
        fs.truncateSync(file, cut - base);
        fs.truncateSync(file, 65536);
      }
    }
    const log = memoryLogger();
    store = await openTestStore(t.dir, {}, log);
    expect(log.lines.some((l) => l.msg.includes('index was ahead'))).toBe(true);
    await expectAll(store, puts.slice(0, 60));
    expect(store.getMaxOffset('T', 0)).toBe(30);
    const next = await store.put({ topic: 'T', queueId: 0, body: Buffer.from('n'), properties: { INNER_MULTI_DISPATCH: '%LMQ%x' } });
    expect(next.queueOffset).toBe(30);
    expect(next.lmqOffsets).toEqual([60]);
  });
});

describe('recovery with writes that landed out of order', () => {
  it('never revives whole records that sit after a hole once new appends fill the hole', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    store = await openTestStore(t.dir);
    const puts = await fill(store, 40);
    await store.close();
    // A crash where a later write landed but an earlier one did not: zero the bytes of records
    // 20..29 (the hole) and leave 30..39 intact behind it. No clean-shutdown checkpoint.
    fs.rmSync(path.join(t.dir, 'checkpoint'));
    fs.rmSync(path.join(t.dir, 'index'), { recursive: true });
    const from = puts[20]!.commitLogOffset;
    const to = puts[29]!.commitLogOffset + puts[29]!.size;
    const seg = path.join(t.dir, 'commitlog', String(from - (from % 65536)).padStart(20, '0'));
    expect(Math.floor((to - 1) / 65536)).toBe(Math.floor(from / 65536));
    const fd = fs.openSync(seg, 'r+');
    fs.writeSync(fd, Buffer.alloc(to - from), 0, to - from, from % 65536);
    fs.closeSync(fd);
    store = await openTestStore(t.dir);
    expect(store.getMaxOffset('%LMQ%x', 0)).toBe(20);
    // Refill the hole with records of exactly the lost sizes, so the next record boundary falls
    // where record 30 used to start.
    for (let i = 20; i < 30; i++)
      await store.put({ topic: 'T', queueId: i % 2, body: Buffer.from(`b${i}`), properties: { INNER_MULTI_DISPATCH: `%LMQ%x,%LMQ%y${i % 3}`, KEYS: `k${i}` } });
    await store.close();
    fs.rmSync(path.join(t.dir, 'index'), { recursive: true });
    store = await openTestStore(t.dir);
    // Records 30..39 from before the crash must not come back.
    expect(store.getMaxOffset('%LMQ%x', 0)).toBe(30);
  });
});
