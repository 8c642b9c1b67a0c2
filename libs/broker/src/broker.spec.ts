import { afterEach, describe, expect, it } from 'vitest';
import type { Heartbeat } from './broker.js';
import { parseSubscription } from './filter/tag-filter.js';
import { GROUP_NAMESPACE } from './group/group-manager.js';
import { BrokerHarness, brokerError, makeTempDir, openTestStore, removeDir, sendRequest, testChannel, type HarnessOptions } from './test-support.js';
import { topicConfigOf } from './topic/topic-manager.js';
import { FILTER_HOLDERS_NAMESPACE } from './topic-space/topic-filters.js';

let h: BrokerHarness | undefined;

async function harness(opts: HarnessOptions = {}): Promise<BrokerHarness> {
  h = await BrokerHarness.create(opts);
  return h;
}

afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

function hb(clientId: string, group = 'g', topics: string[] = ['T'], producerGroups: string[] = []): Heartbeat {
  return {
    clientId,
    producerGroups,
    consumers: [
      {
        group,
        consumeType: 'CONSUME_PASSIVELY',
        messageModel: 'CLUSTERING',
        consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
        subscriptions: topics.map((t) => parseSubscription(t, '*', 'TAG', 1)),
      },
    ],
    language: 'NODE',
    version: 401,
  };
}

describe('Broker.heartbeat', () => {
  it('registers consumers and producers, creates %RETRY%<group> and the group', async () => {
    const { broker } = await harness();
    const ch = testChannel('ch1');
    await broker.heartbeat(ch, hb('c1', 'g', ['T'], ['pg']));
    expect(broker.topics.get('%RETRY%g')).toMatchObject({ readQueueNums: 1, writeQueueNums: 1, perm: 6 });
    expect(broker.groups.get('g')).toBeDefined();
    expect(broker.consumers.clientIds('g')).toEqual(['c1']);
    expect(broker.consumers.get('g')!.connections.get('ch1')).toMatchObject({ language: 'NODE', version: 401 });
    expect(broker.producers.connections('pg').map((c) => c.clientId)).toEqual(['c1']);
    broker.unregisterClient(ch, 'pg', 'g');
    expect(broker.producers.groupNames()).toEqual([]);
    expect(broker.consumers.get('g')).toBeUndefined();
  });

  it('tells every member when the group membership changes, and nobody on a plain refresh', async () => {
    const { broker } = await harness();
    const a = testChannel('a');
    const b = testChannel('b');
    await broker.heartbeat(a, hb('c1'));
    expect(a.notified).toEqual(['g']);
    await broker.heartbeat(b, hb('c2'));
    expect(a.notified).toEqual(['g', 'g']);
    expect(b.notified).toEqual(['g']);
    await broker.heartbeat(a, hb('c1'));
    await broker.heartbeat(b, hb('c2'));
    expect(a.notified).toHaveLength(2);
    expect(b.notified).toHaveLength(1);
    broker.channelClosed(b);
    expect(a.notified).toEqual(['g', 'g', 'g']);
    expect(b.notified).toHaveLength(1); // gone: not told
    expect(broker.consumers.clientIds('g')).toEqual(['c1']);
  });

  it('does not notify groups with notifyConsumerIdsChangedEnable=false', async () => {
    const { broker } = await harness();
    await broker.groups.createOrUpdate({ groupName: 'quiet', notifyConsumerIdsChangedEnable: false });
    const a = testChannel('a');
    const b = testChannel('b');
    await broker.heartbeat(a, hb('c1', 'quiet'));
    await broker.heartbeat(b, hb('c2', 'quiet'));
    expect(a.notified).toEqual([]);
    expect(b.notified).toEqual([]);
    expect(broker.consumers.clientIds('quiet')).toEqual(['c1', 'c2']);
  });

  it('skips consumer groups with consumeEnable=false and refuses unknown groups when auto-creation is off', async () => {
    const { broker } = await harness({ config: { autoCreateSubscriptionGroup: false } });
    await broker.groups.createOrUpdate({ groupName: 'off', consumeEnable: false });
    await broker.heartbeat(testChannel('a'), hb('c1', 'off'));
    expect(broker.consumers.get('off')).toBeUndefined();
    expect(broker.topics.get('%RETRY%off')).toBeUndefined();
    await brokerError(() => broker.heartbeat(testChannel('a'), hb('c1', 'unknown')), 'SUBSCRIPTION_GROUP_NOT_EXIST');
  });

  it('expires silent clients on scan and tells the members left', async () => {
    let t = 1_000_000;
    const { broker } = await harness({ now: () => t, config: { channelExpiredTimeoutMs: 120_000 } });
    const a = testChannel('a');
    const b = testChannel('b');
    await broker.heartbeat(a, hb('c1', 'g', ['T'], ['pg']));
    t += 60_000;
    await broker.heartbeat(b, hb('c2'));
    t += 60_001; // a silent 120.001 s, b 60.001 s
    broker.scanExpiredClients();
    expect(broker.consumers.clientIds('g')).toEqual(['c2']);
    expect(broker.producers.groupNames()).toEqual([]);
    expect(b.notified).toEqual(['g', 'g']);
  });
});

