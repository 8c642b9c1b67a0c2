/**
 * Crash safety of the store.
 *
 * 1. Kill cycles: a child process (crash-writer.ts) puts with SYNC_FLUSH from 32 concurrent
 *    producers and acknowledges every resolved put on stdout; the test SIGKILLs it at a random
 *    moment, reopens the store here, checks every acknowledged message (ever, all cycles) at its
 *    queue offset and at each of its LMQ offsets, checks every queue is dense, puts a few more
 *    messages, closes, and starts the next writer on the same directory.
 * 2. Hand-made damage while the store is closed: a torn tail after the last record, and a byte
 *    flipped inside old records.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PropertyKey, RecordOffset, recordPositions } from '@apogee/message';
import { afterEach, describe, expect, it } from 'vitest';
import { type MessageStore, type PutMessage, type PutResult, type StoreConfig, openStore } from '../src/index.js';
import {
  CRASH_LMQS,
  CRASH_QUEUES,
  CRASH_SEGMENT_SIZE,
  type CrashAck,
  decode,
  digest,
  lmqPropsOf,
  memoryLogger,
  prng,
  randInt,
  randomBody,
  removeDir,
  scanQueue,
  tempDir,
} from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(here, '../../..');
const WRITER = path.join(here, 'crash-writer.ts');

const dirs: string[] = [];
const openStores: MessageStore[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  // A writer still running (a failed test) is killed — by its own handle, so by its PID — and
  // waited for (at most 5 s) before its directory goes.
  for (const c of children.splice(0)) {
    if (c.pid === undefined || c.exitCode !== null || c.signalCode !== null) continue;
    const gone = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 5_000);
      c.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    c.kill('SIGKILL');
    await gone;
  }
  for (const s of openStores.splice(0)) await s.close().catch(() => {});
  for (const d of dirs.splice(0)) removeDir(d);
});

function newDir(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

async function open(config: StoreConfig, logger = memoryLogger()): Promise<MessageStore> {
  const s = await openStore(config, logger);
  openStores.push(s);
  return s;
}

async function close(s: MessageStore): Promise<void> {
  await s.close();
  const i = openStores.indexOf(s);
  if (i >= 0) openStores.splice(i, 1);
}

// ------------------------------------------------------------------------------ kill cycles

interface WriterRun {
  acks: CrashAck[];
  killed: boolean;
  tornLine: boolean;
  errors: string[];
  stderr: string;
}

/** When to kill a writer: `delayMs` after its `afterAcks`-th acknowledgement, or `atMs` after spawn (maybe mid-recovery). */
type KillMoment = { afterAcks: number; delayMs: number } | { atMs: number };

/**
 * Runs one writer on `dir` and SIGKILLs it at the given moment.
 * Resolves once the child is gone and its stdout fully read. Bounded: the child is killed after
 * 25 s whatever happens.
 */
function runWriter(dir: string, seed: number, cycle: number, when: KillMoment, maxCachedQueues?: number): Promise<WriterRun> {
  const killAfter = 'afterAcks' in when ? when.afterAcks : Number.POSITIVE_INFINITY;
  const delayMs = 'afterAcks' in when ? when.delayMs : 0;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, String(seed), String(cycle), String(maxCachedQueues ?? 0)], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    children.push(child);
    const run: WriterRun = { acks: [], killed: false, tornLine: false, errors: [], stderr: '' };
    let pending = '';
    let killScheduled = false;
    const kill = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      run.killed = child.kill('SIGKILL');
    };
    const timedKill = 'atMs' in when ? setTimeout(kill, when.atMs) : undefined;
    const hardLimit = setTimeout(() => {
      run.errors.push(`writer of cycle ${cycle} still running after 25 s (${run.acks.length} acks)`);
      kill();
    }, 25_000);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      pending += chunk;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const msg = JSON.parse(line) as Partial<CrashAck> & { error?: string; ready?: boolean; done?: boolean };
        if (msg.error) run.errors.push(`writer error: ${msg.error}`);
        else if (msg.t !== undefined) run.acks.push(msg as CrashAck);
      }
      if (!killScheduled && run.acks.length >= killAfter) {
        killScheduled = true;
        setTimeout(kill, delayMs);
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      if (run.stderr.length < 20_000) run.stderr += chunk;
    });
    child.on('error', (err) => {
      clearTimeout(hardLimit);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(hardLimit);
      clearTimeout(timedKill);
      // A line cut by the kill is an acknowledgement we cannot read: it is simply not checked.
      run.tornLine = pending.length > 0;
      if (signal !== 'SIGKILL') run.errors.push(`writer of cycle ${cycle} exited on its own (code ${code}, signal ${signal}) after ${run.acks.length} acks`);
      resolve(run);
    });
  });
}

