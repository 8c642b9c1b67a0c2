import type { KeyValue } from '@apogee/etcd';
import { GroupKeys } from '@apogee/ha';
import { describe, expect, it } from 'vitest';
import { type HaGroupReport, brokerTargets, disagreements, groupsFromKvs, haPrefix, parseRuntimeInfo, renderHaGroups } from './ha-view.js';

const kv = (key: string, value: string, lease = '0'): KeyValue => ({
  key: Buffer.from(key),
  value: Buffer.from(value),
  createRevision: 1,
  modRevision: 1,
  version: 1,
  lease,
});

const a = new GroupKeys('C1', 'broker-a');
const b = new GroupKeys('C1', 'broker-b');

describe('groupsFromKvs', () => {
  it('collects each group of the range by its GroupKeys, sorted by cluster and name', () => {
    const groups = groupsFromKvs([
      kv(b.epoch, '1'),
      kv(a.epoch, '3'),
      kv(a.master, JSON.stringify({ brokerId: 2, addr: '10.0.0.2:10911', haAddr: '10.0.0.2:10912', epoch: 3 }), '7587'),
      kv(a.inSync, JSON.stringify({ epoch: 3, members: [2, 0, 2] })),
      kv(a.candidate(1), JSON.stringify({ endOffset: 900 })),
      kv(a.candidate(0), JSON.stringify({ endOffset: 1000 })),
      kv(`${a.prefix}something-newer`, 'x'),
      kv('/apogee/lonely', 'x'),
      kv('/elsewhere/C1/broker-a/epoch', '9'),
    ]);
    expect(groups.map((g) => `${g.cluster}/${g.brokerName}`)).toEqual(['C1/broker-a', 'C1/broker-b']);
    expect(groups[0]).toEqual({
      cluster: 'C1',
      brokerName: 'broker-a',
      epoch: 3,
      master: { brokerId: 2, addr: '10.0.0.2:10911', haAddr: '10.0.0.2:10912', epoch: 3, lease: '7587' },
      inSync: { epoch: 3, members: [0, 2] },
      candidates: [
        { brokerId: 0, endOffset: 1000 },
        { brokerId: 1, endOffset: 900 },
      ],
      errors: [],
    });
    expect(groups[1]).toMatchObject({ epoch: 1, master: null, inSync: null, candidates: [] });
  });

  it('reports garbled values instead of trusting them', () => {
    const [g] = groupsFromKvs([
      kv(a.epoch, 'three'),
      kv(a.master, 'nope'),
      kv(a.inSync, JSON.stringify({ epoch: 1, members: [-1] })),
      kv(`${a.candidates}x`, '{}'),
    ]);
    expect(g).toMatchObject({ epoch: null, master: null, inSync: null, candidates: [] });
    expect(g!.errors).toEqual([
      'epoch is not a counter: "three"',
      'master is not JSON: "nope"',
      'in-sync needs epoch and members (broker ids): {"epoch":1,"members":[-1]}',
      'candidates/x: not a broker id',
    ]);
  });

  it('ranges every cluster or one', () => {
    expect(haPrefix()).toBe('/apogee/');
    expect(haPrefix('C1')).toBe('/apogee/C1/');
  });
});

