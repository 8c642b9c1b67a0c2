import { describe, expect, it } from 'vitest';
import { KvConfigStore } from './kv-config.js';
import { Perm } from '@apogee/message';
import { RouteRegistry } from './route-registry.js';
import { FakeClock, registration, topic, version } from './test-fixtures.js';
import { NAMESPACE_ORDER_TOPIC_CONFIG } from './types.js';

const MASTER_A = '10.0.0.1:10911';
const SLAVE_A = '10.0.0.2:10911';
const MASTER_B = '10.0.1.1:10911';

describe('RouteRegistry registration', () => {
  it('registers a master and answers a route with brokerAddrs keyed "0"', () => {
    const registry = new RouteRegistry();
    const result = registry.registerBroker(registration({ topicConfigs: [topic('TopicTest', 8)] }));
    expect(result).toEqual({ accepted: true, masterAddr: null, haServerAddr: null, changed: true });
    expect(registry.routeFor('TopicTest')).toEqual({
      queueDatas: [{ brokerName: 'broker-a', readQueueNums: 8, writeQueueNums: 8, perm: 6, topicSysFlag: 0 }],
      brokerDatas: [{ cluster: 'DefaultCluster', brokerName: 'broker-a', brokerAddrs: { '0': MASTER_A }, enableActingMaster: false }],
      filterServerTable: {},
    });
    expect(registry.routeFor('NoSuchTopic')).toBeNull();
  });

  it('tells a slave its master and the master HA address; routes list both members', () => {
    const registry = new RouteRegistry();
    registry.registerBroker(registration());
    const slave = registry.registerBroker(registration({ brokerAddr: SLAVE_A, brokerId: 1, haServerAddr: '10.0.0.2:10912', channelId: 'chan-2' }));
    expect(slave).toEqual({ accepted: true, masterAddr: MASTER_A, haServerAddr: '10.0.0.1:10912', changed: true });
    expect(registry.routeFor('TopicTest')!.brokerDatas[0]!.brokerAddrs).toEqual({ '0': MASTER_A, '1': SLAVE_A });
  });

  it('a slave registered before its master learns no master address', () => {
    const registry = new RouteRegistry();
    const slave = registry.registerBroker(registration({ brokerAddr: SLAVE_A, brokerId: 1 }));
    expect(slave.masterAddr).toBeNull();
    expect(slave.haServerAddr).toBeNull();
  });

  it('takes queue data from the master, not from a slave with different topic configs', () => {
    const registry = new RouteRegistry();
    registry.registerBroker(registration({ topicConfigs: [topic('T', 8, 6)] }));
    registry.registerBroker(registration({ brokerAddr: SLAVE_A, brokerId: 1, topicConfigs: [topic('T', 2, 4), topic('SlaveOnly')], dataVersion: version(9) }));
    expect(registry.routeFor('T')!.queueDatas).toEqual([{ brokerName: 'broker-a', readQueueNums: 8, writeQueueNums: 8, perm: 6, topicSysFlag: 0 }]);
    expect(registry.routeFor('SlaveOnly')).toBeNull();
  });

  it('without a master, the lowest-id slave supplies queue data', () => {
    const registry = new RouteRegistry();
    registry.registerBroker(registration({ brokerAddr: '10.0.0.3:10911', brokerId: 2, topicConfigs: [topic('T', 2)] }));
    registry.registerBroker(registration({ brokerAddr: SLAVE_A, brokerId: 1, topicConfigs: [topic('T', 3)] }));
    expect(registry.routeFor('T')!.queueDatas[0]!.readQueueNums).toBe(3);
    // The master arrives and takes over.
    registry.registerBroker(registration({ topicConfigs: [topic('T', 8)] }));
    expect(registry.routeFor('T')!.queueDatas[0]!.readQueueNums).toBe(8);
  });

  it('serves several brokers and clusters, routes sorted by brokerName', () => {
    const registry = new RouteRegistry();
    registry.registerBroker(registration({ brokerName: 'broker-b', brokerAddr: MASTER_B, topicConfigs: [topic('Shared'), topic('OnlyB')] }));
    registry.registerBroker(registration({ topicConfigs: [topic('Shared')] }));
    registry.registerBroker(
      registration({ clusterName: 'Other', brokerName: 'broker-x', brokerAddr: '10.9.0.1:10911', topicConfigs: [topic('Shared'), topic('X')] }),
    );
    const route = registry.routeFor('Shared')!;
    expect(route.queueDatas.map((q) => q.brokerName)).toEqual(['broker-a', 'broker-b', 'broker-x']);
    expect(route.brokerDatas.map((b) => [b.cluster, b.brokerName])).toEqual([
      ['DefaultCluster', 'broker-a'],
      ['DefaultCluster', 'broker-b'],
      ['Other', 'broker-x'],
    ]);
    expect(registry.clusterInfo().clusterAddrTable).toEqual({ DefaultCluster: ['broker-a', 'broker-b'], Other: ['broker-x'] });
    expect(Object.keys(registry.clusterInfo().brokerAddrTable)).toEqual(['broker-a', 'broker-b', 'broker-x']);
    expect(registry.topicList()).toEqual(['OnlyB', 'Shared', 'X']);
    expect(registry.topicsOfCluster('DefaultCluster')).toEqual(['OnlyB', 'Shared']);
    expect(registry.topicsOfCluster('Other')).toEqual(['Shared', 'X']);
    expect(registry.topicsOfCluster('Nope')).toEqual([]);
    expect(registry.systemTopicList().topicList).toEqual(['DefaultCluster', 'Other', 'broker-a', 'broker-b', 'broker-x']);
  });

  it('routes an unregistered %RETRY% topic provisionally to every master (one queue), unless turned off', () => {
    const registry = new RouteRegistry();
    expect(registry.routeFor('%RETRY%GID_new')).toBeNull();
    registry.registerBroker(registration({ topicConfigs: [topic('TopicTest')], dataVersion: version(1) }));
    registry.registerBroker(registration({ brokerName: 'broker-b', brokerAddr: '10.0.0.9:10911', topicConfigs: [], dataVersion: version(1) }));
    registry.registerBroker(registration({ brokerName: 'broker-c', brokerAddr: '10.0.0.8:10911', brokerId: 1, topicConfigs: [], dataVersion: version(1) }));
    const route = registry.routeFor('%RETRY%GID_new')!;
    expect(route.queueDatas.map((q) => [q.brokerName, q.readQueueNums, q.writeQueueNums, q.perm])).toEqual([
      ['broker-a', 1, 1, 6],
      ['broker-b', 1, 1, 6],
    ]);
    expect(route.brokerDatas.map((b) => b.brokerAddrs['0'])).toEqual(['10.0.0.1:10911', '10.0.0.9:10911']);
    expect(registry.routeFor('NotRetry')).toBeNull();
    const strict = new RouteRegistry({ routeUnregisteredRetryTopics: false });
    strict.registerBroker(registration({ topicConfigs: [topic('TopicTest')], dataVersion: version(1) }));
    expect(strict.routeFor('%RETRY%GID_new')).toBeNull();
  });

  it('a topic added by re-registration (%RETRY%group after a heartbeat) is routable at once', () => {
    const registry = new RouteRegistry({ routeUnregisteredRetryTopics: false });
    registry.registerBroker(registration({ topicConfigs: [topic('TopicTest')], dataVersion: version(1) }));
    expect(registry.routeFor('%RETRY%GID_test')).toBeNull();
    const again = registry.registerBroker(registration({ topicConfigs: [topic('TopicTest'), topic('%RETRY%GID_test', 1)], dataVersion: version(2) }));
    expect(again.changed).toBe(true);
    expect(registry.routeFor('%RETRY%GID_test')!.queueDatas).toEqual([
      { brokerName: 'broker-a', readQueueNums: 1, writeQueueNums: 1, perm: 6, topicSysFlag: 0 },
    ]);
  });

  it('adds a new topic even when the DataVersion did not change', () => {
    const registry = new RouteRegistry();
    registry.registerBroker(registration({ topicConfigs: [topic('A')] }));
    const again = registry.registerBroker(registration({ topicConfigs: [topic('A'), topic('B')] }));
    expect(again.changed).toBe(false);
    expect(registry.routeFor('B')).not.toBeNull();
  });

  it('keeps topics a re-registration omits, unless deleteTopicWithBrokerRegistration', () => {
    const keep = new RouteRegistry();
    keep.registerBroker(registration({ topicConfigs: [topic('A'), topic('B')], dataVersion: version(1) }));
    keep.registerBroker(registration({ topicConfigs: [topic('A')], dataVersion: version(2) }));
    expect(keep.topicList()).toEqual(['A', 'B']);

    const drop = new RouteRegistry({ deleteTopicWithBrokerRegistration: true });
    drop.registerBroker(registration({ topicConfigs: [topic('A'), topic('B')], dataVersion: version(1) }));
    drop.registerBroker(registration({ topicConfigs: [topic('A')], dataVersion: version(2) }));
    expect(drop.topicList()).toEqual(['A']);
  });

  it('a slave promoted to master keeps one entry per address', () => {
    const registry = new RouteRegistry();
    registry.registerBroker(registration({ brokerAddr: SLAVE_A, brokerId: 1 }));
    registry.registerBroker(registration({ brokerAddr: SLAVE_A, brokerId: 0 }));
    expect(registry.routeFor('TopicTest')!.brokerDatas[0]!.brokerAddrs).toEqual({ '0': SLAVE_A });
  });

  it('rejects a claim on a taken brokerId with an older stateVersion', () => {
    const registry = new RouteRegistry();
    registry.registerBroker(registration({ dataVersion: version(1, 5) }));
    const stale = registry.registerBroker(registration({ brokerAddr: '10.0.0.9:10911', dataVersion: version(1, 4) }));
    expect(stale.accepted).toBe(false);
    expect(registry.routeFor('TopicTest')!.brokerDatas[0]!.brokerAddrs).toEqual({ '0': MASTER_A });
    const newer = registry.registerBroker(registration({ brokerAddr: '10.0.0.9:10911', dataVersion: version(1, 6) }));
    expect(newer.accepted).toBe(true);
    expect(registry.routeFor('TopicTest')!.brokerDatas[0]!.brokerAddrs).toEqual({ '0': '10.0.0.9:10911' });
    expect(registry.liveBrokers().map((b) => b.brokerAddr)).toEqual(['10.0.0.9:10911']);
  });

  it('an address re-registering under another broker name leaves its old group', () => {
    const registry = new RouteRegistry();
    registry.registerBroker(registration({ topicConfigs: [topic('Old')] }));
    registry.registerBroker(registration({ brokerName: 'broker-renamed', topicConfigs: [topic('New')] }));
    expect(registry.routeFor('Old')).toBeNull();
    expect(registry.routeFor('New')!.brokerDatas[0]!.brokerName).toBe('broker-renamed');
    expect(Object.keys(registry.clusterInfo().brokerAddrTable)).toEqual(['broker-renamed']);
  });

  it('records filter servers and zone names', () => {
    const registry = new RouteRegistry();
    registry.registerBroker(registration({ filterServerList: ['10.0.0.1:30000'], zoneName: 'zone-1' }));
    const route = registry.routeFor('TopicTest')!;
    expect(route.filterServerTable).toEqual({ [MASTER_A]: ['10.0.0.1:30000'] });
    expect(route.brokerDatas[0]!.zoneName).toBe('zone-1');
    registry.registerBroker(registration({ filterServerList: [] }));
    expect(registry.routeFor('TopicTest')!.filterServerTable).toEqual({});
  });
});