/** What the test knows must be stored: acknowledged puts by queue and offset. */
class Model {
  /** `${topic}\0${queueId}` -> offset -> ack */
  readonly queues = new Map<string, Map<number, CrashAck>>();
  /** lmq -> offset -> ack */
  readonly lmqs = new Map<string, Map<number, CrashAck>>();
  readonly conflicts: string[] = [];
  total = 0;

  add(a: CrashAck): void {
    this.total++;
    this.put(this.queues, `${a.t}\0${a.q}`, a.qo, a);
    if (a.l.length !== a.lo.length) this.conflicts.push(`ack at ${a.clo} names ${a.l.length} LMQs but got ${a.lo.length} LMQ offsets`);
    a.l.forEach((name, i) => this.put(this.lmqs, name, a.lo[i]!, a));
  }

  private put(map: Map<string, Map<number, CrashAck>>, key: string, offset: number, a: CrashAck): void {
    let m = map.get(key);
    if (!m) map.set(key, (m = new Map()));
    const prev = m.get(offset);
    if (prev && prev.clo !== a.clo) {
      this.conflicts.push(
        `offset ${offset} of ${key.replace('\0', ':')} acknowledged twice: log offset ${prev.clo} (cycle ${prev.c}) and ${a.clo} (cycle ${a.c})`,
      );
    }
    m.set(offset, a);
  }
}

function crashConfig(dir: string): StoreConfig {
  return { dataDir: dir, flushMode: 'SYNC_FLUSH', segmentSize: CRASH_SEGMENT_SIZE };
}

/**
 * Checks the reopened store against the model; returns the problems found (empty = fine).
 * - every queue (topic queues and LMQs of the pool): min 0, max above every acknowledged offset,
 *   every offset below max readable (dense: no holes), nothing readable at max;
 * - every record read from a topic queue says that queue and offset; every record read from an
 *   LMQ names the LMQ and records the offset it was read at in INNER_MULTI_QUEUE_OFFSET;
 * - the (LMQ, offset) -> record pairs found by reading the LMQs are exactly those the topic
 *   queues' records announce (no lost and no extra LMQ entries, acknowledged or not);
 * - every acknowledged message is at its queue offset and each LMQ offset with its body digest;
 *   the last cycle's acknowledgements are also read one by one with get(offset, 1) and readRecord.
 */