describe('runtime info and targets', () => {
  it("reads a master's and a replica's HA fields, and a table without them", () => {
    const master = parseRuntimeInfo({
      brokerRole: 'SYNC_MASTER',
      brokerId: '0',
      masterEpoch: '3',
      commitLogMaxOffset: '1000',
      inSyncSlaveNums: '1',
      slaveFallBehindMuch: '0',
      haConnectionInfo: JSON.stringify([
        { replicaId: 2, addr: 'b', slaveAckOffset: 900, diff: 100, inSync: false },
        { replicaId: 1, addr: 'a', slaveAckOffset: 1000, diff: 0, inSync: true },
      ]),
    });
    expect(master).toMatchObject({ role: 'SYNC_MASTER', brokerId: 0, epoch: 3, commitLogMaxOffset: 1000, inSyncReplicas: 1, lagBytes: 0 });
    expect(master.replicas).toEqual([
      { replicaId: 1, addr: 'a', ackedOffset: 1000, lagBytes: 0, inSync: true },
      { replicaId: 2, addr: 'b', ackedOffset: 900, lagBytes: 100, inSync: false },
    ]);
    const replica = parseRuntimeInfo({
      brokerRole: 'SLAVE',
      brokerId: '1',
      masterEpoch: '3',
      haMasterAddress: 'm:10912',
      haMasterConnected: 'false',
      slaveFallBehindMuch: '42',
    });
    expect(replica).toMatchObject({ role: 'SLAVE', lagBytes: 42, haMaster: 'm:10912', masterConnected: false, replicas: null });
    expect(parseRuntimeInfo({ commitLogMaxOffset: '5', haConnectionInfo: 'garbage' })).toMatchObject({
      role: null,
      epoch: null,
      commitLogMaxOffset: 5,
      replicas: null,
    });
  });

  it("asks etcd's master first, then the route's addresses, each once", () => {
    const [g] = groupsFromKvs([kv(a.master, JSON.stringify({ brokerId: 2, addr: 'h:2', haAddr: 'h:3', epoch: 1 }))]);
    expect(brokerTargets(g!, undefined)).toEqual([{ addr: 'h:2', brokerId: 2, sources: ['controller'] }]);
    expect(brokerTargets(g!, { '1': 'h:1', '0': 'h:2' })).toEqual([
      { addr: 'h:2', brokerId: 2, sources: ['controller', 'namesrv'] },
      { addr: 'h:1', brokerId: 1, sources: ['namesrv'] },
    ]);
  });

  it('says where a broker disagrees with the controller', () => {
    const [g] = groupsFromKvs([kv(a.epoch, '4'), kv(a.master, JSON.stringify({ brokerId: 0, addr: 'h:0', haAddr: 'h:9', epoch: 4 }))]);
    const info = (role: string, epoch: string) => parseRuntimeInfo({ brokerRole: role, masterEpoch: epoch });
    expect(disagreements(g!, { addr: 'h:0', brokerId: 0, sources: ['controller'] }, info('SYNC_MASTER', '4'))).toEqual([]);
    expect(disagreements(g!, { addr: 'h:0', brokerId: 0, sources: ['controller'] }, info('SLAVE', '4'))).toEqual([
      'the controller names it the master, it reports SLAVE',
    ]);
    expect(disagreements(g!, { addr: 'h:1', brokerId: 1, sources: ['namesrv'] }, info('ASYNC_MASTER', '3'))).toEqual([
      "it reports ASYNC_MASTER, the controller's master is h:0",
      "it is in epoch 3, the group's is 4",
    ]);
  });
});

describe('renderHaGroups', () => {
  it('prints the keys, then one row per broker with its role, epoch, lag and state', () => {
    const [g] = groupsFromKvs([
      kv(a.epoch, '3'),
      kv(a.master, JSON.stringify({ brokerId: 0, addr: 'h:0', haAddr: 'h:9', epoch: 3 })),
      kv(a.inSync, JSON.stringify({ epoch: 3, members: [0, 1] })),
      kv(a.candidate(2), JSON.stringify({ endOffset: 77 })),
    ]);
    const report: HaGroupReport = {
      ...g!,
      brokers: [
        {
          addr: 'h:0',
          brokerId: 0,
          sources: ['controller'],
          warnings: [],
          reachable: true,
          info: parseRuntimeInfo({
            brokerRole: 'SYNC_MASTER',
            brokerId: '0',
            masterEpoch: '3',
            inSyncSlaveNums: '1',
            haConnectionInfo: JSON.stringify([{ replicaId: 1, addr: 'x', slaveAckOffset: 10, diff: 5, inSync: true }]),
          }),
        },
        {
          addr: 'h:1',
          brokerId: 1,
          sources: ['namesrv'],
          warnings: [],
          reachable: true,
          info: parseRuntimeInfo({
            brokerRole: 'SLAVE',
            brokerId: '1',
            masterEpoch: '3',
            haMasterAddress: 'h:9',
            haMasterConnected: 'true',
            slaveFallBehindMuch: '5',
          }),
        },
        { addr: 'h:2', brokerId: 2, sources: ['namesrv'], warnings: [], reachable: false, error: 'connect ECONNREFUSED h:2' },
      ],
    };
    const text = renderHaGroups([report]).join('\n');
    expect(text).toContain('C1/broker-a  epoch 3');
    expect(text).toContain('  master      broker 0 at h:0, HA h:9 (epoch 3)');
    expect(text).toContain('  in-sync     0, 1 (epoch 3)');
    expect(text).toContain('  candidates  2 (log end 77)');
    expect(text).toMatch(/^ {2}BROKER +ADDRESS +FROM +ROLE +EPOCH +LAG_BYTES +STATE$/m);
    expect(text).toMatch(/^ {2}0 +h:0 +controller +SYNC_MASTER +3 +- +replicas 1 lag 5 \(in sync\), 1 in sync$/m);
    expect(text).toMatch(/^ {2}1 +h:1 +namesrv +SLAVE +3 +5 +connected to h:9$/m);
    expect(text).toMatch(/^ {2}2 +h:2 +namesrv +unreachable +- +- +unreachable: connect ECONNREFUSED h:2$/m);
  });

  it('says so when a group has no master key and no address is known', () => {
    const [g] = groupsFromKvs([kv(b.epoch, '2'), kv(b.master, '{"x":1}')]);
    const text = renderHaGroups([{ ...g!, brokers: [] }]).join('\n');
    expect(text).toContain('master      none (no master key');
    expect(text).toContain('garbled     master needs brokerId, addr, haAddr and epoch');
    expect(text).toContain('no broker address known');
  });
});