describe('RouteRegistry liveness', () => {
  it('drops a broker silent longer than 120 s, not one that heartbeats', () => {
    const clock = new FakeClock();
    const registry = new RouteRegistry({ clock: clock.read });
    registry.registerBroker(registration({ topicConfigs: [topic('A')] }));
    registry.registerBroker(registration({ brokerName: 'broker-b', brokerAddr: MASTER_B, topicConfigs: [topic('A'), topic('B')] }));
    clock.advance(100_000);
    expect(registry.heartbeat(MASTER_B)).toBe(true);
    clock.advance(20_000);
    expect(registry.scanExpired()).toEqual([]); // exactly 120 s: not yet (last + timeout < now)
    clock.advance(1);
    expect(registry.scanExpired()).toEqual([{ clusterName: 'DefaultCluster', brokerName: 'broker-a', brokerAddr: MASTER_A, brokerId: 0 }]);
    expect(registry.routeFor('A')!.brokerDatas.map((b) => b.brokerName)).toEqual(['broker-b']);
    clock.advance(100_000);
    expect(registry.scanExpired().map((m) => m.brokerAddr)).toEqual([MASTER_B]);
    expect(registry.routeFor('A')).toBeNull();
    expect(registry.topicList()).toEqual([]);
    expect(registry.clusterInfo()).toEqual({ brokerAddrTable: {}, clusterAddrTable: {} });
  });

  it('honours a per-broker heartbeatTimeoutMillis and an explicit scan time', () => {
    const clock = new FakeClock(0);
    const registry = new RouteRegistry({ clock: clock.read });
    registry.registerBroker(registration({ heartbeatTimeoutMillis: 10_000 }));
    expect(registry.scanExpired(10_000)).toEqual([]);
    expect(registry.scanExpired(10_001)).toHaveLength(1);
  });

  it('an expired slave leaves the master and its queue data in place', () => {
    const clock = new FakeClock();
    const registry = new RouteRegistry({ clock: clock.read });
    registry.registerBroker(registration({ brokerAddr: SLAVE_A, brokerId: 1 }));
    clock.advance(60_000);
    registry.registerBroker(registration());
    clock.advance(61_000);
    expect(registry.scanExpired().map((m) => m.brokerAddr)).toEqual([SLAVE_A]);
    expect(registry.routeFor('TopicTest')!.brokerDatas[0]!.brokerAddrs).toEqual({ '0': MASTER_A });
  });

  it('heartbeat of an unknown broker or the wrong cluster reports false', () => {
    const registry = new RouteRegistry();
    registry.registerBroker(registration());
    expect(registry.heartbeat('1.2.3.4:5')).toBe(false);
    expect(registry.heartbeat(MASTER_A, 'OtherCluster')).toBe(false);
    expect(registry.heartbeat(MASTER_A, 'DefaultCluster')).toBe(true);
  });

  it('closing a channel drops the brokers registered over it', () => {
    const registry = new RouteRegistry();
    const socket = {};
    registry.registerBroker(registration({ channelId: socket }));
    registry.registerBroker(registration({ brokerAddr: SLAVE_A, brokerId: 1, channelId: 'other' }));
    registry.registerBroker(registration({ brokerName: 'broker-b', brokerAddr: MASTER_B, channelId: socket }));
    const dropped = registry.onChannelClosed(socket);
    expect(dropped.map((m) => m.brokerAddr).sort()).toEqual([MASTER_A, MASTER_B]);
    expect(registry.routeFor('TopicTest')!.brokerDatas).toEqual([
      { cluster: 'DefaultCluster', brokerName: 'broker-a', brokerAddrs: { '1': SLAVE_A }, enableActingMaster: false },
    ]);
    expect(registry.onChannelClosed(socket)).toEqual([]);
  });

  it('a re-registration over a new channel moves the broker to that channel', () => {
    const registry = new RouteRegistry();
    registry.registerBroker(registration({ channelId: 'old' }));
    registry.registerBroker(registration({ channelId: 'new' }));
    expect(registry.onChannelClosed('old')).toEqual([]);
    expect(registry.onChannelClosed('new')).toHaveLength(1);
  });
});

