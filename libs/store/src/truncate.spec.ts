import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PutResult } from './api.js';
import { EPOCHS_FILE } from './epochs.js';
import { StoreCorruptError, StoreUnavailableError } from './errors.js';
import type { DefaultMessageStore } from './message-store.js';
import { ReplicationError } from './replication.js';
import { DET_T0, type DetClock, fillDet, openDetStore, tempDir } from './test-support.js';
import { TRUNCATION_FILE, type TruncationStep } from './truncation.js';

/** openTestStore's segment size. */
const SEGMENT = 64 * 1024;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function store(dir?: string): Promise<{ s: DefaultMessageStore; clock: DetClock; dir: string }> {
  let d = dir;
  if (!d) {
    const t = tempDir('apg-trunc-');
    cleanups.push(t.cleanup);
    d = t.dir;
  }
  const { s, clock } = await openDetStore(d);
  cleanups.push(() => s.close().catch(() => {}));
  return { s, clock, dir: d };
}

/** A store that only ever had messages [0, n) — what a truncated store must equal. */
async function prefixStore(n: number): Promise<{ s: DefaultMessageStore; clock: DetClock; dir: string }> {
  const f = await store();
  await fillDet(f.s, f.clock, 0, n);
  return f;
}

/** The whole log from offset 0, as replication reads it (a filler's 8 bytes, not the rest of its segment). */
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

/** Digests of the segment files. */
function segmentFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const d = path.join(dir, 'commitlog');
  for (const n of fs.readdirSync(d).sort())
    out[n] = createHash('sha1')
      .update(fs.readFileSync(path.join(d, n)))
      .digest('hex');
  return out;
}

/** What a reader sees: queue and LMQ max offsets and contents, and key lookups over the whole range. */
async function view(s: DefaultMessageStore, keys: number[]) {
  const queues: Record<string, unknown> = {};
  for (const [topic, q] of [
    ['T', 0],
    ['T', 1],
    ['T', 2],
    ['T', 3],
    ['%LMQ%a', 0],
    ['%LMQ%b', 0],
  ] as const) {
    const got = await s.get(topic, q, 0, 10_000, { maxBytes: 1 << 26 });
    queues[`${topic}:${q}`] = {
      max: s.getMaxOffset(topic, q),
      messages: got.messages.map((m) => [m.queueOffset, m.commitLogOffset, m.tagsCode, m.record.toString('base64')]),
    };
  }
  const byKey: Record<string, number[]> = {};
  for (const k of keys) byKey[`k${k}`] = (await s.queryByKey('T', `k${k}`, 10, 0, Number.MAX_SAFE_INTEGER)).map((h) => h.commitLogOffset);
  return { end: s.commitLogEnd, queues, byKey };
}

/** Expects `s` to equal `f` in every way a reader or a replica can tell, and on disk. */
async function expectSame(s: { s: DefaultMessageStore; dir: string }, f: { s: DefaultMessageStore; dir: string }, keys: number[]): Promise<void> {
  expect(s.s.commitLogEnd).toBe(f.s.commitLogEnd);
  expect((await wholeLog(s.s)).equals(await wholeLog(f.s))).toBe(true);
  expect(await view(s.s, keys)).toEqual(await view(f.s, keys));
  await s.s.flush();
  await f.s.flush();
  expect(segmentFiles(s.dir)).toEqual(segmentFiles(f.dir));
}

/** The first message at least `into` bytes into the segment holding offset `near`. */
function cutPoint(puts: PutResult[], near: number, into = 1000): number {
  const base = near - (near % SEGMENT);
  const k = puts.findIndex((p) => p.commitLogOffset >= base + into);
  expect(k).toBeGreaterThan(0);
  return k;
}

const KEYS = [0, 5, 100, 150, 299, 300, 399];
const CRASHER = path.resolve(import.meta.dirname, '../test/truncate-crasher.ts');

