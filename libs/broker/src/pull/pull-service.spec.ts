import { decodeRecord } from '@apogee/message';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSubscription } from '../filter/tag-filter.js';
import type { Heartbeat } from '../broker.js';
import { BrokerHarness, brokerError, props, sendRequest, testChannel, waitFor } from '../test-support.js';
import { PullFlag, type PullOutcome, type PullRequest } from './pull-types.js';

let h: BrokerHarness;

beforeEach(async () => {
  h = await BrokerHarness.create();
  // T: 2 queues
  await h.broker.topics.createOrUpdate({
    topicName: 'T',
    readQueueNums: 2,
    writeQueueNums: 2,
    perm: 6,
    topicFilterType: 'SINGLE_TAG',
    topicSysFlag: 0,
    order: false,
    attributes: {},
  });
});

afterEach(async () => {
  await h.dispose();
});

const req = (over: Partial<PullRequest> = {}): PullRequest => ({
  group: 'g',
  topic: 'T',
  queueId: 0,
  offset: 0,
  maxMsgNums: 32,
  sysFlag: PullFlag.SUBSCRIPTION,
  suspendTimeoutMs: 0,
  subscription: '*',
  expressionType: 'TAG',
  ...over,
});

const bodies = (r: PullOutcome) => r.messages.map((m) => decodeRecord(m.record).body.toString());

async function sendTagged(tags: string[], queueId = 0): Promise<void> {
  for (const [i, t] of tags.entries()) await h.broker.sender.send(sendRequest('T', `${t}${i}`, { queueId, properties: props({ TAGS: t }) }));
}

function heartbeat(subscription: string, group = 'g', topic = 'T'): Heartbeat {
  return {
    clientId: 'client-1',
    producerGroups: [],
    consumers: [
      {
        group,
        consumeType: 'CONSUME_PASSIVELY',
        messageModel: 'CLUSTERING',
        consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
        subscriptions: [parseSubscription(topic, subscription, 'TAG', 1)],
      },
    ],
  };
}