describe('RouteRegistry unregister and deletion', () => {
  it('unregisters a slave, then the master, and the group with its topics goes', () => {
    const registry = new RouteRegistry();
    registry.registerBroker(registration({ topicConfigs: [topic('A')] }));
    registry.registerBroker(registration({ brokerAddr: SLAVE_A, brokerId: 1 }));
    const header = { clusterName: 'DefaultCluster', brokerName: 'broker-a' };
    expect(registry.unregisterBroker({ ...header, brokerAddr: SLAVE_A, brokerId: 1 })).toBe(true);
    expect(registry.routeFor('A')!.brokerDatas[0]!.brokerAddrs).toEqual({ '0': MASTER_A });
    expect(registry.unregisterBroker({ ...header, brokerAddr: MASTER_A, brokerId: 0 })).toBe(true);
    expect(registry.routeFor('A')).toBeNull();
    expect(registry.clusterInfo().clusterAddrTable).toEqual({});
    expect(registry.unregisterBroker({ ...header, brokerAddr: MASTER_A, brokerId: 0 })).toBe(false);
  });

  it('deletes a topic everywhere or only on one cluster', () => {
    const registry = new RouteRegistry();
    registry.registerBroker(registration({ topicConfigs: [topic('T'), topic('U')] }));
    registry.registerBroker(registration({ clusterName: 'C2', brokerName: 'broker-b', brokerAddr: MASTER_B, topicConfigs: [topic('T')] }));
    expect(registry.deleteTopic('T', 'C2')).toBe(true);
    expect(registry.routeFor('T')!.brokerDatas.map((b) => b.brokerName)).toEqual(['broker-a']);
    expect(registry.deleteTopic('T')).toBe(true);
    expect(registry.routeFor('T')).toBeNull();
    expect(registry.deleteTopic('T')).toBe(false);
    expect(registry.topicList()).toEqual(['U']);
    // A later registration with a new DataVersion brings a deleted topic back, as in RocketMQ.
    registry.registerBroker(registration({ topicConfigs: [topic('T'), topic('U')], dataVersion: version(2) }));
    expect(registry.routeFor('T')).not.toBeNull();
  });

  it('registerTopic accepts only known broker groups', () => {
    const registry = new RouteRegistry();
    registry.registerBroker(registration());
    const qd = { brokerName: 'broker-a', readQueueNums: 2, writeQueueNums: 2, perm: 6, topicSysFlag: 0 };
    expect(registry.registerTopic('Manual', [{ ...qd, brokerName: 'ghost' }])).toBe(false);
    expect(registry.routeFor('Manual')).toBeNull();
    expect(registry.registerTopic('Manual', [qd])).toBe(true);
    expect(registry.routeFor('Manual')!.queueDatas).toEqual([qd]);
  });

  it('wipes and restores the write permission of a broker group', () => {
    const registry = new RouteRegistry();
    registry.registerBroker(registration({ topicConfigs: [topic('A'), topic('B')] }));
    expect(registry.wipeWritePermOfBroker('broker-a')).toBe(2);
    expect(registry.routeFor('A')!.queueDatas[0]!.perm).toBe(Perm.READ);
    expect(registry.addWritePermOfBroker('broker-a')).toBe(2);
    expect(registry.routeFor('B')!.queueDatas[0]!.perm).toBe(Perm.READ | Perm.WRITE);
    expect(registry.wipeWritePermOfBroker('nobody')).toBe(0);
  });
});

