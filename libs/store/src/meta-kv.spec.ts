import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IllegalPutError } from './errors.js';
import type { DefaultMessageStore } from './message-store.js';
import { openTestStore, tempDir } from './test-support.js';

let dir: string;
let cleanup: () => void;
let store: DefaultMessageStore;

beforeEach(async () => {
  ({ dir, cleanup } = tempDir());
  store = await openTestStore(dir);
});

afterEach(async () => {
  await store.close();
  cleanup();
});

const b = (s: string) => Buffer.from(s);
const scan = (ns: string, prefix?: string, limit?: number) => [...store.metaScan(ns, prefix, limit)].map((e) => [e.key, e.value.toString()]);

describe('endpoint metadata (metaPut/metaGet/metaDelete/metaScan)', () => {
  it('reads its own writes at once, before they are durable', async () => {
    const p = store.metaPut('sessions', 'c1', b('v1'));
    expect(store.metaGet('sessions', 'c1')?.toString()).toBe('v1');
    expect(scan('sessions')).toEqual([['c1', 'v1']]);
    await p;
    const d = store.metaDelete('sessions', 'c1');
    expect(store.metaGet('sessions', 'c1')).toBeUndefined();
    expect(scan('sessions')).toEqual([]);
    await d;
    expect(store.metaGet('sessions', 'c1')).toBeUndefined();
  });

  it('keeps namespaces apart and scans by prefix in key order, with a limit', async () => {
    await Promise.all([
      store.metaPut('retained', 'a/b', b('1')),
      store.metaPut('retained', 'a/c', b('2')),
      store.metaPut('retained', 'b', b('3')),
      store.metaPut('retainedX', 'a/z', b('other namespace')),
      store.metaPut('retained', 'a/\u00e9', b('unicode')),
    ]);
    // Pending and committed entries merge in order.
    const pending = store.metaPut('retained', 'a/a', b('0'));
    expect(scan('retained', 'a/')).toEqual([
      ['a/a', '0'],
      ['a/b', '1'],
      ['a/c', '2'],
      ['a/\u00e9', 'unicode'],
    ]);
    expect(scan('retained', '', 2)).toEqual([
      ['a/a', '0'],
      ['a/b', '1'],
    ]);
    expect(scan('retainedX')).toEqual([['a/z', 'other namespace']]);
    await pending;
  });

  it('survives a reopen', async () => {
    await store.metaPut('sessions', 'durable', b('state'));
    await store.metaPut('sessions', 'gone', b('x'));
    await store.metaDelete('sessions', 'gone');
    await store.close();
    store = await openTestStore(dir);
    expect(store.metaGet('sessions', 'durable')?.toString()).toBe('state');
    expect(store.metaGet('sessions', 'gone')).toBeUndefined();
  });

  it("copies the value (later changes to the caller's buffer do not leak in)", async () => {
    const v = b('abc');
    const p = store.metaPut('ns', 'k', v);
    v.write('zzz');
    await p;
    expect(store.metaGet('ns', 'k')?.toString()).toBe('abc');
  });

  it('rejects bad namespaces, over-long keys and non-buffer values with IllegalPutError', () => {
    expect(() => store.metaPut('', 'k', b('v'))).toThrow(IllegalPutError);
    expect(() => store.metaPut('a\u0000b', 'k', b('v'))).toThrow(/U\+0000/);
    expect(() => store.metaPut('ns', 'k'.repeat(2000), b('v'))).toThrow(/limit is 1500/);
    expect(() => store.metaPut('ns', 'k', 'v' as unknown as Buffer)).toThrow(/must be a Buffer/);
  });
});