describe('truncateReplicated', () => {
  it('cuts the log back within its last segment: log bytes, queue and LMQ offsets, reads and keys equal a store that never had the tail', async () => {
    const a = await store();
    const puts = await fillDet(a.s, a.clock, 0, 400);
    expect(a.s.commitLogEnd).toBeGreaterThan(2 * SEGMENT);
    const k = cutPoint(puts, a.s.commitLogEnd);
    await a.s.commitOffset('G', 'T', 0, 100);
    await a.s.truncateReplicated(puts[k]!.commitLogOffset);
    expect(a.s.commitLogEnd).toBe(puts[k]!.commitLogOffset);
    const f = await prefixStore(k);
    await expectSame(a, f, KEYS);
    expect((await a.s.queryByKey('T', `k${k}`, 10, 0, Number.MAX_SAFE_INTEGER)).length).toBe(0);
    expect((await a.s.queryByKey('T', `k${k - 1}`, 10, 0, Number.MAX_SAFE_INTEGER)).length).toBe(1);
    // Consumer offsets stay as recovery leaves them: above the new end, a pull is told where the queue ends.
    expect(a.s.getConsumerOffset('G', 'T', 0)).toBe(100);
    const max = a.s.getMaxOffset('T', 0);
    expect(max).toBeLessThan(100);
    expect(await a.s.get('T', 0, 100, 10)).toMatchObject({ status: 'OFFSET_OVERFLOW_BADLY', nextOffset: max });
  });

  it('cuts back across segments: the later segments are deleted, the one holding the offset is cut', async () => {
    const a = await store();
    const puts = await fillDet(a.s, a.clock, 0, 400);
    expect(Object.keys(segmentFiles(a.dir)).length).toBeGreaterThanOrEqual(3);
    const k = cutPoint(puts, 0, 5000);
    await a.s.truncateReplicated(puts[k]!.commitLogOffset);
    expect(Object.keys(segmentFiles(a.dir))).toEqual(['00000000000000000000']);
    await expectSame(a, await prefixStore(k), KEYS);
  });

  it('goes on after the cut as a store that never had the tail (also from a segment start), and reopens the same', async () => {
    const a = await store();
    const puts = await fillDet(a.s, a.clock, 0, 400);
    // The first record of the second segment: the filler before it stays, the next put lands at the segment start.
    const k = puts.findIndex((p) => p.commitLogOffset === SEGMENT);
    expect(k).toBeGreaterThan(0);
    await a.s.truncateReplicated(SEGMENT);
    const f = await prefixStore(k);
    // Continued with other messages (another clock, another body) in both.
    const later = DET_T0 + 1_000_000;
    const mine = await fillDet(a.s, a.clock, k, k + 150, later, 7);
    const theirs = await fillDet(f.s, f.clock, k, k + 150, later, 7);
    expect(mine.map((p) => [p.commitLogOffset, p.queueOffset, p.lmqOffsets])).toEqual(theirs.map((p) => [p.commitLogOffset, p.queueOffset, p.lmqOffsets]));
    expect(mine[0]!.commitLogOffset).toBe(SEGMENT);
    await expectSame(a, f, KEYS);
    await a.s.close();
    const reopened = await store(a.dir);
    await expectSame(reopened, f, KEYS);
    await fillDet(reopened.s, reopened.clock, k + 150, k + 160, later, 7);
    await fillDet(f.s, f.clock, k + 150, k + 160, later, 7);
    await expectSame(reopened, f, KEYS);
  });

  it('refuses what is not a record boundary of its log, is past its end or below its start; a no-op at the end', async () => {
    const a = await store();
    const puts = await fillDet(a.s, a.clock, 0, 50);
    const end = a.s.commitLogEnd;
    await expect(a.s.truncateReplicated(end + 1)).rejects.toThrow(/ends at/);
    await expect(a.s.truncateReplicated(puts[10]!.commitLogOffset + 4)).rejects.toThrow(/not a record boundary/);
    await expect(a.s.truncateReplicated(-1)).rejects.toBeInstanceOf(ReplicationError);
    await expect(a.s.truncateReplicated(1.5)).rejects.toBeInstanceOf(ReplicationError);
    await a.s.truncateReplicated(end);
    expect(a.s.commitLogEnd).toBe(end);
    // Refused attempts leave the store writable and whole.
    await fillDet(a.s, a.clock, 50, 60);
    const f = await prefixStore(60);
    await expectSame(a, f, KEYS);
  });

  it('refuses puts and replicated chunks while it runs, and a second truncation', async () => {
    const a = await store();
    const puts = await fillDet(a.s, a.clock, 0, 100);
    const chunk = (await a.s.readForReplica(0, 4096))!;
    const running = a.s.truncateReplicated(puts[50]!.commitLogOffset);
    await expect(a.s.put({ topic: 'T', queueId: 0, body: Buffer.from('x') })).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(a.s.applyReplicated(a.s.commitLogEnd, chunk.bytes)).rejects.toThrow(/being truncated/);
    await expect(a.s.truncateReplicated(puts[40]!.commitLogOffset)).rejects.toThrow(/being truncated/);
    await running;
    // Store times never go backwards: the continuation is stamped after the tail that was cut.
    const f = await prefixStore(50);
    await fillDet(a.s, a.clock, 50, 60, DET_T0 + 1_000_000);
    await fillDet(f.s, f.clock, 50, 60, DET_T0 + 1_000_000);
    await expectSame(a, f, KEYS);
  });
});