describe('PullService', () => {
  it('returns FOUND with the stored records and the next offset', async () => {
    await sendTagged(['a', 'b', 'c']);
    const r = await h.broker.puller.pull(req());
    expect(r.kind).toBe('FOUND');
    expect(bodies(r)).toEqual(['a0', 'b1', 'c2']);
    expect(r).toMatchObject({ nextBeginOffset: 3, minOffset: 0, maxOffset: 3 });
    const part = await h.broker.puller.pull(req({ offset: 1, maxMsgNums: 1 }));
    expect(bodies(part)).toEqual(['b1']);
    expect(part.nextBeginOffset).toBe(2);
    expect(h.broker.metrics.pullMessages).toBe(4);
  });

  it('caps a pull at maxPullMsgNums', async () => {
    await h.dispose();
    h = await BrokerHarness.create({ config: { maxPullMsgNums: 2 } });
    for (let i = 0; i < 5; i++) await h.broker.sender.send(sendRequest('C', `m${i}`, { queueId: 0 }));
    const r = await h.broker.puller.pull(req({ topic: 'C', maxMsgNums: 32 }));
    expect(bodies(r)).toEqual(['m0', 'm1']);
    expect(r.nextBeginOffset).toBe(2);
  });

  it('filters by the request expression with the SUBSCRIPTION flag', async () => {
    await sendTagged(['a', 'b', 'a', 'c', 'b']);
    const r = await h.broker.puller.pull(req({ subscription: 'b || c' }));
    expect(r.kind).toBe('FOUND');
    expect(bodies(r)).toEqual(['b1', 'c3', 'b4']);
    expect(r.nextBeginOffset).toBe(5);
  });

  it('answers RETRY_IMMEDIATELY with nextBeginOffset advanced when only non-matching tags were read', async () => {
    await sendTagged(['a', 'a', 'a']);
    const r = await h.broker.puller.pull(req({ subscription: 'z' }));
    expect(r.kind).toBe('RETRY_IMMEDIATELY');
    expect(r.messages).toEqual([]);
    expect(r.nextBeginOffset).toBe(3);
  });

  it('maps store statuses: empty queue at 0 → NOT_FOUND, at the end → NOT_FOUND, beyond → OFFSET_MOVED', async () => {
    const empty = await h.broker.puller.pull(req());
    expect(empty).toMatchObject({ kind: 'NOT_FOUND', nextBeginOffset: 0 });
    const emptyBeyond = await h.broker.puller.pull(req({ offset: 5 }));
    expect(emptyBeyond).toMatchObject({ kind: 'OFFSET_MOVED', nextBeginOffset: 0 });
    await sendTagged(['a', 'a']);
    expect(await h.broker.puller.pull(req({ offset: 2 }))).toMatchObject({ kind: 'NOT_FOUND', nextBeginOffset: 2 });
    expect(await h.broker.puller.pull(req({ offset: 9 }))).toMatchObject({ kind: 'OFFSET_MOVED', nextBeginOffset: 2 });
  });

  it('refuses unknown topics, out-of-range queues and bad offsets', async () => {
    await brokerError(() => h.broker.puller.pull(req({ topic: 'Nope' })), 'TOPIC_NOT_EXIST');
    await brokerError(() => h.broker.puller.pull(req({ queueId: 2 })), 'INVALID_PARAMETER');
    await brokerError(() => h.broker.puller.pull(req({ queueId: -1 })), 'INVALID_PARAMETER');
    await brokerError(() => h.broker.puller.pull(req({ offset: -1 })), 'INVALID_PARAMETER');
    await brokerError(() => h.broker.puller.pull(req({ subscription: 'a >', expressionType: 'SQL92' })), 'SUBSCRIPTION_PARSE_FAILED');
    await brokerError(() => h.broker.puller.pull(req({ subscription: 'a', expressionType: 'REGEX' })), 'SUBSCRIPTION_PARSE_FAILED');
  });

  it('refuses pulls of unreadable topics and disabled groups with NO_PERMISSION', async () => {
    await h.broker.topics.createOrUpdate({
      topicName: 'WO',
      readQueueNums: 1,
      writeQueueNums: 1,
      perm: 2,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: 0,
      order: false,
      attributes: {},
    });
    await brokerError(() => h.broker.puller.pull(req({ topic: 'WO' })), 'NO_PERMISSION');
    await h.broker.groups.createOrUpdate({ groupName: 'off', consumeEnable: false });
    await brokerError(() => h.broker.puller.pull(req({ group: 'off' })), 'NO_PERMISSION');
  });

  it('answers SUBSCRIPTION_GROUP_NOT_EXIST for unknown groups when auto-creation is off', async () => {
    await h.dispose();
    h = await BrokerHarness.create({ config: { autoCreateSubscriptionGroup: false } });
    await brokerError(() => h.broker.puller.pull(req({ topic: 'TBW102' })), 'SUBSCRIPTION_GROUP_NOT_EXIST');
  });

  it('without the SUBSCRIPTION flag needs a heartbeat subscription (SUBSCRIPTION_NOT_EXIST), then applies its filter', async () => {
    await sendTagged(['a', 'b', 'a']);
    await brokerError(() => h.broker.puller.pull(req({ sysFlag: 0 })), 'SUBSCRIPTION_NOT_EXIST');
    await h.broker.heartbeat(testChannel('ch1'), heartbeat('a'));
    const r = await h.broker.puller.pull(req({ sysFlag: 0, subscription: 'b' }));
    expect(bodies(r)).toEqual(['a0', 'a2']);
    // the SUBSCRIPTION flag makes the request's own expression win
    const own = await h.broker.puller.pull(req({ sysFlag: PullFlag.SUBSCRIPTION, subscription: 'b' }));
    expect(bodies(own)).toEqual(['b1']);
    // a subscription to another topic does not cover this one
    await sendTagged(['a'], 1);
    await h.broker.topics.createOrUpdate({
      topicName: 'Other',
      readQueueNums: 1,
      writeQueueNums: 1,
      perm: 6,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: 0,
      order: false,
      attributes: {},
    });
    await brokerError(() => h.broker.puller.pull(req({ sysFlag: 0, topic: 'Other' })), 'SUBSCRIPTION_NOT_EXIST');
  });

  it('stores commitOffset with the COMMIT_OFFSET flag (and ignores it without, or when negative)', async () => {
    await sendTagged(['a', 'a', 'a', 'a']);
    await h.broker.puller.pull(req({ sysFlag: PullFlag.SUBSCRIPTION, commitOffset: 1, offset: 1 }));
    expect(h.store.getConsumerOffset('g', 'T', 0)).toBeUndefined();
    await h.broker.puller.pull(req({ sysFlag: PullFlag.SUBSCRIPTION | PullFlag.COMMIT_OFFSET, commitOffset: -1, offset: 1 }));
    expect(h.store.getConsumerOffset('g', 'T', 0)).toBeUndefined();
    await h.broker.puller.pull(req({ sysFlag: PullFlag.SUBSCRIPTION | PullFlag.COMMIT_OFFSET, commitOffset: 3, offset: 3 }));
    await waitFor(() => h.store.getConsumerOffset('g', 'T', 0) === 3, 'commit offset 3');
    expect(h.broker.offsets.query('g', 'T', 0)).toBe(3);
  });

  it('auto-creates a %RETRY% topic on pull', async () => {
    expect(h.broker.topics.get('%RETRY%g2')).toBeUndefined();
    const r = await h.broker.puller.pull(req({ group: 'g2', topic: '%RETRY%g2' }));
    expect(r.kind).toBe('NOT_FOUND');
    expect(h.broker.topics.get('%RETRY%g2')).toMatchObject({ readQueueNums: 1, writeQueueNums: 1, perm: 6 });
  });
});