async function verify(store: MessageStore, model: Model, fresh: readonly CrashAck[]): Promise<string[]> {
  const problems: string[] = [];
  const fail = (s: string): void => {
    if (problems.length < 40) problems.push(s);
  };
  const announced = new Map<string, number>(); // `${lmq}\0${offset}` -> clo, from topic records

  const checkQueue = async (topic: string, queueId: number, acks: Map<number, CrashAck> | undefined, isLmq: boolean): Promise<void> => {
    const name = `${topic}:${queueId}`;
    const max = store.getMaxOffset(topic, queueId);
    const min = store.getMinOffset(topic, queueId);
    if (min !== 0) fail(`${name}: min offset ${min}, expected 0`);
    let highest = -1;
    for (const o of acks?.keys() ?? []) if (o > highest) highest = o;
    if (max <= highest) fail(`${name}: max offset ${max} but offset ${highest} was acknowledged`);
    const scan = await scanQueue(store, topic, queueId, 0, max, 256);
    for (const a of scan.anomalies) fail(a);
    if (scan.missing.length > 0) fail(`${name}: ${scan.missing.length} holes below max ${max}, first ${scan.missing.slice(0, 5).join(',')}`);
    const beyond = await store.get(topic, queueId, max, 1);
    if (beyond.status !== 'OFFSET_OVERFLOW_ONE' && !(max === 0 && beyond.status === 'NO_MESSAGE_IN_QUEUE'))
      fail(`${name}: get(max=${max}) -> ${beyond.status}`);
    for (const [offset, sm] of scan.messages) {
      const m = decode(sm);
      if (m.commitLogOffset !== sm.commitLogOffset) fail(`${name}@${offset}: record says log offset ${m.commitLogOffset}, index ${sm.commitLogOffset}`);
      const { names, offsets } = lmqPropsOf(m);
      if (!isLmq) {
        if (m.topic !== topic || m.queueId !== queueId || m.queueOffset !== offset)
          fail(`${name}@${offset}: record is ${m.topic}:${m.queueId}@${m.queueOffset}`);
        if (names.length !== offsets.length) fail(`${name}@${offset}: ${names.length} LMQ names, ${offsets.length} LMQ offsets`);
        names.forEach((n, i) => announced.set(`${n}\0${offsets[i]}`, m.commitLogOffset));
      } else {
        const i = names.indexOf(topic);
        if (i < 0) fail(`${name}@${offset}: record at ${m.commitLogOffset} does not name the LMQ (${names.join(',')})`);
        else if (offsets[i] !== offset) fail(`${name}@${offset}: record at ${m.commitLogOffset} says LMQ offset ${offsets[i]}`);
        if (announced.get(`${topic}\0${offset}`) !== m.commitLogOffset)
          fail(`${name}@${offset}: record at ${m.commitLogOffset} is not the one its topic queue announces (${announced.get(`${topic}\0${offset}`)})`);
        announced.delete(`${topic}\0${offset}`);
      }
      const a = acks?.get(offset);
      if (a && (a.clo !== m.commitLogOffset || a.d !== digest(m.body) || a.size !== m.storeSize)) {
        fail(`${name}@${offset}: acknowledged log offset ${a.clo} digest ${a.d} (cycle ${a.c}), read ${m.commitLogOffset} digest ${digest(m.body)}`);
      }
      if (a && isLmq && a.lo.join(',') !== offsets.join(','))
        fail(`${name}@${offset}: acknowledged LMQ offsets ${a.lo.join(',')}, record says ${offsets.join(',')}`);
    }
    for (const [offset, a] of acks ?? []) {
      if (!scan.messages.has(offset)) fail(`${name}@${offset}: acknowledged message (log offset ${a.clo}, cycle ${a.c}) not readable`);
    }
  };

  // Topic queues first (they tell what the LMQs must hold), then the LMQs, each group concurrently.
  await Promise.all(CRASH_QUEUES.map((q) => checkQueue(q.topic, q.queueId, model.queues.get(`${q.topic}\0${q.queueId}`), false)));
  await Promise.all(CRASH_LMQS.map((l) => checkQueue(l, 0, model.lmqs.get(l), true)));
  if (announced.size > 0)
    fail(
      `${announced.size} LMQ entries announced by records but not in the LMQs, e.g. ${[...announced.keys()]
        .slice(0, 3)
        .map((k) => k.replace('\0', '@'))
        .join(' ')}`,
    );

  // The freshest acknowledgements, one get per offset (the exact read a consumer would do).
  for (const a of fresh) {
    const one = async (topic: string, queueId: number, offset: number): Promise<void> => {
      const r = await store.get(topic, queueId, offset, 1);
      const sm = r.messages[0];
      if (r.status !== 'FOUND' || !sm || sm.queueOffset !== offset || sm.commitLogOffset !== a.clo || digest(decode(sm).body) !== a.d) {
        fail(`get(${topic}, ${queueId}, ${offset}, 1) -> ${r.status}, log offset ${sm?.commitLogOffset}; acknowledged ${a.clo} (cycle ${a.c})`);
      }
    };
    await one(a.t, a.q, a.qo);
    for (let i = 0; i < a.l.length; i++) await one(a.l[i]!, 0, a.lo[i]!);
    const rec = await store.readRecord(a.clo);
    if (!rec || digest(decode(rec).body) !== a.d) fail(`readRecord(${a.clo}) -> ${rec ? 'other content' : 'null'} (cycle ${a.c})`);
  }
  return problems;
}

