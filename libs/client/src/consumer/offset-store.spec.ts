import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalOffsetStore } from './offset-store.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('LocalOffsetStore', () => {
  it('keeps increase-only offsets and round-trips them through its file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'apogee-offsets-'));
    dirs.push(dir);
    const file = path.join(dir, 'offsets.json');
    const q = { topic: '%RETRY%G', brokerName: 'broker@x', queueId: 3 };
    const store = new LocalOffsetStore(file);
    await store.load();
    expect(store.read(q)).toBeUndefined();
    store.update(q, 10, true);
    store.update(q, 5, true);
    expect(store.read(q)).toBe(10);
    store.update(q, 5, false);
    expect(store.read(q)).toBe(5);
    await store.persist();
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ offsetTable: { '%RETRY%G@broker@x@3': 5 } });
    const again = new LocalOffsetStore(file);
    await again.load();
    expect(await again.readFromStore(q)).toBe(5);
  });
});
