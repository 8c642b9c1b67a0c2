/**
 * Child process of crash.spec.ts:
 *   node --import tsx libs/store/test/crash-writer.ts <dataDir> <seed> <cycle> [maxCachedQueues]
 *
 * Opens the store (SYNC_FLUSH, 256 KiB segments) and runs 32 concurrent producers putting
 * messages (some through putBatch) to a few topic queues, each dispatched into 0–4 overlapping
 * LMQs of a pool of 20, bodies from 1 B to 12 KiB. Every put that resolves is acknowledged with
 * one JSON line on stdout (CrashAck). The parent SIGKILLs this process at a random moment.
 *
 * Bounded on its own: it stops after 30 s or 40,000 puts, or as soon as stdin closes (the parent
 * went away), then closes the store cleanly and exits.
 */
import { PropertyKey } from '@apogee/message';
import { type PutMessage, type PutResult, openStore } from '../src/index.js';
import { CRASH_LMQS, CRASH_QUEUES, CRASH_SEGMENT_SIZE, type CrashAck, digest, pickDistinct, prng, randInt, randomBody } from './helpers.js';

const PRODUCERS = 32;
const MAX_PUTS = 40_000;
const MAX_MS = 30_000;

function out(line: object): void {
  // stdout is a pipe: writes are synchronous on Linux, so an acknowledged line is in the pipe
  // before this process does anything else.
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

async function main(): Promise<void> {
  const [dir, seedArg, cycleArg, cacheArg] = process.argv.slice(2);
  if (!dir) throw new Error('usage: crash-writer.ts <dataDir> <seed> <cycle> [maxCachedQueues]');
  const seed = Number(seedArg ?? 1);
  const cycle = Number(cycleArg ?? 0);
  const maxCachedQueues = Number(cacheArg ?? 0);
  const store = await openStore({
    dataDir: dir,
    flushMode: 'SYNC_FLUSH',
    segmentSize: CRASH_SEGMENT_SIZE,
    ...(maxCachedQueues > 0 ? { maxCachedQueues } : {}),
  });
  out({ ready: true, pid: process.pid });

  let stopping = false;
  let puts = 0;
  const deadline = Date.now() + MAX_MS;
  process.stdin.on('end', () => (stopping = true));
  process.stdin.on('close', () => (stopping = true));
  process.stdin.resume();

  const makeMessage = (rnd: () => number, p: number, seq: number): PutMessage => {
    const q = CRASH_QUEUES[randInt(rnd, 0, CRASH_QUEUES.length - 1)]!;
    const r = rnd();
    const size = r < 0.7 ? randInt(rnd, 1, 512) : r < 0.9 ? randInt(rnd, 513, 4096) : randInt(rnd, 4097, 12_000);
    const properties: Record<string, string> = { W: `${cycle}-${p}-${seq}`, TAGS: `tag${p % 4}` };
    const nLmq = randInt(rnd, 0, 4);
    if (nLmq > 0) properties[PropertyKey.INNER_MULTI_DISPATCH] = pickDistinct(rnd, CRASH_LMQS, nLmq).join(',');
    return { topic: q.topic, queueId: q.queueId, body: randomBody(rnd, size), properties };
  };

  const ack = (m: PutMessage, r: PutResult): void => {
    const lmqs = (m.properties as Record<string, string>)[PropertyKey.INNER_MULTI_DISPATCH];
    const a: CrashAck = {
      c: cycle,
      t: m.topic,
      q: m.queueId,
      qo: r.queueOffset,
      clo: r.commitLogOffset,
      size: r.size,
      l: lmqs ? lmqs.split(',') : [],
      lo: r.lmqOffsets,
      d: digest(m.body),
    };
    out(a);
  };

  const producer = async (p: number): Promise<void> => {
    const rnd = prng(seed * 1000 + p);
    for (let seq = 0; !stopping && puts < MAX_PUTS && Date.now() < deadline; seq++) {
      if (rnd() < 0.15) {
        const batch = Array.from({ length: randInt(rnd, 2, 4) }, (_, i) => makeMessage(rnd, p, seq * 10 + i));
        puts += batch.length;
        const results = await store.putBatch(batch);
        batch.forEach((m, i) => ack(m, results[i]!));
      } else {
        const m = makeMessage(rnd, p, seq);
        puts++;
        ack(m, await store.put(m));
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: PRODUCERS }, (_, p) => producer(p)));
  } catch (err) {
    out({ error: String((err as Error).stack ?? err) });
    process.exitCode = 2;
  }
  await store.close();
  out({ done: true, puts });
  process.stdin.pause();
}

main().catch((err: unknown) => {
  out({ error: String((err as Error).stack ?? err) });
  process.exit(3);
});