describe('Broker.lockQueues', () => {
  it('locks for one client of a group and unlocks for the holder only', async () => {
    let t = 0;
    const { broker } = await harness({ now: () => t, config: { rebalanceLockMaxLiveTimeMs: 60_000 } });
    const mq = { topic: 'T', brokerName: 'broker-a', queueId: 0 };
    expect(broker.lockQueues('g', 'c1', [mq])).toEqual([mq]);
    expect(broker.groups.get('g')).toBeDefined();
    expect(broker.lockQueues('g', 'c2', [mq])).toEqual([]);
    broker.unlockQueues('g', 'c2', [mq]);
    expect(broker.lockQueues('g', 'c2', [mq])).toEqual([]);
    t = 60_001;
    expect(broker.lockQueues('g', 'c2', [mq])).toEqual([mq]);
    broker.unlockQueues('g', 'c2', [mq]);
    expect(broker.lockQueues('g', 'c1', [mq])).toEqual([mq]);
  });
});

describe('Broker.groupProgress', () => {
  it('reports brokerOffset, consumerOffset and lag per committed or subscribed queue', async () => {
    const { broker } = await harness();
    await broker.topics.createOrUpdate({
      topicName: 'T',
      readQueueNums: 2,
      writeQueueNums: 2,
      perm: 6,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: 0,
      order: false,
      attributes: {},
    });
    for (let i = 0; i < 5; i++) await broker.sender.send(sendRequest('T', `a${i}`, { queueId: 0 }));
    for (let i = 0; i < 2; i++) await broker.sender.send(sendRequest('T', `b${i}`, { queueId: 1 }));
    await broker.offsets.commit('g', 'T', 0, 3);
    expect(broker.groupProgress('g')).toEqual([{ topic: 'T', queueId: 0, brokerOffset: 5, consumerOffset: 3, lag: 2 }]);
    // a live subscription adds every readable queue of the topic (and the retry topic's)
    await broker.heartbeat(testChannel('a'), hb('c1', 'g', ['T', '%RETRY%g']));
    expect(broker.groupProgress('g')).toEqual([
      { topic: '%RETRY%g', queueId: 0, brokerOffset: 0, consumerOffset: -1, lag: 0 },
      { topic: 'T', queueId: 0, brokerOffset: 5, consumerOffset: 3, lag: 2 },
      { topic: 'T', queueId: 1, brokerOffset: 2, consumerOffset: -1, lag: 2 },
    ]);
    expect(broker.groupProgress('g', 'T').map((p) => p.queueId)).toEqual([0, 1]);
    await broker.offsets.commit('g', 'T', 1, 2);
    expect(broker.groupProgress('g', 'T').map((p) => p.lag)).toEqual([2, 0]);
    expect(broker.groupProgress('nobody')).toEqual([]);
  });
});

describe('Broker lifecycle', () => {
  it('keeps topics, groups and offsets across a close and reopen', async () => {
    const hh = await harness();
    await hh.broker.sender.send(sendRequest('Kept', 'x', { queueId: 0 }));
    await hh.broker.heartbeat(testChannel('a'), hb('c1', 'kg'));
    await hh.broker.offsets.commit('kg', 'Kept', 0, 1);
    await hh.reopen();
    expect(hh.broker.topics.get('Kept')).toBeDefined();
    expect(hh.broker.topics.get('%RETRY%kg')).toBeDefined();
    expect(hh.broker.groups.get('kg')).toBeDefined();
    expect(hh.broker.offsets.query('kg', 'Kept', 0)).toBe(1);
    // live connections are not persisted
    expect(hh.broker.consumers.get('kg')).toBeUndefined();
  });
});

describe('Broker role', () => {
  it('as a replica refuses every send as READ_ONLY and serves what its store holds; as a master again it takes sends', async () => {
    const h1 = await harness();
    await h1.broker.send(sendRequest('T', 'stored while master', { queueId: 0 }));
    await h1.reopen({ role: 'replica' });
    expect(h1.broker.role).toBe('replica');
    const err = await brokerError(() => h1.broker.send(sendRequest('T', 'to a replica', { queueId: 0 })), 'SERVICE_NOT_AVAILABLE');
    expect(err.reason).toMatch(/^\[READ_ONLY\] broker .* is a replica/);
    expect(h1.broker.metrics.refusals.READ_ONLY).toBe(1);
    await brokerError(
      () => h1.broker.sendBatch({ topic: 'T', queueId: 0, properties: new Map(), items: [{ body: Buffer.from('b'), flag: 0, properties: new Map() }] }),
      'SERVICE_NOT_AVAILABLE',
    );
    expect((await h1.messages('T', 0)).map((m) => m.body.toString())).toEqual(['stored while master']);
    await h1.reopen({ role: 'master' });
    expect(h1.store.readOnlyReason).toBeNull();
    await h1.broker.send(sendRequest('T', 'master again', { queueId: 0 }));
    expect((await h1.messages('T', 0)).map((m) => m.body.toString())).toEqual(['stored while master', 'master again']);
  });
});

