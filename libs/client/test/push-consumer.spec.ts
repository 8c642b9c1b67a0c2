import { javaStringHashCode } from '@apogee/message';
import { RequestCode, ResponseCode, responseTo } from '@apogee/remoting';
import { afterEach, describe, expect, it } from 'vitest';
import { type MessageQueue, PushConsumer, type PushConsumerOptions, type ReceivedMessage } from '../src/index.js';
import { type FakeBroker, type FakeNameServer, startCluster, waitFor } from './fake-cluster.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function cluster(brokerNames = ['broker-a']): Promise<{ ns: FakeNameServer; brokers: FakeBroker[] }> {
  const c = await startCluster(brokerNames);
  cleanups.push(c.close);
  return c;
}

function consumer(ns: FakeNameServer, opts: Partial<PushConsumerOptions> = {}): PushConsumer {
  const c = new PushConsumer({ nameServer: ns.addr, group: 'G', suspendMs: 1000, pullErrorBackoffMs: 10, persistOffsetMs: 20, ...opts });
  const errors: unknown[] = [];
  c.on('error', (e) => errors.push(e));
  cleanups.push(() => c.shutdown());
  return c;
}

describe('PushConsumer on the wire', () => {
  it('heartbeats its subscriptions, long-polls, delivers, and commits the consumed offset', async () => {
    const { ns, brokers } = await cluster();
    const b = brokers[0]!;
    ns.topics.set('T', { brokers, queues: 2 });
    ns.topics.set('%RETRY%G', { brokers, queues: 1 });
    for (let i = 0; i < 5; i++) b.put('T', i % 2, Buffer.from(`m${i}`), { TAGS: 'a', UNIQ_KEY: `U${i}` });
    const c = consumer(ns, { consumeFromWhere: 'FIRST' });
    c.subscribe('T', 'a || b');
    const got: ReceivedMessage[] = [];
    await c.start(async (msgs) => {
      got.push(...msgs);
    });
    await waitFor(() => got.length === 5, 'five messages');
    expect(got.map((m) => m.body.toString()).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(got.every((m) => m.topic === 'T' && m.msgId.startsWith('U') && m.brokerName === 'broker-a')).toBe(true);
    // A message sent while the consumer waits in a long poll is delivered.
    b.put('T', 1, Buffer.from('late'), { TAGS: 'b' });
    await waitFor(() => got.length === 6, 'the late message');

    const hb = JSON.parse(b.requests(RequestCode.HEART_BEAT)[0]!.body!.toString());
    expect(hb.clientID).toBe(c.clientId);
    const data = hb.consumerDataSet[0];
    expect(data).toMatchObject({ groupName: 'G', consumeType: 'CONSUME_PASSIVELY', messageModel: 'CLUSTERING', consumeFromWhere: 'CONSUME_FROM_FIRST_OFFSET' });
    const subT = data.subscriptionDataSet.find((s: { topic: string }) => s.topic === 'T');
    expect(subT).toMatchObject({
      subString: 'a || b',
      tagsSet: ['a', 'b'],
      codeSet: [javaStringHashCode('a'), javaStringHashCode('b')],
      expressionType: 'TAG',
    });
    expect(data.subscriptionDataSet.some((s: { topic: string }) => s.topic === '%RETRY%G')).toBe(true);

    const pull = b.requests(RequestCode.PULL_MESSAGE).find((r) => r.extFields['topic'] === 'T')!;
    expect(pull.extFields).toMatchObject({ consumerGroup: 'G', maxMsgNums: '32', suspendTimeoutMillis: '1000', subscription: 'a || b', expressionType: 'TAG' });
    expect(Number(pull.extFields['sysFlag']) & 6).toBe(6);
    // The consumed offsets are committed (queue 0 holds m0 m2 m4, queue 1 holds m1 m3 late).
    await waitFor(() => b.offsets.get('T@G@0') === 3 && b.offsets.get('T@G@1') === 3, 'committed offsets');
    // Later pulls carry the commit offset with the COMMIT_OFFSET flag.
    const withCommit = b.requests(RequestCode.PULL_MESSAGE).filter((r) => (Number(r.extFields['sysFlag']) & 1) === 1);
    expect(withCommit.length).toBeGreaterThan(0);
    expect(Number(withCommit[0]!.extFields['commitOffset'])).toBeGreaterThan(0);
  });

  it('starts from the stored offset, else from GET_MAX_OFFSET for LAST; retry topics from 0', async () => {
    const { ns, brokers } = await cluster();
    const b = brokers[0]!;
    ns.topics.set('T', { brokers, queues: 2 });
    ns.topics.set('%RETRY%G', { brokers, queues: 1 });
    for (let i = 0; i < 4; i++) b.put('T', 0, Buffer.from(`q0-${i}`), {});
    for (let i = 0; i < 3; i++) b.put('T', 1, Buffer.from(`q1-${i}`), {});
    b.put('%RETRY%G', 0, Buffer.from('retry-0'), { RETRY_TOPIC: 'T' }, { reconsumeTimes: 1 });
    b.offsets.set('T@G@0', 2);
    const got: string[] = [];
    const c = consumer(ns);
    c.subscribe('T');
    await c.start((msgs) => {
      for (const m of msgs) got.push(`${m.topic}:${m.body.toString()}:${m.reconsumeTimes}`);
    });
    await waitFor(() => got.length === 3, 'q0 tail and the retried message');
    expect(got.sort()).toEqual(['T:q0-2:0', 'T:q0-3:0', 'T:retry-0:1']);
    expect(b.requests(RequestCode.GET_MAX_OFFSET).map((r) => `${r.extFields['topic']}:${r.extFields['queueId']}`)).toEqual(['T:1']);
    const q = b.requests(RequestCode.QUERY_CONSUMER_OFFSET)[0]!;
    expect(q.extFields['setZeroIfNotFound']).toBe('false');
  });

  it('re-checks tags client side and still advances the offset past filtered messages', async () => {
    const { ns, brokers } = await cluster();
    const b = brokers[0]!;
    ns.topics.set('T', { brokers, queues: 1 });
    ns.topics.set('%RETRY%G', { brokers, queues: 1 });
    b.put('T', 0, Buffer.from('x'), { TAGS: 'x' });
    b.put('T', 0, Buffer.from('a'), { TAGS: 'a' });
    b.put('T', 0, Buffer.from('none'), {});
    b.put('T', 0, Buffer.from('y'), { TAGS: 'y' });
    const got: string[] = [];
    const c = consumer(ns, { consumeFromWhere: 'FIRST' });
    c.subscribe('T', 'a');
    await c.start((msgs) => {
      for (const m of msgs) got.push(m.body.toString());
    });
    await waitFor(() => b.offsets.get('T@G@0') === 4, 'offset past the filtered tail');
    expect(got).toEqual(['a']);
  });

  it('sends a failed message back (36) and receives it again under its original topic', async () => {
    const { ns, brokers } = await cluster();
    const b = brokers[0]!;
    ns.topics.set('T', { brokers, queues: 1 });
    ns.topics.set('%RETRY%G', { brokers, queues: 1 });
    const stored = b.put('T', 0, Buffer.from('payload'), { TAGS: 't', UNIQ_KEY: 'UNIQ1' });
    const seen: ReceivedMessage[] = [];
    const c = consumer(ns, { consumeFromWhere: 'FIRST', maxReconsumeTimes: 5 });
    c.subscribe('T');
    await c.start((msgs) => {
      seen.push(...msgs);
      if (seen.length === 1) throw new Error('first delivery fails');
      return 'SUCCESS';
    });
    await waitFor(() => seen.length === 2, 'redelivery');
    const [back] = b.requests(RequestCode.CONSUMER_SEND_MSG_BACK);
    expect(back!.extFields).toMatchObject({
      offset: String(stored.commitLogOffset),
      group: 'G',
      delayLevel: '0',
      originMsgId: 'UNIQ1',
      originTopic: 'T',
      maxReconsumeTimes: '5',
    });
    expect(seen[1]!.topic).toBe('T');
    expect(seen[1]!.storeTopic).toBe('%RETRY%G');
    expect(seen[1]!.reconsumeTimes).toBe(1);
    expect(seen[1]!.body.toString()).toBe('payload');
    // The original is committed although its consumption failed: the retry copy carries it on.
    await waitFor(() => b.offsets.get('T@G@0') === 1 && b.offsets.get('%RETRY%G@G@0') === 1, 'both offsets committed');
  });

  it('falls back to sending a copy to %RETRY%<group> when send-back fails', async () => {
    const { ns, brokers } = await cluster();
    const b = brokers[0]!;
    ns.topics.set('T', { brokers, queues: 1 });
    ns.topics.set('%RETRY%G', { brokers, queues: 1 });
    b.override(RequestCode.CONSUMER_SEND_MSG_BACK, (req) => responseTo(req, ResponseCode.SYSTEM_ERROR, 'no'));
    b.put('T', 0, Buffer.from('p'), { TAGS: 't', UNIQ_KEY: 'UNIQ2' });
    let calls = 0;
    const c = consumer(ns, { consumeFromWhere: 'FIRST', maxReconsumeTimes: 3 });
    c.subscribe('T');
    await c.start(() => {
      calls++;
      return calls === 1 ? 'RECONSUME_LATER' : 'SUCCESS';
    });
    await waitFor(() => b.requests(RequestCode.SEND_MESSAGE_V2).length === 1, 'retry copy');
    const send = b.requests(RequestCode.SEND_MESSAGE_V2)[0]!;
    expect(send.extFields).toMatchObject({ b: '%RETRY%G', j: '1', l: '3' });
    expect(send.body!.toString()).toBe('p');
    const props = Object.fromEntries(
      new Map(
        send.extFields['i']!.split('\u0002')
          .filter(Boolean)
          .map((kv) => kv.split('\u0001') as [string, string]),
      ),
    );
    expect(props).toMatchObject({ RETRY_TOPIC: 'T', ORIGIN_MESSAGE_ID: 'UNIQ2', UNIQ_KEY: 'UNIQ2', DELAY: '3', TAGS: 't' });
    await waitFor(() => calls === 2, 'the copy is consumed');
  });

  it('rebalances at once on NOTIFY_CONSUMER_IDS_CHANGED', async () => {
    const { ns, brokers } = await cluster();
    ns.topics.set('T', { brokers, queues: 4 });
    ns.topics.set('%RETRY%G', { brokers, queues: 1 });
    // A long rebalance period: only the broker's notification can trigger the second rebalance.
    const opts = { rebalanceMs: 3_600_000 };
    const c1 = consumer(ns, opts);
    const c2 = consumer(ns, opts);
    const alloc1: MessageQueue[][] = [];
    c1.on('rebalance', (topic: string, qs: MessageQueue[]) => {
      if (topic === 'T') alloc1.push(qs);
    });
    c1.subscribe('T');
    c2.subscribe('T');
    await c1.start(() => undefined);
    expect(c1.assignedQueues().filter((q) => q.topic === 'T').length).toBe(4);
    await c2.start(() => undefined);
    await waitFor(() => c1.assignedQueues().filter((q) => q.topic === 'T').length === 2, 'c1 gives up half');
    const ids = [c1.clientId, c2.clientId].sort();
    const first = ids[0] === c1.clientId ? c1 : c2;
    expect(
      first
        .assignedQueues()
        .filter((q) => q.topic === 'T')
        .map((q) => q.queueId)
        .sort(),
    ).toEqual([0, 1]);
    await waitFor(() => c2.assignedQueues().filter((q) => q.topic === 'T').length === 2, 'c2 takes half');
    await c2.shutdown();
    await waitFor(() => c1.assignedQueues().filter((q) => q.topic === 'T').length === 4, 'c1 takes all back');
    expect(alloc1.length).toBeGreaterThanOrEqual(3);
  });

  it('adopts nextBeginOffset on PULL_OFFSET_MOVED and backs off after pull errors, emitting error', async () => {
    const { ns, brokers } = await cluster();
    const b = brokers[0]!;
    ns.topics.set('T', { brokers, queues: 1 });
    ns.topics.set('%RETRY%G', { brokers, queues: 1 });
    for (let i = 0; i < 3; i++) b.put('T', 0, Buffer.from(`m${i}`), {});
    b.offsets.set('T@G@0', 1000);
    let failures = 2;
    b.override(RequestCode.PULL_MESSAGE, (req, conn) => {
      if (req.extFields['topic'] === 'T' && failures > 0) {
        failures--;
        return responseTo(req, ResponseCode.SYSTEM_ERROR, 'pull broke');
      }
      return b.handle(req, conn);
    });
    const errors: unknown[] = [];
    const got: string[] = [];
    const c = consumer(ns);
    c.on('error', (e) => errors.push(e));
    c.subscribe('T');
    await c.start((msgs) => {
      for (const m of msgs) got.push(m.body.toString());
    });
    // The stored offset 1000 is past the end: the broker moves it to 3 and the consumer follows.
    await waitFor(() => b.offsets.get('T@G@0') === 3, 'offset moved back to the max');
    b.put('T', 0, Buffer.from('after'), {});
    await waitFor(() => got.includes('after'), 'a message after the move');
    expect(got).toEqual(['after']);
    expect(errors.some((e) => (e as { responseCode?: number }).responseCode === ResponseCode.SYSTEM_ERROR)).toBe(true);
  });

  it('orderly: locks queues, renews locks, consumes serially, redelivers locally, then sends to the DLQ; unlocks on shutdown', async () => {
    const { ns, brokers } = await cluster();
    const b = brokers[0]!;
    ns.topics.set('T', { brokers, queues: 2 });
    ns.topics.set('%RETRY%G', { brokers, queues: 1 });
    for (let i = 0; i < 6; i++) b.put('T', i % 2, Buffer.from(`m${i}`), { UNIQ_KEY: `U${i}` });
    const c = consumer(ns, { consumeFromWhere: 'FIRST', lockRenewMs: 20, orderlyRetryPauseMs: 1, maxReconsumeTimes: 2 });
    c.subscribe('T');
    const order = new Map<number, string[]>();
    const inFlight = new Map<number, number>();
    let overlap = false;
    let poisonCalls = 0;
    await c.start({
      orderly: true,
      consume: async (msgs, ctx) => {
        const q = ctx.queue.queueId;
        inFlight.set(q, (inFlight.get(q) ?? 0) + 1);
        if (inFlight.get(q)! > 1) overlap = true;
        await new Promise((r) => setImmediate(r));
        inFlight.set(q, inFlight.get(q)! - 1);
        const body = msgs[0]!.body.toString();
        if (body === 'm2') {
          poisonCalls++;
          expect(msgs[0]!.reconsumeTimes).toBe(poisonCalls - 1);
          return 'RECONSUME_LATER';
        }
        if (ctx.queue.topic === 'T') order.set(q, [...(order.get(q) ?? []), body]);
        return 'SUCCESS';
      },
    });
    await waitFor(() => (order.get(0)?.length ?? 0) === 2 && (order.get(1)?.length ?? 0) === 3, 'all but the poison message');
    expect(order.get(0)).toEqual(['m0', 'm4']);
    expect(order.get(1)).toEqual(['m1', 'm3', 'm5']);
    expect(overlap).toBe(false);
    // m2 was tried 1 + maxReconsumeTimes times, then sent straight to the DLQ.
    expect(poisonCalls).toBe(3);
    const back = b.requests(RequestCode.CONSUMER_SEND_MSG_BACK);
    expect(back.length).toBe(1);
    expect(back[0]!.extFields).toMatchObject({ delayLevel: '-1', originMsgId: 'U2', group: 'G' });
    expect(b.queue('%DLQ%G', 0).length).toBe(1);

    const lock = JSON.parse(b.requests(RequestCode.LOCK_BATCH_MQ)[0]!.body!.toString());
    expect(lock.consumerGroup).toBe('G');
    expect(lock.clientId).toBe(c.clientId);
    expect(lock.mqSet).toEqual(expect.arrayContaining([{ topic: 'T', brokerName: 'broker-a', queueId: 0 }]));
    const locksBefore = b.requests(RequestCode.LOCK_BATCH_MQ).length;
    await waitFor(() => b.requests(RequestCode.LOCK_BATCH_MQ).length >= locksBefore + 2, 'lock renewals');
    await c.shutdown();
    const unlocks = b
      .requests(RequestCode.UNLOCK_BATCH_MQ)
      .map((r) => JSON.parse(r.body!.toString()).mqSet)
      .flat();
    expect(unlocks).toEqual(
      expect.arrayContaining([
        { topic: 'T', brokerName: 'broker-a', queueId: 0 },
        { topic: 'T', brokerName: 'broker-a', queueId: 1 },
      ]),
    );
    expect(b.locks.size).toBe(0);
  });

  it('orderly: does not consume a queue another client holds the lock of', async () => {
    const { ns, brokers } = await cluster();
    const b = brokers[0]!;
    ns.topics.set('T', { brokers, queues: 1 });
    ns.topics.set('%RETRY%G', { brokers, queues: 1 });
    b.locks.set('T:0', 'someone-else');
    b.put('T', 0, Buffer.from('m'), {});
    let calls = 0;
    const c = consumer(ns, { consumeFromWhere: 'FIRST', rebalanceMs: 10 });
    c.subscribe('T');
    await c.start({ orderly: true, consume: () => void calls++ });
    await waitFor(() => b.requests(RequestCode.LOCK_BATCH_MQ).length >= 3, 'lock attempts');
    expect(calls).toBe(0);
    expect(b.requests(RequestCode.PULL_MESSAGE).filter((r) => r.extFields['topic'] === 'T').length).toBe(0);
    // Once the other client lets go, the next rebalance locks the queue and consumption starts.
    b.locks.delete('T:0');
    await waitFor(() => calls === 1, 'consumed after the lock is free');
    expect(b.locks.get('T:0')).toBe(c.clientId);
  });

  it('broadcasting: every consumer gets every message, offsets stay local', async () => {
    const { ns, brokers } = await cluster();
    const b = brokers[0]!;
    ns.topics.set('T', { brokers, queues: 2 });
    for (let i = 0; i < 4; i++) b.put('T', i % 2, Buffer.from(`m${i}`), {});
    const got1: string[] = [];
    const got2: string[] = [];
    const c1 = consumer(ns, { messageModel: 'BROADCASTING', consumeFromWhere: 'FIRST' });
    const c2 = consumer(ns, { messageModel: 'BROADCASTING', consumeFromWhere: 'FIRST' });
    c1.subscribe('T');
    c2.subscribe('T');
    await c1.start((msgs) => void got1.push(...msgs.map((m) => m.body.toString())));
    await c2.start((msgs) => void got2.push(...msgs.map((m) => m.body.toString())));
    await waitFor(() => got1.length === 4 && got2.length === 4, 'both consumers get everything');
    expect(got1.sort()).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(got2.sort()).toEqual(['m0', 'm1', 'm2', 'm3']);
    await c1.shutdown();
    await c2.shutdown();
    expect(b.requests(RequestCode.UPDATE_CONSUMER_OFFSET).length).toBe(0);
    expect(b.requests(RequestCode.GET_CONSUMER_LIST_BY_GROUP).length).toBe(0);
    expect(b.requests(RequestCode.PULL_MESSAGE).every((r) => r.extFields['topic'] === 'T' && (Number(r.extFields['sysFlag']) & 1) === 0)).toBe(true);
  });

  it('commits offsets and unregisters on shutdown', async () => {
    const { ns, brokers } = await cluster();
    const b = brokers[0]!;
    ns.topics.set('T', { brokers, queues: 1 });
    ns.topics.set('%RETRY%G', { brokers, queues: 1 });
    b.put('T', 0, Buffer.from('m'), {});
    let n = 0;
    const c = consumer(ns, { consumeFromWhere: 'FIRST', persistOffsetMs: 3_600_000 });
    c.subscribe('T');
    await c.start(() => void n++);
    await waitFor(() => n === 1, 'consumed');
    expect(b.offsets.get('T@G@0')).toBeUndefined();
    await c.shutdown();
    expect(b.offsets.get('T@G@0')).toBe(1);
    const un = b.requests(RequestCode.UNREGISTER_CLIENT)[0]!;
    expect(un.extFields).toMatchObject({ clientID: c.clientId, consumerGroup: 'G' });
  });
});