describe('RouteRegistry data versions', () => {
  it('QUERY_DATA_VERSION: changed unless the broker last registered the same version', () => {
    const registry = new RouteRegistry();
    expect(registry.isDataVersionChanged(MASTER_A, version(1))).toBe(true);
    registry.registerBroker(registration({ dataVersion: version(3, 1, 42) }));
    expect(registry.isDataVersionChanged(MASTER_A, version(3, 1, 42))).toBe(false);
    expect(registry.isDataVersionChanged(MASTER_A, version(4, 1, 42))).toBe(true);
    expect(registry.isDataVersionChanged(MASTER_A, version(3, 2, 42))).toBe(true);
    expect(registry.isDataVersionChanged(MASTER_A, version(3, 1, 43))).toBe(true);
    expect(registry.isDataVersionChanged(MASTER_A, version(3, 1, 42), 'OtherCluster')).toBe(true);
    expect(registry.brokerDataVersion(MASTER_A)).toEqual(version(3, 1, 42));
  });

  it('a registration reports changed only for a new member or a new version', () => {
    const registry = new RouteRegistry();
    expect(registry.registerBroker(registration({ dataVersion: version(1) })).changed).toBe(true);
    expect(registry.registerBroker(registration({ dataVersion: version(1) })).changed).toBe(false);
    expect(registry.registerBroker(registration({ dataVersion: version(2) })).changed).toBe(true);
  });

  it('same version skips re-reading existing topics; a new version updates them', () => {
    const registry = new RouteRegistry();
    registry.registerBroker(registration({ topicConfigs: [topic('A', 4)], dataVersion: version(1) }));
    registry.registerBroker(registration({ topicConfigs: [topic('A', 16)], dataVersion: version(1) }));
    expect(registry.routeFor('A')!.queueDatas[0]!.readQueueNums).toBe(4);
    registry.registerBroker(registration({ topicConfigs: [topic('A', 16)], dataVersion: version(2) }));
    expect(registry.routeFor('A')!.queueDatas[0]!.readQueueNums).toBe(16);
  });
});