/**
 * Kill cycles on one directory: writer, SIGKILL, reopen here, verify, a few more puts, close.
 * `maxCachedQueues` (when set) applies to the writer and to the reopened store alike.
 */
async function killCycles(cycles: number, seed: number, maxCachedQueues?: number): Promise<void> {
  const rnd = prng(seed);
  const dir = newDir('crash');
  const config: StoreConfig = { ...crashConfig(dir), ...(maxCachedQueues ? { maxCachedQueues } : {}) };
  const model = new Model();
  const t0 = Date.now();
  const summary: string[] = [];
  let tornLines = 0;

  for (let cycle = 0; cycle < cycles; cycle++) {
    // Mostly a kill while puts are in full flow; every fifth cycle a kill at a random time after
    // spawn, which may land in startup or recovery.
    const when: KillMoment = cycle % 5 === 4 ? { atMs: randInt(rnd, 150, 900) } : { afterAcks: randInt(rnd, 30, 1_200), delayMs: randInt(rnd, 0, 30) };
    const moment = 'atMs' in when ? `${when.atMs} ms after spawn` : `after ${when.afterAcks} acks + ${when.delayMs} ms`;
    const tw = Date.now();
    const run = await runWriter(dir, seed + cycle, cycle, when, maxCachedQueues);
    const tv = Date.now();
    if (run.errors.length > 0) console.log(run.stderr);
    expect(run.errors, `cycle ${cycle}`).toEqual([]);
    expect(run.killed).toBe(true);
    if (run.tornLine) tornLines++;
    for (const a of run.acks) model.add(a);
    expect(model.conflicts, `cycle ${cycle}`).toEqual([]);

    const log = memoryLogger();
    const store = await open(config, log);
    const problems = await verify(store, model, run.acks);
    if (problems.length > 0) console.log(`cycle ${cycle} (kill ${moment}):\n${problems.join('\n')}\nstore log: ${JSON.stringify(log.lines.slice(0, 20))}`);
    expect(problems, `cycle ${cycle}`).toEqual([]);

    // New puts continue every queue at its next offset.
    const extra: CrashAck[] = [];
    for (const [i, q] of CRASH_QUEUES.entries()) {
      const lmqs = [CRASH_LMQS[(cycle + i) % CRASH_LMQS.length]!, CRASH_LMQS[(cycle + i + 7) % CRASH_LMQS.length]!];
      const expected = { qo: store.getMaxOffset(q.topic, q.queueId), lo: lmqs.map((l) => store.getMaxOffset(l, 0)) };
      const body = randomBody(rnd, randInt(rnd, 1, 6000));
      const r = await store.put({ topic: q.topic, queueId: q.queueId, body, properties: { [PropertyKey.INNER_MULTI_DISPATCH]: lmqs.join(',') } });
      expect({ qo: r.queueOffset, lo: r.lmqOffsets }).toEqual(expected);
      extra.push({ c: -1, t: q.topic, q: q.queueId, qo: r.queueOffset, clo: r.commitLogOffset, size: r.size, l: lmqs, lo: r.lmqOffsets, d: digest(body) });
    }
    for (const a of extra) model.add(a);
    expect(model.conflicts, `cycle ${cycle}`).toEqual([]);
    const stats = store.stats();
    await close(store);
    summary.push(
      `#${cycle}: ${run.acks.length} acks (kill ${moment}), log end ${stats.maxCommitLogOffset}, ${stats.segments} segments; writer ${tv - tw} ms, verify ${Date.now() - tv} ms`,
    );
  }

  // A last clean reopen: everything still there after the final clean close.
  const store = await open(config);
  expect(await verify(store, model, [])).toEqual([]);
  const segments = store.stats().segments;
  await close(store);
  console.log(
    `crash cycles${maxCachedQueues ? ` (queue cache ${maxCachedQueues})` : ''}: ${cycles} cycles, ${model.total} acknowledged puts checked, ${segments} segments, ${tornLines} torn ack lines, ${Date.now() - t0} ms\n  ${summary.join('\n  ')}`,
  );
  expect(segments).toBeGreaterThan(cycles); // segment rollover happened along the way
}

