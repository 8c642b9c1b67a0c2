/**
 * Property test: any sequence of registrations, unregistrations, heartbeats, channel closes, expiry
 * scans and topic deletions leaves the tables consistent.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RouteRegistry } from './route-registry.js';
import { FakeClock, topic, version } from './test-fixtures.js';

const CLUSTERS = ['C1', 'C2'];
const NAMES = ['broker-a', 'broker-b', 'broker-c'];
const ADDRS = ['10.0.0.1:10911', '10.0.0.2:10911', '10.0.0.3:10911', '10.0.0.4:10911', '10.0.0.5:10911'];
const TOPICS = ['T1', 'T2', 'T3', '%RETRY%G1'];
const CHANNELS = ['ch1', 'ch2', 'ch3'];

type Op =
  | {
      kind: 'register';
      cluster: string;
      name: string;
      addr: string;
      id: number;
      topics: string[];
      counter: number;
      state: number;
      channel: string;
      timeout: number | undefined;
    }
  | { kind: 'unregister'; cluster: string; name: string; addr: string; id: number }
  | { kind: 'heartbeat'; addr: string }
  | { kind: 'close'; channel: string }
  | { kind: 'scan'; advance: number }
  | { kind: 'deleteTopic'; topic: string; cluster: string | undefined };

const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('register' as const),
      cluster: pick(CLUSTERS),
      name: pick(NAMES),
      addr: pick(ADDRS),
      id: fc.integer({ min: 0, max: 2 }),
      topics: fc.subarray(TOPICS),
      counter: fc.integer({ min: 0, max: 3 }),
      state: fc.integer({ min: 0, max: 2 }),
      channel: pick(CHANNELS),
      timeout: fc.option(fc.integer({ min: 1_000, max: 200_000 }), { nil: undefined }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('unregister' as const),
      cluster: pick(CLUSTERS),
      name: pick(NAMES),
      addr: pick(ADDRS),
      id: fc.integer({ min: 0, max: 2 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('heartbeat' as const), addr: pick(ADDRS) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const), channel: pick(CHANNELS) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('scan' as const), advance: fc.integer({ min: 0, max: 150_000 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deleteTopic' as const),
      topic: pick(TOPICS),
      cluster: fc.option(pick(CLUSTERS), { nil: undefined }),
    }),
  },
);

/** Applies one op; returns addresses that must now be absent and ones that must be present. */
function apply(registry: RouteRegistry, clock: FakeClock, op: Op): { gone: string[]; present: string[] } {
  switch (op.kind) {
    case 'register': {
      const result = registry.registerBroker({
        clusterName: op.cluster,
        brokerName: op.name,
        brokerAddr: op.addr,
        brokerId: op.id,
        haServerAddr: op.addr.replace('10911', '10912'),
        topicConfigs: op.topics.map((t) => topic(t)),
        dataVersion: version(op.counter, op.state),
        heartbeatTimeoutMillis: op.timeout,
        channelId: op.channel,
      });
      return { gone: [], present: result.accepted ? [op.addr] : [] };
    }
    case 'unregister':
      registry.unregisterBroker({ clusterName: op.cluster, brokerName: op.name, brokerAddr: op.addr, brokerId: op.id });
      // Gone only if it was registered under that name (else a mismatched request may leave it).
      return { gone: [], present: [] };
    case 'heartbeat':
      registry.heartbeat(op.addr);
      return { gone: [], present: [] };
    case 'close':
      return { gone: registry.onChannelClosed(op.channel).map((m) => m.brokerAddr), present: [] };
    case 'scan':
      clock.advance(op.advance);
      return { gone: registry.scanExpired().map((m) => m.brokerAddr), present: [] };
    case 'deleteTopic':
      registry.deleteTopic(op.topic, op.cluster);
      return { gone: [], present: [] };
  }
}

function checkInvariants(registry: RouteRegistry): void {
  const live = registry.liveBrokers();
  const liveAddrs = new Set(live.map((b) => b.brokerAddr));
  const { brokerAddrTable, clusterAddrTable } = registry.clusterInfo();

  // Groups: non-empty, every member alive, every address in exactly one group.
  const seen = new Set<string>();
  for (const [name, data] of Object.entries(brokerAddrTable)) {
    expect(data.brokerName).toBe(name);
    const addrs = Object.values(data.brokerAddrs);
    expect(addrs.length).toBeGreaterThan(0);
    for (const addr of addrs) {
      expect(liveAddrs.has(addr)).toBe(true);
      expect(seen.has(addr)).toBe(false);
      seen.add(addr);
    }
  }
  // Every live member is in the group it registered under, at its id.
  for (const member of live) {
    expect(brokerAddrTable[member.brokerName]?.brokerAddrs[String(member.brokerId)]).toBe(member.brokerAddr);
  }
  // Clusters list only existing groups, and each group under its own cluster.
  for (const names of Object.values(clusterAddrTable)) {
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(brokerAddrTable[name]).toBeDefined();
  }
  for (const data of Object.values(brokerAddrTable)) expect(clusterAddrTable[data.cluster]).toContain(data.brokerName);

  // Routes: every listed topic routes; brokerDatas cover queueDatas; no route names a gone broker.
  for (const t of registry.topicList()) {
    const route = registry.routeFor(t);
    expect(route).not.toBeNull();
    const queueNames = route!.queueDatas.map((q) => q.brokerName).sort();
    const brokerNames = route!.brokerDatas.map((b) => b.brokerName).sort();
    expect(brokerNames).toEqual(queueNames);
    for (const bd of route!.brokerDatas) {
      expect(bd).toEqual(brokerAddrTable[bd.brokerName]);
      for (const addr of Object.values(bd.brokerAddrs)) expect(liveAddrs.has(addr)).toBe(true);
    }
  }
  for (const t of TOPICS) {
    if (!registry.topicList().includes(t)) expect(registry.routeFor(t)).toBeNull();
  }
  for (const cluster of CLUSTERS) {
    for (const t of registry.topicsOfCluster(cluster)) expect(registry.topicList()).toContain(t);
  }
}

describe('RouteRegistry invariants under random operation sequences', () => {
  it('keeps routes, groups, clusters and live members consistent', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const clock = new FakeClock();
        const registry = new RouteRegistry({ clock: clock.read, routeUnregisteredRetryTopics: false });
        for (const op of ops) {
          const { gone, present } = apply(registry, clock, op);
          const liveAddrs = new Set(registry.liveBrokers().map((b) => b.brokerAddr));
          for (const addr of gone) expect(liveAddrs.has(addr)).toBe(false);
          for (const addr of present) expect(liveAddrs.has(addr)).toBe(true);
          checkInvariants(registry);
        }
      }),
      { numRuns: 300, seed: 20250921 },
    );
  });

  it('unregistering every member empties the registry', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        const clock = new FakeClock();
        const registry = new RouteRegistry({ clock: clock.read, routeUnregisteredRetryTopics: false });
        for (const op of ops) apply(registry, clock, op);
        for (const member of registry.liveBrokers()) registry.unregisterBroker(member);
        expect(registry.liveBrokers()).toEqual([]);
        expect(registry.topicList()).toEqual([]);
        expect(registry.clusterInfo()).toEqual({ brokerAddrTable: {}, clusterAddrTable: {} });
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});
