import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { topicConfigOf } from '../topic/topic-manager.js';
import { PullFlag, type PullRequest } from '../pull/pull-types.js';
import { BrokerHarness, sendRequest } from '../test-support.js';

let h: BrokerHarness;

beforeEach(async () => {
  h = await BrokerHarness.create();
  await h.broker.topics.createOrUpdate(topicConfigOf('T', 1, 6));
});

afterEach(async () => {
  await h.dispose();
});

const pull = (over: Partial<PullRequest> = {}): PullRequest => ({
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

describe('engine metrics', () => {
  it('counts sends per topic and times each confirmed send and batch once', async () => {
    const m = h.broker.metrics;
    await h.broker.send(sendRequest('T', 'abc', { queueId: 0 }));
    await h.broker.sendBatch({
      topic: 'T',
      queueId: 0,
      properties: new Map(),
      items: [
        { body: Buffer.from('12'), flag: 0, properties: new Map() },
        { body: Buffer.from('3456'), flag: 0, properties: new Map() },
      ],
    });
    expect(h.broker.sendUnconfirmed(sendRequest('T', 'z', { queueId: 0 }))).not.toBeNull();
    expect(m.topics.of('T')).toMatchObject({ messagesIn: 4, bytesIn: 10 });
    // The unconfirmed send is not timed: nothing in the engine waits for its confirmation.
    expect(m.sendLatency.count).toBe(2);
  });

  it('counts pulled messages per topic and per group, and times pulls without their hold', async () => {
    const m = h.broker.metrics;
    for (let i = 0; i < 3; i++) await h.broker.send(sendRequest('T', `m${i}`, { queueId: 0 }));
    expect((await h.broker.puller.pull(pull())).messages).toHaveLength(3);
    expect(m.topics.of('T').messagesOut).toBe(3);
    expect([...m.consumed.entries()]).toEqual([{ group: 'g', topic: 'T', messages: 3 }]);
    // A held pull that times out is still one observation.
    const held = await h.broker.puller.pull(pull({ offset: 3, sysFlag: PullFlag.SUBSCRIPTION | PullFlag.SUSPEND, suspendTimeoutMs: 20 }));
    expect(held.kind).toBe('NOT_FOUND');
    expect(m.pullLatency.count).toBe(2);
    expect(m.pullHeld).toBe(1);
  });

  it('computes lag per group and topic from the committed offsets', async () => {
    for (let i = 0; i < 4; i++) await h.broker.send(sendRequest('T', `m${i}`, { queueId: 0 }));
    await h.broker.puller.pull(pull());
    await h.broker.commitOffset('g', 'T', 0, 1);
    expect(h.broker.groupLag()).toContainEqual({ group: 'g', topic: 'T', lag: 3 });
    await h.broker.commitOffset('g', 'T', 0, 4);
    expect(h.broker.groupLag()).toContainEqual({ group: 'g', topic: 'T', lag: 0 });
  });

  it('passes the store fsync histogram through', async () => {
    const before = h.broker.fsyncLatency.count;
    await h.broker.send(sendRequest('T', 'x', { queueId: 0 }));
    await h.broker.flush();
    expect(h.broker.fsyncLatency.count).toBeGreaterThan(before);
  });
});