describe('crash recovery: SIGKILL while 32 producers put with SYNC_FLUSH', () => {
  it('loses no acknowledged message and leaves every queue dense, over 24 kill cycles', async () => {
    await killCycles(24, 20_240_601);
  }, 300_000);

  it('the same with a queue cache smaller than the 25 queues written (eviction while writing and recovering), 6 cycles', async () => {
    await killCycles(6, 7_777, 8);
  }, 120_000);
});

// ------------------------------------------------------------------------------ hand-made damage

const T = 'DamageTopic';
const LMQ_A = '%LMQ%damage/a';
const LMQ_B = '%LMQ%damage/b';
const SEG = 256 * 1024;

interface Stored {
  body: Buffer;
  result: PutResult;
  lmqs: string[];
}

function damageMessage(i: number, rnd: () => number): PutMessage & { lmqs: string[] } {
  const lmqs = i % 2 === 0 ? [LMQ_A, LMQ_B] : [LMQ_A];
  const size = i % 7 === 3 ? randInt(rnd, 4097, 6000) : randInt(rnd, 16, 900);
  return { topic: T, queueId: 0, body: randomBody(rnd, size), properties: { W: `w${i}`, [PropertyKey.INNER_MULTI_DISPATCH]: lmqs.join(',') }, lmqs };
}

async function fill(store: MessageStore, n: number, seed: number): Promise<Stored[]> {
  const rnd = prng(seed);
  const out: Stored[] = [];
  for (let i = 0; i < n; i++) {
    const m = damageMessage(i, rnd);
    out.push({ body: m.body, result: await store.put(m), lmqs: m.lmqs });
  }
  return out;
}

function segmentFile(dir: string, logOffset: number): { file: string; at: number } {
  const base = logOffset - (logOffset % SEG);
  return { file: path.join(dir, 'commitlog', String(base).padStart(20, '0')), at: logOffset - base };
}

function readLog(dir: string, logOffset: number, len: number): Buffer {
  const { file, at } = segmentFile(dir, logOffset);
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(len);
    fs.readSync(fd, b, 0, len, at);
    return b;
  } finally {
    fs.closeSync(fd);
  }
}

function writeLog(dir: string, logOffset: number, bytes: Buffer): void {
  const { file, at } = segmentFile(dir, logOffset);
  const fd = fs.openSync(file, 'r+');
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, at);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Every stored message is readable, with its body, in its queue and each of its LMQs (whose other offsets must be readable too, but for `damaged`). */
async function expectAllIntact(store: MessageStore, stored: readonly Stored[], damaged?: Stored): Promise<void> {
  const main = await scanQueue(store, T, 0, 0, stored.length, 7);
  expect(main.missing).toEqual([]);
  expect(main.anomalies).toEqual([]);
  stored.forEach((s, i) => {
    const sm = main.messages.get(i)!;
    expect(sm.commitLogOffset).toBe(s.result.commitLogOffset);
    expect(decode(sm).body.equals(s.body)).toBe(true);
  });
  for (const lmq of [LMQ_A, LMQ_B]) {
    const mine = stored.filter((s) => s.lmqs.includes(lmq));
    const scan = await scanQueue(store, lmq, 0, 0, store.getMaxOffset(lmq, 0));
    const holes = damaged && damaged.lmqs.includes(lmq) ? [damaged.result.lmqOffsets[damaged.lmqs.indexOf(lmq)]] : [];
    expect(scan.missing).toEqual(holes);
    for (const s of mine) {
      const off = s.result.lmqOffsets[s.lmqs.indexOf(lmq)]!;
      expect(scan.messages.get(off)?.commitLogOffset).toBe(s.result.commitLogOffset);
    }
  }
}

