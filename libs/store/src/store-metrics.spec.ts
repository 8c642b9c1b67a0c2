import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DefaultMessageStore } from './message-store.js';
import { openTestStore, tempDir } from './test-support.js';

let cleanup: () => void;
let store: DefaultMessageStore;

beforeEach(async () => {
  let dir: string;
  ({ dir, cleanup } = tempDir());
  store = await openTestStore(dir, { flushMode: 'ASYNC_FLUSH' });
});

afterEach(async () => {
  await store.close();
  cleanup();
});

describe('store figures for metrics', () => {
  it('times every commit-log fdatasync of a flush in its histogram', async () => {
    const before = store.fsyncLatency.count;
    await store.put({ topic: 'T', queueId: 0, body: Buffer.from('x') });
    await store.flush();
    const s = store.fsyncLatency.snapshot();
    expect(s.count).toBeGreaterThan(before);
    expect(s.cumulative[s.cumulative.length - 1]).toBe(s.count);
    expect(s.sum).toBeGreaterThanOrEqual(0);
  });

  it('reports the size of the commit-log segment files', async () => {
    await store.put({ topic: 'T', queueId: 0, body: Buffer.from('x') });
    const s = store.stats();
    expect(s.segments).toBeGreaterThan(0);
    expect(s.commitLogFileBytes % s.segments).toBe(0);
    expect(s.commitLogFileBytes).toBeGreaterThanOrEqual(s.maxCommitLogOffset - s.minCommitLogOffset);
  });
});