describe('epochs', () => {
  it('are recorded durably, read back at open, and dropped by a truncation below their start', async () => {
    const a = await store();
    expect(a.s.epochs()).toEqual([]);
    expect(a.s.currentEpoch()).toBe(0);
    await a.s.beginEpoch(1);
    await fillDet(a.s, a.clock, 0, 100);
    const at = a.s.commitLogEnd;
    await a.s.beginEpoch(3);
    const more = await fillDet(a.s, a.clock, 100, 200);
    await a.s.beginEpoch(4, a.s.commitLogEnd);
    await a.s.beginEpoch(5); // an epoch that wrote nothing: same start as the next
    expect(a.s.epochs()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 3, startOffset: at },
      { epoch: 4, startOffset: a.s.commitLogEnd },
      { epoch: 5, startOffset: a.s.commitLogEnd },
    ]);
    expect(a.s.currentEpoch()).toBe(5);
    expect(JSON.parse(fs.readFileSync(path.join(a.dir, EPOCHS_FILE), 'utf8'))).toEqual(a.s.epochs());
    await a.s.close();
    const b = await store(a.dir);
    expect(b.s.currentEpoch()).toBe(5);
    expect(b.s.epochs()).toHaveLength(4);
    // Cut inside epoch 3: 4 and 5 (which start above) go, 3 stays.
    await b.s.truncateReplicated(more[50]!.commitLogOffset);
    expect(b.s.epochs()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 3, startOffset: at },
    ]);
    // Cut at epoch 3's start: none of its records is left, so it goes too.
    await b.s.truncateReplicated(at);
    expect(b.s.epochs()).toEqual([{ epoch: 1, startOffset: 0 }]);
    expect(b.s.currentEpoch()).toBe(1);
    await b.s.beginEpoch(2);
    expect(b.s.epochs()).toEqual([
      { epoch: 1, startOffset: 0 },
      { epoch: 2, startOffset: at },
    ]);
  });

  it('refuses an epoch not above the current one, a start below the newest entry or past the end', async () => {
    const a = await store();
    await expect(a.s.beginEpoch(0)).rejects.toBeInstanceOf(ReplicationError);
    await expect(a.s.beginEpoch(2 ** 32)).rejects.toThrow(/not an integer/);
    await fillDet(a.s, a.clock, 0, 20);
    await a.s.beginEpoch(2, 100);
    await expect(a.s.beginEpoch(2)).rejects.toThrow(/not newer than the current epoch 2/);
    await expect(a.s.beginEpoch(1)).rejects.toThrow(/not newer/);
    await expect(a.s.beginEpoch(3, 99)).rejects.toThrow(/below the start 100 of epoch 2/);
    await expect(a.s.beginEpoch(3, a.s.commitLogEnd + 1)).rejects.toThrow(/past the commit log's end/);
    expect(a.s.epochs()).toEqual([{ epoch: 2, startOffset: 100 }]);
  });

  it('a damaged epochs file stops the open with an error naming it', async () => {
    const a = await store();
    await a.s.beginEpoch(1);
    await a.s.close();
    const file = path.join(a.dir, EPOCHS_FILE);
    for (const bad of [
      '{"epoch":1',
      '{"epoch":1,"startOffset":0}',
      '[{"epoch":2,"startOffset":0},{"epoch":1,"startOffset":5}]',
      '[{"epoch":1,"startOffset":-3}]',
    ]) {
      fs.writeFileSync(file, bad);
      const err = await openDetStore(a.dir).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StoreCorruptError);
      expect((err as Error).message).toContain(file);
    }
    fs.writeFileSync(file, '[{"epoch":1,"startOffset":0},{"epoch":2,"startOffset":0}]');
    const ok = await store(a.dir);
    expect(ok.s.currentEpoch()).toBe(2);
  });
});