describe('torn tail after the last record', () => {
  type Variant = { name: string; bytes: (record: Buffer) => Buffer; adopted?: boolean };
  const variants: Variant[] = [
    { name: 'random garbage', bytes: () => randomBody(prng(99), 300) },
    { name: 'a torn header (first 6 bytes of a record)', bytes: (r) => r.subarray(0, 6) },
    { name: 'the first half of a record', bytes: (r) => r.subarray(0, r.length >> 1) },
    { name: 'a record missing its last byte', bytes: (r) => r.subarray(0, r.length - 1) },
    { name: 'a whole record with one body byte flipped', bytes: (r) => flipped(r, 200) },
    { name: 'a whole record with one property byte flipped', bytes: (r) => flipped(r, r.length - 40) },
    // Control: a complete record that reached the disk but not the index is recovered.
    { name: 'a complete valid record (control: adopted)', bytes: (r) => r, adopted: true },
  ];

  for (const v of variants) {
    it(`drops ${v.name}; earlier messages intact; new puts take the next offsets`, async () => {
      const dir = newDir('torn');
      const cfg: StoreConfig = { dataDir: dir, segmentSize: SEG, flushMode: 'SYNC_FLUSH', hotTailBytes: 0 };
      let store = await open(cfg);
      const stored = await fill(store, 30, 11);
      await close(store);

      // The record the next put would have written, taken from a copy of the directory.
      const copy = newDir('torn-copy');
      fs.cpSync(dir, copy, { recursive: true });
      const copyStore = await open({ ...cfg, dataDir: copy });
      const nextBody = randomBody(prng(5), 700);
      const next = await copyStore.put({ topic: T, queueId: 0, body: nextBody, properties: { [PropertyKey.INNER_MULTI_DISPATCH]: `${LMQ_A},${LMQ_B}` } });
      await close(copyStore);
      const end = stored[stored.length - 1]!.result.commitLogOffset + stored[stored.length - 1]!.result.size;
      expect(next.commitLogOffset).toBe(end);
      const record = readLog(copy, next.commitLogOffset, next.size);

      const damage = v.bytes(record);
      writeLog(dir, end, damage);

      const log = memoryLogger();
      store = await open(cfg, log);
      await expectAllIntact(store, stored);
      if (v.adopted) {
        expect(store.getMaxOffset(T, 0)).toBe(31);
        const r = await store.get(T, 0, 30, 1);
        expect(r.messages[0]?.commitLogOffset).toBe(end);
        expect(decode(r.messages[0]!).body.equals(nextBody)).toBe(true);
        for (const [i, lmq] of [LMQ_A, LMQ_B].entries()) {
          const lr = await store.get(lmq, 0, next.lmqOffsets[i]!, 1);
          expect(lr.messages[0]?.commitLogOffset).toBe(end);
        }
        await close(store);
        return;
      }
      // The torn bytes are gone: not served, and wiped from the file.
      expect(store.getMaxOffset(T, 0)).toBe(30);
      expect(await store.readRecord(end)).toBeNull();
      expect(store.stats().maxCommitLogOffset).toBe(end);
      expect(readLog(dir, end, damage.length).equals(Buffer.alloc(damage.length))).toBe(true);
      expect(log.lines.some((l) => l.level === 'warn' && /torn|corrupt/.test(l.msg))).toBe(true);

      const lmqMax = [LMQ_A, LMQ_B].map((l) => store.getMaxOffset(l, 0));
      const body = randomBody(prng(6), 333);
      const r = await store.put({ topic: T, queueId: 0, body, properties: { [PropertyKey.INNER_MULTI_DISPATCH]: `${LMQ_A},${LMQ_B}` } });
      expect(r.queueOffset).toBe(30);
      expect(r.commitLogOffset).toBe(end);
      expect(r.lmqOffsets).toEqual(lmqMax);
      await close(store);

      // And once more from disk: the new message replaced the torn one for good.
      store = await open(cfg);
      await expectAllIntact(store, [...stored, { body, result: r, lmqs: [LMQ_A, LMQ_B] }]);
      expect(store.getMaxOffset(T, 0)).toBe(31);
      await close(store);
    });
  }

  it('does not serve the last record once its final bytes are zeroed after a clean close; new puts continue', async () => {
    // Unlike the cases above, this record was durable and indexed before it was damaged (bit rot,
    // not a torn write): recovery does not rescan it, reads must refuse it.
    const dir = newDir('torn-indexed');
    const cfg: StoreConfig = { dataDir: dir, segmentSize: SEG, flushMode: 'SYNC_FLUSH', hotTailBytes: 0 };
    let store = await open(cfg);
    const stored = await fill(store, 30, 14);
    await close(store);
    const last = stored[stored.length - 1]!;
    writeLog(dir, last.result.commitLogOffset + last.result.size - 24, Buffer.alloc(24));

    store = await open(cfg);
    await expectAllIntact(store, stored.slice(0, -1), last);
    const r = await store.get(T, 0, stored.length - 1, 1);
    expect(r.messages).toEqual([]);
    expect(await store.readRecord(last.result.commitLogOffset)).toBeNull();
    for (const [i, lmq] of last.lmqs.entries()) expect((await store.get(lmq, 0, last.result.lmqOffsets[i]!, 1)).messages).toEqual([]);

    const max = store.getMaxOffset(T, 0);
    const lmqMax = last.lmqs.map((l) => store.getMaxOffset(l, 0));
    const body = Buffer.from('after the damage');
    const put = await store.put({ topic: T, queueId: 0, body, properties: { [PropertyKey.INNER_MULTI_DISPATCH]: last.lmqs.join(',') } });
    expect(put.queueOffset).toBe(max);
    expect(put.lmqOffsets).toEqual(lmqMax);
    await close(store);
    store = await open(cfg);
    const got = await store.get(T, 0, put.queueOffset, 1);
    expect(got.messages.length === 1 && decode(got.messages[0]!).body.equals(body)).toBe(true);
    await expectAllIntact(store, stored.slice(0, -1), last);
    await close(store);
  });

  it('drops a stray next segment whose first record is torn (crash right after rollover)', async () => {
    const dir = newDir('torn-seg');
    const cfg: StoreConfig = { dataDir: dir, segmentSize: SEG, flushMode: 'SYNC_FLUSH' };
    let store = await open(cfg);
    const stored = await fill(store, 20, 12);
    await close(store);
    const lastBase = stored[stored.length - 1]!.result.commitLogOffset - (stored[stored.length - 1]!.result.commitLogOffset % SEG);
    const stray = path.join(dir, 'commitlog', String(lastBase + SEG).padStart(20, '0'));
    const content = Buffer.alloc(SEG);
    randomBody(prng(3), 500).copy(content, 0);
    fs.writeFileSync(stray, content);

    store = await open(cfg);
    await expectAllIntact(store, stored);
    expect(fs.existsSync(stray)).toBe(false);
    const r = await store.put({ topic: T, queueId: 0, body: Buffer.from('after'), properties: { [PropertyKey.INNER_MULTI_DISPATCH]: LMQ_A } });
    expect(r.queueOffset).toBe(20);
    expect(r.lmqOffsets).toEqual([20]);
    await close(store);
  });
});

