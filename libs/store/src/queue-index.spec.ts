import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openIndexEnv, type IndexEnv } from './index-env.js';
import { QueueIndex } from './queue-index.js';
import { STATE_OVERHEAD_BYTES } from './queue-state.js';
import { memoryLogger, tempDir } from './test-support.js';

let env: IndexEnv | undefined;
let cleanup: (() => void) | undefined;

afterEach(async () => {
  await env?.root.close();
  env = undefined;
  cleanup?.();
  cleanup = undefined;
});

function newIndex(maxCached: number, maxBytes: number): QueueIndex {
  const t = tempDir('apg-qidx-');
  cleanup = t.cleanup;
  env = openIndexEnv(path.join(t.dir, 'index'));
  return new QueueIndex(env, maxCached, memoryLogger(), maxBytes);
}

/** Appends `n` entries to each queue, records of 100 B laid end to end; returns the log end. */
function fill(index: QueueIndex, queues: number, n: number): number {
  let log = 0;
  for (let q = 0; q < queues; q++) {
    const st = index.lookup(`q${q}`, 0, true)!;
    for (let i = 0; i < n; i++, log += 100) index.append(st, log, 100, 0, 1);
  }
  return log;
}

describe('QueueIndex memory', () => {
  it('counts what cached states hold: more entries, more bytes', () => {
    const index = newIndex(1000, Number.POSITIVE_INFINITY);
    fill(index, 1, 1);
    const one = index.cachedBytes;
    expect(one).toBeGreaterThanOrEqual(STATE_OVERHEAD_BYTES);
    fill(index, 1, 200);
    expect(index.cachedBytes).toBeGreaterThan(one + 100 * 28);
  });

  it('evicts clean queues, oldest first, until the cache is back within its bytes', async () => {
    const index = newIndex(100_000, 64 * 1024);
    const end = fill(index, 200, 64);
    expect(index.cachedBytes).toBeGreaterThan(64 * 1024);
    await index.flush(end); // persisted and committed: now evictable
    expect(index.cachedBytes).toBeLessThanOrEqual(64 * 1024 * 0.9);
    expect(index.cachedCount).toBeLessThan(200);
    expect(index.cached('q0', 0)).toBeUndefined(); // the oldest went first
    expect(index.cached('q199', 0)).toBeDefined();
    // An evicted queue reads back from LMDB, every entry intact.
    const st = index.lookup('q0', 0, false)!;
    expect(st.next).toBe(64);
    expect(index.entry(st, 63)).not.toBeNull();
  });

  it('keeps queues that are not yet persisted, or observed, whatever the bytes', async () => {
    const index = newIndex(100_000, 1024);
    const stop = index.onArrival('q0', 0, () => {});
    const end = fill(index, 3, 10);
    await index.flush(end);
    expect(index.cached('q0', 0)).toBeDefined(); // a listener watches it
    expect(index.cached('q1', 0)).toBeUndefined();
    stop();
    fill(index, 1, 5); // q0 again, unobserved now but dirty: not flushed yet
    await new Promise((r) => setImmediate(r));
    expect(index.cached('q0', 0)).toBeDefined();
  });

  it('frees the bytes of a removed queue', async () => {
    const index = newIndex(100_000, Number.POSITIVE_INFINITY);
    const end = fill(index, 2, 10);
    await index.flush(end);
    const before = index.cachedBytes;
    const meta = index.meta('q1', 0)!;
    await index.remove(meta, () => {});
    expect(index.cachedBytes).toBeLessThan(before);
    expect(index.cachedCount).toBe(1);
  });
});