describe('Broker.reloadMetadata', () => {
  it("makes metadata applied into the store through the feed (a replica's) visible to the engine: topic configs, groups, durable topic filters", async () => {
    const h1 = await harness({ role: 'replica' });
    const masterDir = makeTempDir();
    const master = await openTestStore(masterDir);
    try {
      const holder = (filters: string[]) => Buffer.from(JSON.stringify({ v: 1, filters, expirySeconds: -1, disconnectedAt: 0 }));
      await master.putTopicConfig(topicConfigOf('Replicated', 4));
      await master.metaPut(GROUP_NAMESPACE, 'rg', Buffer.from(JSON.stringify({ groupName: 'rg', retryMaxTimes: 3, consumeEnable: true })));
      await master.metaPut(FILTER_HOLDERS_NAMESPACE, 'mqtt:c1', holder(['a/+']));
      const announced: string[] = [];
      h1.broker.topics.onChange((t) => announced.push(t));
      const version = h1.broker.topics.dataVersion.counter;
      // The master's snapshot, applied as HaReplica applies it.
      let at = await h1.store.applyMetaSnapshot(master.readMetaSnapshot().chunks);
      expect(h1.broker.groups.get('rg')).toBeUndefined(); // cached: not seen before the reload
      await h1.broker.reloadMetadata();
      expect(h1.broker.topics.get('Replicated')).toMatchObject({ topicName: 'Replicated', readQueueNums: 4, writeQueueNums: 4 });
      expect(h1.broker.groups.get('rg')).toMatchObject({ groupName: 'rg', retryMaxTimes: 3 });
      expect(h1.broker.topicFilters.holder('mqtt:c1')?.filters).toEqual(['a/+']);
      expect(h1.broker.topicFilters.match('a/b')).toEqual(['a/+']);
      // The replica's own topics (created at its open) are gone with the snapshot, the master's announced.
      expect(announced).toContain('Replicated');
      expect(announced).toContain('TBW102');
      expect(h1.broker.topics.dataVersion.counter).toBeGreaterThan(version);
      // A live reader of the same filter (an online MQTT subscriber): its reference outlives the holder's.
      h1.broker.topicFilters.add('a/+');
      // Then changes: a topic updated and another created, the group deleted, the holder's filters changed.
      await master.putTopicConfig(topicConfigOf('Replicated', 8));
      await master.putTopicConfig(topicConfigOf('Later', 2));
      await master.metaDelete(GROUP_NAMESPACE, 'rg');
      await master.metaPut(FILTER_HOLDERS_NAMESPACE, 'mqtt:c1', holder(['x/#']));
      at = await h1.store.applyMetaChanges(master.readMetaChanges(at.generation, at.seq, 1 << 20)!);
      expect(at).toEqual(master.metaFeedPosition());
      announced.length = 0;
      await h1.broker.reloadMetadata();
      expect(h1.broker.topics.get('Replicated')?.writeQueueNums).toBe(8);
      expect(h1.broker.topics.get('Later')?.writeQueueNums).toBe(2);
      expect(announced.sort()).toEqual(['Later', 'Replicated']);
      expect(h1.broker.groups.get('rg')).toBeUndefined();
      expect(h1.broker.topicFilters.holder('mqtt:c1')?.filters).toEqual(['x/#']);
      expect(h1.broker.topicFilters.match('x/y/z')).toEqual(['x/#']);
      expect(h1.broker.topicFilters.match('a/b')).toEqual(['a/+']); // the live reference
      h1.broker.topicFilters.remove('a/+');
      expect(h1.broker.topicFilters.match('a/b')).toEqual([]);
      // The holder deleted on the master: gone from the registry too.
      await master.metaDelete(FILTER_HOLDERS_NAMESPACE, 'mqtt:c1');
      at = await h1.store.applyMetaChanges(master.readMetaChanges(at.generation, at.seq, 1 << 20)!);
      await h1.broker.reloadMetadata();
      expect(h1.broker.topicFilters.holder('mqtt:c1')).toBeUndefined();
      expect(h1.broker.topicFilters.match('x/y/z')).toEqual([]);
      // Nothing changed: nothing announced.
      announced.length = 0;
      await h1.broker.reloadMetadata();
      expect(announced).toEqual([]);
    } finally {
      await master.close();
      removeDir(masterDir);
    }
  });

  it('coalesces: one reload at a time, at least 100 ms apart, concurrent callers share the queued one', async () => {
    const h1 = await harness({ role: 'replica' });
    let runs = 0;
    const reload = h1.broker.groups.reload.bind(h1.broker.groups);
    h1.broker.groups.reload = () => {
      runs++;
      return reload();
    };
    const t0 = Date.now();
    const first = h1.broker.reloadMetadata();
    await first;
    expect(runs).toBe(1);
    // Ten calls while none runs: one reload for all of them, 100 ms after the first.
    const calls = Array.from({ length: 10 }, () => h1.broker.reloadMetadata());
    expect(new Set(calls).size).toBe(1);
    await Promise.all(calls);
    expect(runs).toBe(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
  });
});
