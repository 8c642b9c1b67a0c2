import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Broker } from '../broker.js';
import type { Engine } from '../engine.js';
import type { AppendedMessage } from '../live/live-feed.js';
import { openStore, type MessageStore, type PutResult } from '@apogee/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type GroupConsumer, type Entry, GroupReader } from './group-reader.js';

let dir: string;
let store: MessageStore;
let engine: Broker;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-qr-'));
  store = await openStore({ dataDir: dir, segmentSize: 1024 * 1024 });
  engine = await Broker.open({ store, configDir: path.join(dir, 'config') });
});

afterEach(async () => {
  await engine.close();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A consumer that takes up to `credit` deliveries and records their bodies. */
function consumer(credit: number): GroupConsumer & { got: Entry[] } {
  const got: Entry[] = [];
  return {
    got,
    draining: false,
    room: () => credit - got.length,
    deliver: (e) => void got.push(e),
    drained: () => {},
  };
}

function reader(): GroupReader {
  return new GroupReader({
    engine,
    group: 'G',
    topic: 'Q',
    queueCount: 1,
    readBatch: 16,
    start: 'oldest',
    durable: true,
    deadLetter: async () => {},
    onError: (err) => {
      throw err;
    },
  });
}

const append = (body: string): PutResult => store.putUnconfirmed({ topic: 'Q', queueId: 0, body: Buffer.from(body) });
const live = (r: PutResult, body: string): AppendedMessage => ({
  topic: 'Q',
  queueId: 0,
  queueOffset: r.queueOffset,
  commitLogOffset: r.commitLogOffset,
  msgId: r.msgId,
  properties: new Map(),
  body: Buffer.from(body),
  sysFlag: 0,
  bornTimestamp: 0,
  offset: r.queueOffset,
});
const idle = () => new Promise((res) => setTimeout(res, 10));
const bodies = (c: { got: Entry[] }) => c.got.map((e) => e.message.body.toString());

describe('GroupReader.offer (messages from memory)', () => {
  it('takes a message it is caught up to, in order with what it reads from the store, once each', async () => {
    const r = reader();
    await r.open();
    const c = consumer(10);
    r.add(c);
    await idle(); // the pass that add() started (nothing to read) has ended
    const a = append('a');
    expect(r.offer(0, live(a, 'a'))).toBe(true);
    // Not the next offset: refused, read from the store once written.
    const b = append('b');
    const cc = append('c');
    expect(r.offer(0, live(cc, 'c'))).toBe(false);
    await store.whenConfirmed(cc);
    r.pump();
    await new Promise((res) => setTimeout(res, 50));
    expect(bodies(c)).toEqual(['a', 'b', 'c']);
    expect(b.queueOffset).toBe(1);
    await r.close();
  });

  it('leaves a message to the store read when no consumer has room', async () => {
    const r = reader();
    await r.open();
    const c = consumer(0);
    r.add(c);
    const a = append('a');
    expect(r.offer(0, live(a, 'a'))).toBe(false);
    await r.close();
  });

  it('never commits a position past what the store has written, and commits the rest once it is', async () => {
    // The engine as the reader sees it, with the write of the last message held back.
    let written = 0;
    const view = new Proxy(engine as Engine, {
      get(target, key) {
        if (key === 'maxOffset') return () => written;
        const v = Reflect.get(target, key) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const r = new GroupReader({
      engine: view,
      group: 'G',
      topic: 'Q',
      queueCount: 1,
      readBatch: 16,
      start: 'oldest',
      durable: true,
      deadLetter: async () => {},
      onError: (err) => {
        throw err;
      },
    });
    await r.open();
    const c = consumer(10);
    r.add(c);
    await idle();
    const a = append('a');
    expect(r.offer(0, live(a, 'a'))).toBe(true);
    r.settle(c.got[0]!, 'accepted', c);
    await new Promise((res) => setTimeout(res, 250)); // past the commit interval
    expect(store.getConsumerOffset('G', 'Q', 0)).toBe(0);
    written = 1;
    await new Promise((res) => setTimeout(res, 250));
    expect(store.getConsumerOffset('G', 'Q', 0)).toBe(1);
    await r.close();
  });
});
