import os from 'node:os';
import { encodeStandaloneRecord } from '@apogee/message';
import { describe, expect, it } from 'vitest';
import { StoreDiskProbe, type OldestRecordSource } from './store-disk-probe.js';

function fakeStore(record: Buffer | null): OldestRecordSource & { reads: number; min: number } {
  const s = {
    reads: 0,
    min: 0,
    storeStats: () => ({ minCommitLogOffset: s.min, maxCommitLogOffset: 1000 }),
    readRecord: async () => {
      s.reads++;
      return record;
    },
  };
  return s;
}

describe('StoreDiskProbe', () => {
  it('reports the filesystem and the oldest record, looking again only after the interval', async () => {
    let now = 0;
    const store = fakeStore(null);
    const probe = new StoreDiskProbe(os.tmpdir(), store, 5000, () => now);
    const first = await probe.read();
    expect(first.freeBytes).toBeGreaterThan(0);
    expect(first.totalBytes).toBeGreaterThanOrEqual(first.freeBytes!);
    expect(store.reads).toBe(1);
    now = 4999;
    await probe.read();
    expect(store.reads).toBe(1);
    now = 10_000;
    await probe.read();
    // A record that could not be read is read again at the next look.
    expect(store.reads).toBe(2);
  });

  it('reads the store time of the first record once per commit-log start', async () => {
    let now = 0;
    const host = Buffer.alloc(8);
    const record = encodeStandaloneRecord({
      topic: Buffer.from('T'),
      queueId: 0,
      flag: 0,
      queueOffset: 0,
      physicalOffset: 0,
      sysFlag: 0,
      bornTimestamp: 1,
      bornHost: host,
      storeTimestamp: 1_234_567,
      storeHost: host,
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
      body: Buffer.from('x'),
      properties: '',
    });
    const store = fakeStore(record);
    const probe = new StoreDiskProbe(os.tmpdir(), store, 1, () => now);
    expect((await probe.read()).oldestStoreTimestamp).toBe(1_234_567);
    now = 10;
    await probe.read();
    expect(store.reads).toBe(1);
    store.min = 500;
    now = 20;
    await probe.read();
    expect(store.reads).toBe(2);
  });

  it('answers null figures for a missing directory instead of failing the scrape', async () => {
    const probe = new StoreDiskProbe('/nonexistent/apogee-metrics', fakeStore(null));
    expect(await probe.read()).toMatchObject({ freeBytes: null, totalBytes: null, oldestStoreTimestamp: null });
  });
});