describe('RouteRegistry order topics and acting master', () => {
  it('adds orderTopicConf from KV namespace ORDER_TOPIC_CONFIG', async () => {
    const kv = await KvConfigStore.open();
    const registry = new RouteRegistry({ kv });
    registry.registerBroker(registration({ topicConfigs: [topic('Ordered'), topic('Plain')] }));
    await kv.put(NAMESPACE_ORDER_TOPIC_CONFIG, 'Ordered', 'broker-a:4');
    expect(registry.routeFor('Ordered')!.orderTopicConf).toBe('broker-a:4');
    expect(registry.routeFor('Plain')).not.toHaveProperty('orderTopicConf');
  });

  it('acting master: a master-less group goes read-only and its lowest slave shows as "0"', () => {
    const registry = new RouteRegistry({ supportActingMaster: true });
    registry.registerBroker(registration({ enableActingMaster: true }));
    registry.registerBroker(registration({ brokerAddr: SLAVE_A, brokerId: 1, enableActingMaster: true }));
    registry.unregisterBroker({ clusterName: 'DefaultCluster', brokerName: 'broker-a', brokerAddr: MASTER_A, brokerId: 0 });
    const route = registry.routeFor('TopicTest')!;
    expect(route.queueDatas[0]!.perm).toBe(Perm.READ);
    expect(route.brokerDatas[0]!.brokerAddrs).toEqual({ '0': SLAVE_A });
  });
});
