import { RequestCode } from '@apogee/remoting';
import { afterEach, describe, expect, it } from 'vitest';
import { PullConsumer } from '../src/index.js';
import { startCluster } from './fake-cluster.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const cluster = await startCluster(['broker-a']);
  cleanups.push(cluster.close);
  const b = cluster.brokers[0]!;
  cluster.ns.topics.set('T', { brokers: cluster.brokers, queues: 2 });
  const pc = new PullConsumer({ nameServer: cluster.ns.addr, group: 'PCG', persistOffsetMs: 3_600_000 });
  await pc.start();
  cleanups.push(() => pc.shutdown());
  return { b, pc };
}

describe('PullConsumer on the wire', () => {
  it('pulls with statuses FOUND / NO_NEW_MSG / OFFSET_ILLEGAL and filters tags', async () => {
    const { b, pc } = await setup();
    const queues = await pc.fetchSubscribeQueues('T');
    expect(queues).toEqual([
      { topic: 'T', brokerName: 'broker-a', queueId: 0 },
      { topic: 'T', brokerName: 'broker-a', queueId: 1 },
    ]);
    b.put('T', 0, Buffer.from('a1'), { TAGS: 'a' });
    b.put('T', 0, Buffer.from('b1'), { TAGS: 'b' });
    b.put('T', 0, Buffer.from('a2'), { TAGS: 'a' });
    const r = await pc.pull(queues[0]!, 'a', 0, 32);
    expect(r.status).toBe('FOUND');
    expect(r.messages.map((m) => m.body.toString())).toEqual(['a1', 'a2']);
    expect(r.messages[0]!.properties['MAX_OFFSET']).toBe('3');
    expect(r).toMatchObject({ nextBeginOffset: 3, minOffset: 0, maxOffset: 3 });
    const req = b.requests(RequestCode.PULL_MESSAGE)[0]!;
    expect(req.extFields).toMatchObject({
      consumerGroup: 'PCG',
      topic: 'T',
      queueId: '0',
      queueOffset: '0',
      maxMsgNums: '32',
      sysFlag: '4',
      subscription: 'a',
    });
    const none = await pc.pull(queues[0]!, '*', 3, 32);
    expect(none.status).toBe('NO_NEW_MSG');
    expect(none.messages).toEqual([]);
    const moved = await pc.pull(queues[0]!, '*', 50, 32);
    expect(moved).toMatchObject({ status: 'OFFSET_ILLEGAL', nextBeginOffset: 3 });
    // A long poll is woken by an arriving message.
    const waiting = pc.pull(queues[1]!, '*', 0, 32, { suspendMs: 30_000 });
    setImmediate(() => b.put('T', 1, Buffer.from('woke'), {}));
    const woke = await waiting;
    expect(woke.messages.map((m) => m.body.toString())).toEqual(['woke']);
    expect(Number(b.requests(RequestCode.PULL_MESSAGE).at(-1)!.extFields['sysFlag']) & 2).toBe(2);
  });

  it('reads and writes offsets', async () => {
    const { b, pc } = await setup();
    const [q0, q1] = await pc.fetchSubscribeQueues('T');
    for (let i = 0; i < 5; i++) b.put('T', 0, Buffer.from(`m${i}`), {});
    expect(await pc.fetchConsumeOffset(q0!)).toBe(-1);
    await pc.commitOffset(q0!, 4);
    expect(await pc.fetchConsumeOffset(q0!)).toBe(4);
    expect(await pc.maxOffset(q0!)).toBe(5);
    expect(await pc.minOffset(q0!)).toBe(0);
    expect(await pc.searchOffset(q0!, Date.now())).toBe(0);
    pc.updateOffset(q1!, 7);
    expect(b.offsets.get('T@PCG@1')).toBeUndefined();
    await pc.shutdown();
    expect(b.offsets.get('T@PCG@1')).toBe(7);
    expect(b.requests(RequestCode.UNREGISTER_CLIENT)[0]!.extFields).toMatchObject({ consumerGroup: 'PCG' });
  });
});