describe('PullService long polling', () => {
  const suspend = PullFlag.SUBSCRIPTION | PullFlag.SUSPEND;

  it('holds a SUSPEND pull on an empty queue and answers FOUND with the message a concurrent send stored', async () => {
    const held = h.broker.puller.pull(req({ sysFlag: suspend, suspendTimeoutMs: 10_000 }));
    await waitFor(() => h.broker.metrics.pullsWaiting === 1, 'the pull to be held');
    await h.broker.sender.send(sendRequest('T', 'wake', { queueId: 0 }));
    const r = await held;
    expect(r.kind).toBe('FOUND');
    expect(bodies(r)).toEqual(['wake']);
    expect(r.nextBeginOffset).toBe(1);
    expect(h.broker.metrics.pullsWaiting).toBe(0);
    expect(h.broker.metrics.pullHeld).toBe(1);
  });

  it('wakes a pull held at the end of a non-empty queue', async () => {
    await sendTagged(['a']);
    const held = h.broker.puller.pull(req({ sysFlag: suspend, offset: 1, suspendTimeoutMs: 10_000 }));
    await waitFor(() => h.broker.metrics.pullsWaiting === 1, 'the pull to be held');
    // a message to another queue does not answer it
    await h.broker.sender.send(sendRequest('T', 'other-queue', { queueId: 1 }));
    await h.broker.sender.send(sendRequest('T', 'next', { queueId: 0 }));
    const r = await held;
    expect(r.kind).toBe('FOUND');
    expect(bodies(r)).toEqual(['next']);
  });

  it('releases a held pull with NOT_FOUND when its AbortSignal aborts', async () => {
    const ac = new AbortController();
    const held = h.broker.puller.pull(req({ sysFlag: suspend, suspendTimeoutMs: 10_000 }), ac.signal);
    await waitFor(() => h.broker.metrics.pullsWaiting === 1, 'the pull to be held');
    ac.abort();
    const r = await held;
    expect(r.kind).toBe('NOT_FOUND');
    expect(h.broker.metrics.pullsWaiting).toBe(0);
  });

  it('does not hold a pull whose signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    const r = await h.broker.puller.pull(req({ sysFlag: suspend, suspendTimeoutMs: 10_000 }), ac.signal);
    expect(r.kind).toBe('NOT_FOUND');
    expect(h.broker.metrics.pullHeld).toBe(0);
  });

  it('answers NOT_FOUND when a short suspend time passes without arrivals', async () => {
    const r = await h.broker.puller.pull(req({ sysFlag: suspend, suspendTimeoutMs: 50 }));
    expect(r.kind).toBe('NOT_FOUND');
    expect(h.broker.metrics.pullHeld).toBe(1);
    expect(h.broker.metrics.pullsWaiting).toBe(0);
  });

  it('does not hold a pull without the SUSPEND flag', async () => {
    const r = await h.broker.puller.pull(req({ suspendTimeoutMs: 10_000 }));
    expect(r.kind).toBe('NOT_FOUND');
    expect(h.broker.metrics.pullHeld).toBe(0);
  });
});
