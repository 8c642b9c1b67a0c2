import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { decodeRecord } from '@apogee/message';
import { afterEach, describe, expect, it } from 'vitest';
import { CHECKPOINT_FORMAT_VERSION } from './checkpoint.js';
import { StoreError, StoreFormatError } from './errors.js';
import { DATA_DIR_FORMAT_VERSION, FORMAT_FILE, INDEX_FORMAT_KEY, INDEX_FORMAT_VERSION } from './format.js';
import * as publicApi from './index.js';
import { openIndexEnv } from './index-env.js';
import type { DefaultMessageStore } from './message-store.js';
import { memoryLogger, openTestStore, tempDir } from './test-support.js';

let cleanup: (() => void) | undefined;
let store: DefaultMessageStore | undefined;

afterEach(async () => {
  await store?.close();
  store = undefined;
  cleanup?.();
  cleanup = undefined;
});

function newDir(): string {
  const t = tempDir();
  cleanup = t.cleanup;
  return t.dir;
}

/** The index's format record as stored (opened directly, the store being closed). */
async function indexFormatRecord(dir: string): Promise<Buffer | undefined> {
  const env = openIndexEnv(path.join(dir, 'index'));
  try {
    return env.sys.get(INDEX_FORMAT_KEY);
  } finally {
    await env.root.close();
  }
}

