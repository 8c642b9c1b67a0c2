/**
 * Load generator of `pull-sql92`: fills queue 0 of a topic with messages whose property `k` is
 * i mod 10, then walks the whole queue with PULL_MESSAGE (32 per pull, one pull in flight) with an
 * SQL92 filter matching k = 0 and without a filter, alternated run by run. Checks that the
 * filtered walk delivered exactly the matching tenth.
 */
import { MessageSelector, Producer, PullConsumer, type MessageQueue } from '@apogee/client';
import { childMain } from '../../child.js';
import { alternate, runLabel } from '../../runner.js';

export interface Sql92PullInput {
  nameServer: string;
  topic: string;
  bodySize: number;
  messages: number;
  runs: number;
}

export interface Sql92PullOutput {
  filtered: number[];
  unfiltered: number[];
  filteredDelivered: number[];
}

const WINDOW = 2000;

function log(message: string): void {
  process.stderr.write(message + '\n');
}

async function fill(producer: Producer, queue: MessageQueue, input: Sql92PullInput): Promise<void> {
  const body = Buffer.alloc(input.bodySize, 0x61);
  let next = 0;
  const worker = async () => {
    while (next < input.messages) {
      const i = next++;
      await producer.send({ topic: input.topic, body, properties: { k: String(i % 10) } }, { queue });
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, worker));
}

async function walk(
  consumer: PullConsumer,
  queue: MessageQueue,
  selector: MessageSelector,
  end: number,
): Promise<{ entries: number; delivered: number; ms: number }> {
  const t0 = performance.now();
  let offset = 0;
  let delivered = 0;
  while (offset < end) {
    const r = await consumer.pull(queue, selector, offset, 32);
    delivered += r.messages.length;
    if (r.nextBeginOffset <= offset) throw new Error(`pull did not advance at ${offset} (${r.status})`);
    offset = r.nextBeginOffset;
  }
  return { entries: offset, delivered, ms: performance.now() - t0 };
}

async function run(input: Sql92PullInput): Promise<Sql92PullOutput> {
  const producer = new Producer({ nameServer: input.nameServer, group: 'bench_sql92_pg', sendTimeoutMs: 10_000, retryTimes: 0 });
  const consumer = new PullConsumer({ nameServer: input.nameServer, group: 'bench_sql92_cg' });
  producer.on('error', () => {});
  consumer.on('error', () => {});
  await producer.start();
  await consumer.start();
  try {
    const queue = (await consumer.fetchSubscribeQueues(input.topic)).find((q) => q.queueId === 0)!;
    log(`   filling ${input.messages} messages`);
    await fill(producer, queue, input);
    const end = await consumer.maxOffset(queue);
    const filteredDelivered: number[] = [];
    const variant = (name: string, selector: MessageSelector, expected: number) => async (r: number) => {
      const w = await walk(consumer, queue, selector, end);
      if (w.delivered !== expected) throw new Error(`${name}: delivered ${w.delivered}, expected ${expected}`);
      const rate = w.entries / (w.ms / 1000);
      if (name === 'sql92' && r >= 0) filteredDelivered.push(w.delivered / (w.ms / 1000));
      log(
        `   ${runLabel(r)} ${name.padEnd(8)} ${w.entries} entries in ${w.ms.toFixed(0).padStart(6)} ms = ${rate.toFixed(0).padStart(8)} entries/s (${w.delivered} delivered)`,
      );
      return rate;
    };
    const matching = Math.ceil(end / 10);
    const [filtered, unfiltered] = await alternate(
      input.runs,
      [variant('sql92', MessageSelector.bySql('k = 0'), matching), variant('none', MessageSelector.byTag('*'), end)],
      { warmup: true },
    );
    return { filtered: filtered!, unfiltered: unfiltered!, filteredDelivered };
  } finally {
    await consumer.shutdown();
    await producer.shutdown();
  }
}

await childMain(run);
