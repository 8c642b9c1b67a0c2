/**
 * Child process of the restart suite: fills `<dataDir>/store` (the server's layout) with `bulkMiB` of
 * 4 KiB messages and `lmqs` distinct LMQs (100 per message), then closes the store cleanly.
 */
import path from 'node:path';
import { openStore } from '@apogee/store';
import { childMain } from '../../child.js';
import { pump } from '../../runner.js';
import { makeBody, MiB } from '../store/common.js';
import { dispatchTo, lmqName } from '../store/lmq.js';

export interface FillInput {
  dataDir: string;
  bulkMiB: number;
  lmqs: number;
}

export interface FillOutput {
  commitLogBytes: number;
  lmqs: number;
  fillMs: number;
}

const PER_MESSAGE = 100;
const BULK_BODY = 4096;

async function fill(input: FillInput): Promise<FillOutput> {
  const t0 = performance.now();
  const store = await openStore({ dataDir: path.join(input.dataDir, 'store'), flushMode: 'ASYNC_FLUSH' });
  const bulk = makeBody(BULK_BODY);
  await pump({
    window: 64,
    maxOps: Math.ceil((input.bulkMiB * MiB) / BULK_BODY),
    durationMs: Number.POSITIVE_INFINITY,
    op: async (i) => void (await store.put({ topic: 'RestartBulk', queueId: i % 8, body: bulk })),
  });
  const small = makeBody(64);
  await pump({
    window: 64,
    maxOps: Math.ceil(input.lmqs / PER_MESSAGE),
    durationMs: Number.POSITIVE_INFINITY,
    op: async (i) => {
      const names = Array.from({ length: PER_MESSAGE }, (_, j) => lmqName('restart/d', i * PER_MESSAGE + j));
      await store.put({ topic: 'RestartLmq', queueId: 0, body: small, properties: dispatchTo(names) });
    },
  });
  const stats = store.stats();
  const commitLogBytes = stats.maxCommitLogOffset - stats.minCommitLogOffset;
  await store.close();
  return { commitLogBytes, lmqs: input.lmqs, fillMs: performance.now() - t0 };
}

await childMain(fill);
