/**
 * Child process of metadata-crash.spec.ts:
 *   node --import tsx libs/store/test/metadata-writer.ts <dataDir> <cycle>
 *
 * Commits ever-growing consumer offsets for 3 groups × 4 queues (and LMQ offsets) from 8
 * concurrent loops, and now and then a topic config; each commit that resolves is acknowledged
 * with one JSON line on stdout. The parent SIGKILLs it. Bounded: 20 s or 20,000 commits.
 */
import { openStore } from '../src/index.js';
import { PERM_READ, PERM_WRITE } from '@apogee/message';

const out = (line: object): void => void process.stdout.write(`${JSON.stringify(line)}\n`);

const [dir, cycleArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: metadata-writer.ts <dataDir> <cycle>');
const cycle = Number(cycleArg ?? 0);
const store = await openStore({ dataDir: dir, segmentSize: 256 * 1024 });
out({ ready: true });
const deadline = Date.now() + 20_000;
let commits = 0;
const loop = async (w: number): Promise<void> => {
  // Offsets grow with the cycle, so an offset seen after a restart always comes from this run or later.
  for (let n = 0; commits < 20_000 && Date.now() < deadline; n++) {
    const group = `g${w % 3}`;
    const topic = w % 2 === 0 ? 'T' : `%LMQ%dev/${w}`;
    const queueId = topic === 'T' ? w % 4 : 0;
    const offset = cycle * 1_000_000 + n;
    await store.commitOffset(group, topic, queueId, offset);
    commits++;
    out({ group, topic, queueId, offset });
    if (n % 50 === 0) {
      const name = `Topic${cycle}x${w}x${n}`;
      await store.putTopicConfig({
        topicName: name,
        readQueueNums: 4,
        writeQueueNums: 4,
        perm: PERM_READ | PERM_WRITE,
        topicFilterType: 'SINGLE_TAG',
        topicSysFlag: 0,
        order: false,
        attributes: {},
      });
      out({ topicConfig: name });
    }
  }
};
await Promise.all(Array.from({ length: 8 }, (_, w) => loop(w)));
await store.close();
out({ done: true });