describe('an interrupted truncation', () => {
  const steps: TruncationStep[] = ['intent', 'segment', 'log', 'indexes', 'epochs'];
  for (const step of steps) {
    it(`is finished by the next open when it stops after step '${step}'`, async () => {
      const a = await store();
      await a.s.beginEpoch(1);
      const puts = await fillDet(a.s, a.clock, 0, 300);
      const k = cutPoint(puts, 0, 9000);
      await a.s.beginEpoch(2);
      await fillDet(a.s, a.clock, 300, 400);
      a.s.setTruncationHook((s) => {
        if (s === step) throw new Error(`stopped after ${s}`);
      });
      await expect(a.s.truncateReplicated(puts[k]!.commitLogOffset)).rejects.toThrow(`stopped after ${step}`);
      // Until reopened the store takes no writes.
      await expect(a.s.put({ topic: 'T', queueId: 0, body: Buffer.from('x') })).rejects.toThrow(/reopen the store/);
      await a.s.close();
      expect(fs.existsSync(path.join(a.dir, TRUNCATION_FILE))).toBe(true);
      const b = await store(a.dir);
      expect(fs.existsSync(path.join(a.dir, TRUNCATION_FILE))).toBe(false);
      expect(b.s.epochs()).toEqual([{ epoch: 1, startOffset: 0 }]);
      const f = await prefixStore(k);
      await expectSame(b, f, KEYS);
      await fillDet(b.s, b.clock, k, k + 20, DET_T0 + 1_000_000);
      await fillDet(f.s, f.clock, k, k + 20, DET_T0 + 1_000_000);
      await expectSame(b, f, KEYS);
    });
  }

  for (const step of ['segment', 'indexes'] as const) {
    it(`is finished by the next open when the process is SIGKILLed after step '${step}'`, async () => {
      const t = tempDir('apg-trunc-kill-');
      cleanups.push(t.cleanup);
      const child = spawn(process.execPath, ['--import', 'tsx', CRASHER, t.dir, step], {
        cwd: path.resolve(import.meta.dirname, '../../..'),
        env: { ...process.env, APOGEE_DET_T0: String(DET_T0) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
      clearTimeout(timer);
      expect(signal, err).toBe('SIGKILL');
      expect(out).not.toContain('done');
      const { k } = JSON.parse(out.split('\n')[0]!) as { k: number };
      expect(fs.existsSync(path.join(t.dir, TRUNCATION_FILE))).toBe(true);
      const b = await store(t.dir);
      expect(b.s.epochs()).toEqual([{ epoch: 1, startOffset: 0 }]);
      const f = await prefixStore(k);
      await expectSame(b, f, KEYS);
    });
  }

  it('a damaged intent file stops the open with an error naming it', async () => {
    const a = await store();
    await a.s.close();
    const file = path.join(a.dir, TRUNCATION_FILE);
    fs.writeFileSync(file, 'nonsense');
    await expect(openDetStore(a.dir)).rejects.toThrow(file);
  });
});