async function setIndexFormatRecord(dir: string, value: Buffer | undefined): Promise<void> {
  const env = openIndexEnv(path.join(dir, 'index'));
  try {
    if (value === undefined) await env.sys.remove(INDEX_FORMAT_KEY);
    else await env.sys.put(INDEX_FORMAT_KEY, value);
  } finally {
    await env.root.close();
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

/** Digest of every file of the data directory but the lock files (which only say who holds it). */
function digestDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!e.name.includes('lock')) out[path.relative(dir, p)] = createHash('sha1').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** A closed store holding messages, a consumer offset, a topic config and a meta KV entry. */
async function populated(dir: string): Promise<Array<{ queueOffset: number }>> {
  const s = await openTestStore(dir);
  const puts = [];
  for (let i = 0; i < 30; i++)
    puts.push(await s.put({ topic: 'T', queueId: 0, body: Buffer.from(`b${i}`), properties: { INNER_MULTI_DISPATCH: '%LMQ%f', KEYS: `k${i}` } }));
  await s.commitOffset('G', 'T', 0, 7);
  await s.putTopicConfig({
    topicName: 'T',
    readQueueNums: 1,
    writeQueueNums: 1,
    perm: 6,
    topicFilterType: 'SINGLE_TAG',
    topicSysFlag: 0,
    order: false,
    attributes: {},
  });
  await s.metaPut('ns', 'k', Buffer.from('v'));
  await s.close();
  return puts;
}

async function expectData(s: DefaultMessageStore): Promise<void> {
  expect(s.getMaxOffset('T', 0)).toBe(30);
  expect(s.getMaxOffset('%LMQ%f', 0)).toBe(30);
  const got = await s.get('T', 0, 29, 1);
  expect(decodeRecord(got.messages[0]!.record).body.toString()).toBe('b29');
  expect(s.getConsumerOffset('G', 'T', 0)).toBe(7);
  expect(s.getTopicConfig('T')?.perm).toBe(6);
  expect(s.metaGet('ns', 'k')?.toString()).toBe('v');
}

async function expectFormatError(dir: string, file: string, found: number | null, expected: number): Promise<StoreFormatError> {
  const err = await openTestStore(dir).then(
    (s) => {
      store = s;
      return null;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreFormatError);
  const e = err as StoreFormatError;
  expect(e).toBeInstanceOf(StoreError);
  expect(e.code).toBe('APG_STORE_FORMAT');
  expect(e.file).toContain(file);
  expect(e.found).toBe(found);
  expect(e.expected).toBe(expected);
  expect(e.message).toContain(file);
  expect(e.message).toContain(`version ${expected}`);
  return e;
}

describe('format versions', () => {
  it('stamps a fresh data directory with the current versions', async () => {
    const dir = newDir();
    store = await openTestStore(dir);
    expect(fs.readFileSync(path.join(dir, FORMAT_FILE), 'latin1')).toBe(`apogee-store format ${DATA_DIR_FORMAT_VERSION}\n`);
    await store.close();
    store = undefined;
    expect(await indexFormatRecord(dir)).toEqual(u32(INDEX_FORMAT_VERSION));
    expect(fs.readFileSync(path.join(dir, 'checkpoint')).readUInt32BE(4)).toBe(CHECKPOINT_FORMAT_VERSION);
    // And opens again as it is.
    store = await openTestStore(dir);
  });

  it('opens a data directory from before format versions, reads it as version 1 and stamps it', async () => {
    const dir = newDir();
    await populated(dir);
    // What a store from before this change left: no format file, no format record in LMDB.
    fs.rmSync(path.join(dir, FORMAT_FILE));
    await setIndexFormatRecord(dir, undefined);
    expect(await indexFormatRecord(dir)).toBeUndefined();
    const log = memoryLogger();
    store = await openTestStore(dir, {}, log);
    await expectData(store);
    expect(log.lines.some((l) => l.msg.includes('had no format version'))).toBe(true);
    expect(fs.readFileSync(path.join(dir, FORMAT_FILE), 'latin1')).toBe(`apogee-store format ${DATA_DIR_FORMAT_VERSION}\n`);
    await store.close();
    store = undefined;
    expect(await indexFormatRecord(dir)).toEqual(u32(INDEX_FORMAT_VERSION));
  });

  it('refuses a newer LMDB index format with StoreFormatError and leaves the data untouched', async () => {
    const dir = newDir();
    await populated(dir);
    await setIndexFormatRecord(dir, u32(INDEX_FORMAT_VERSION + 1));
    const before = digestDir(dir);
    const e = await expectFormatError(dir, 'index', INDEX_FORMAT_VERSION + 1, INDEX_FORMAT_VERSION);
    expect(e.message).toContain('newer');
    expect(digestDir(dir)).toEqual(before);
    expect(fs.readFileSync(path.join(dir, 'lock'), 'utf8')).toBe(''); // released: the kernel lock is gone, the file names no owner
    // A record that is no version at all is refused too.
    await setIndexFormatRecord(dir, Buffer.from('x'));
    await expectFormatError(dir, 'index', null, INDEX_FORMAT_VERSION);
    // Put back, the directory opens with all its data.
    await setIndexFormatRecord(dir, u32(INDEX_FORMAT_VERSION));
    store = await openTestStore(dir);
    await expectData(store);
  });

  it('refuses a checkpoint of another version with StoreFormatError and leaves the data untouched', async () => {
    const dir = newDir();
    await populated(dir);
    const cpFile = path.join(dir, 'checkpoint');
    const original = fs.readFileSync(cpFile);
    const tampered = Buffer.from(original);
    tampered.writeUInt32BE(CHECKPOINT_FORMAT_VERSION + 1, 4);
    fs.writeFileSync(cpFile, tampered);
    const before = digestDir(dir);
    await expectFormatError(dir, 'checkpoint', CHECKPOINT_FORMAT_VERSION + 1, CHECKPOINT_FORMAT_VERSION);
    expect(digestDir(dir)).toEqual(before);
    fs.writeFileSync(cpFile, original);
    store = await openTestStore(dir);
    await expectData(store);
  });

  it('refuses a data directory format file of another version, or unreadable, and leaves the data untouched', async () => {
    const dir = newDir();
    await populated(dir);
    const file = path.join(dir, FORMAT_FILE);
    const original = fs.readFileSync(file);
    for (const [text, found] of [
      [`apogee-store format ${DATA_DIR_FORMAT_VERSION + 1}\n`, DATA_DIR_FORMAT_VERSION + 1],
      ['apogee-store format 0\n', 0],
      ['something else\n', null],
    ] as const) {
      fs.writeFileSync(file, text);
      const before = digestDir(dir);
      await expectFormatError(dir, FORMAT_FILE, found, DATA_DIR_FORMAT_VERSION);
      expect(digestDir(dir)).toEqual(before);
    }
    fs.writeFileSync(file, original);
    store = await openTestStore(dir);
    await expectData(store);
  });

  it('exports StoreFormatError from the public surface, and not the store class', () => {
    expect(publicApi.StoreFormatError).toBe(StoreFormatError);
    expect(Object.keys(publicApi).sort()).toEqual(
      [
        'DEFAULT_MEMORY_BUDGET_BYTES',
        'IllegalPutError',
        'MIN_MEMORY_BUDGET_BYTES',
        'MessageTooLargeError',
        'STORE_DEFAULTS',
        'StoreCorruptError',
        'StoreError',
        'StoreFormatError',
        'StoreLockedError',
        'ReplicationError',
        'MetaFeedError',
        'StoreUnavailableError',
        'openStore',
        'splitMemoryBudget',
      ].sort(),
    );
  });
});
