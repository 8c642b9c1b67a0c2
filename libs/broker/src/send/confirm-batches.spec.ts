import type { MessageStore, PutResult } from '@apogee/store';
import { describe, expect, it } from 'vitest';
import { ConfirmBatches } from './confirm-batches.js';

const put = (end: number): PutResult => ({ commitLogOffset: end - 10, queueOffset: 0, size: 10, storeTimestamp: 0, msgId: '', lmqOffsets: [] });

describe('ConfirmBatches', () => {
  it('waits once per key and task for the last item, and reports every item in order', async () => {
    const waits: number[] = [];
    const gates: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
    const store = {
      whenConfirmed: (r: PutResult) => {
        waits.push(r.commitLogOffset + r.size);
        return new Promise<void>((resolve, reject) => gates.push({ resolve, reject }));
      },
    } as unknown as MessageStore;
    const stored: string[] = [];
    const failed: string[] = [];
    const b = new ConfirmBatches<string, number>(
      store,
      (k, i) => stored.push(`${k}${i}`),
      (k, i) => failed.push(`${k}${i}`),
      (err) => {
        throw err;
      },
    );
    b.add('a', 1, put(10));
    b.add('b', 1, put(20));
    b.add('a', 2, put(30));
    await Promise.resolve();
    expect(waits).toEqual([30, 20]);
    b.add('a', 3, put(40)); // a later task: a batch of its own
    await Promise.resolve();
    expect(waits).toEqual([30, 20, 40]);
    gates[0]!.resolve();
    gates[1]!.reject(new Error('closed'));
    gates[2]!.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(stored).toEqual(['a1', 'a2', 'a3']);
    expect(failed).toEqual(['b1']);
  });

  it('reports the other items of a batch when one report throws, and hands the exception to onError', async () => {
    const store = { whenConfirmed: () => Promise.resolve() } as unknown as MessageStore;
    const stored: number[] = [];
    const errors: string[] = [];
    const b = new ConfirmBatches<string, number>(
      store,
      (_k, i) => {
        if (i === 2) throw new Error('boom');
        stored.push(i);
      },
      () => {},
      (err) => errors.push((err as Error).message),
    );
    for (const i of [1, 2, 3]) b.add('a', i, put(i * 10));
    await new Promise((r) => setTimeout(r, 0));
    expect(stored).toEqual([1, 3]);
    expect(errors).toEqual(['boom']);
  });
});