function flipped(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  c[at] = c[at]! ^ 0xff;
  return c;
}

describe('a byte flipped inside an old record', () => {
  it('is never served; every other message still is; readRecord returns null for it', async () => {
    const dir = newDir('flip');
    const cfg: StoreConfig = { dataDir: dir, segmentSize: SEG, hotTailBytes: 0 };
    let store = await open(cfg);
    const stored = await fill(store, 60, 13);
    await close(store);

    // Where to flip, per victim (queue offset -> byte inside the record).
    const where = (s: Stored, field: string): number => {
      const rec = readLog(dir, s.result.commitLogOffset, s.result.size);
      const at = recordPositions(rec.readInt32BE(RecordOffset.SYS_FLAG), 0);
      const bodyStart = at.bodyLength + 4;
      const topicStart = bodyStart + s.body.length + 1;
      const props = rec.indexOf('W\u0001');
      const positions: Record<string, number> = {
        'body (first byte)': bodyStart,
        'body (middle)': bodyStart + (s.body.length >> 1),
        'body (last byte)': bodyStart + s.body.length - 1,
        topic: topicStart + 3,
        'property value': props + 3,
        'LMQ list': rec.indexOf('%LMQ%damage') + 6,
        'queue offset field': RecordOffset.QUEUE_OFFSET + 7,
        'queue id field': RecordOffset.QUEUE_ID + 3,
        'physical offset field': RecordOffset.PHYSICAL_OFFSET + 6,
        'store timestamp': at.storeTimestamp + 7,
        'born host': at.bornHost + 1,
        'body CRC field': RecordOffset.BODY_CRC + 2,
        'total size (low byte)': RecordOffset.TOTAL_SIZE + 3,
        magic: RecordOffset.MAGIC + 1,
        'record CRC digits': s.result.size - 3,
      };
      expect(positions[field], field).toBeGreaterThanOrEqual(0);
      return positions[field]!;
    };
    const fields = [
      'body (first byte)',
      'body (middle)',
      'body (last byte)',
      'topic',
      'property value',
      'LMQ list',
      'queue offset field',
      'queue id field',
      'physical offset field',
      'store timestamp',
      'born host',
      'body CRC field',
      'total size (low byte)',
      'magic',
      'record CRC digits',
    ];
    // Victims spread over the queue, never adjacent, so each sits between intact neighbours.
    const victims = new Map<number, string>();
    fields.forEach((f, i) => victims.set(2 + i * 4 - (i % 2), f));
    for (const [offset, field] of victims) {
      const s = stored[offset]!;
      const pos = s.result.commitLogOffset + where(s, field);
      writeLog(dir, pos, flipped(readLog(dir, pos, 1), 0));
    }

    const log = memoryLogger();
    store = await open(cfg, log);
    const isVictim = (clo: number): boolean => [...victims.keys()].some((o) => stored[o]!.result.commitLogOffset === clo);

    // Whole-queue reads (one coalesced pread over many records) and one-by-one reads.
    for (const chunk of [64, 5, 1]) {
      const scan = await scanQueue(store, T, 0, 0, stored.length, chunk);
      expect(scan.anomalies).toEqual([]);
      expect(scan.missing.sort((a, b) => a - b)).toEqual([...victims.keys()].sort((a, b) => a - b));
      for (const [offset, sm] of scan.messages) {
        expect(decode(sm).body.equals(stored[offset]!.body), `offset ${offset}`).toBe(true);
      }
    }
    for (const lmq of [LMQ_A, LMQ_B]) {
      const scan = await scanQueue(store, lmq, 0, 0, store.getMaxOffset(lmq, 0), 16);
      for (const sm of scan.messages.values()) expect(isVictim(sm.commitLogOffset)).toBe(false);
      const expected = stored.filter((s) => s.lmqs.includes(lmq) && !isVictim(s.result.commitLogOffset)).length;
      expect(scan.messages.size).toBe(expected);
    }
    for (const [offset, field] of victims) {
      const s = stored[offset]!;
      const r = await store.get(T, 0, offset, 1);
      expect(r.messages, field).toEqual([]);
      expect(r.status, field).not.toBe('FOUND');
      expect(r.nextOffset, field).toBe(offset + 1);
      expect(await store.readRecord(s.result.commitLogOffset), field).toBeNull();
      expect(await store.readRecord(s.result.commitLogOffset, s.result.size), field).toBeNull();
    }
    for (const [offset, s] of stored.entries()) {
      if (victims.has(offset)) continue;
      const rec = await store.readRecord(s.result.commitLogOffset);
      expect(rec && decode(rec).body.equals(s.body), `readRecord of offset ${offset}`).toBe(true);
    }
    expect(log.lines.filter((l) => l.level === 'error' && /corrupt/.test(l.msg)).length).toBeGreaterThan(0);

    // Writing goes on at the next offsets.
    const r = await store.put({ topic: T, queueId: 0, body: Buffer.from('after'), properties: { [PropertyKey.INNER_MULTI_DISPATCH]: LMQ_A } });
    expect(r.queueOffset).toBe(stored.length);
    expect(r.lmqOffsets).toEqual([stored.length]);
    await close(store);
  });
});
