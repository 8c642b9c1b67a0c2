import type { ReplicaView } from '@apogee/ha';
import { describe, expect, it } from 'vitest';
import { collectReplicationStats, replicationRuntimeInfo, type ReplicationStats } from './replication-stats.js';

const view = (replicaId: number, ackedOffset: number): ReplicaView => ({
  replicaId,
  remote: `127.0.0.1:${40000 + replicaId}`,
  sentOffset: ackedOffset,
  ackedOffset,
  flushedOffset: ackedOffset,
  lastAckAt: 0,
});

describe('collectReplicationStats', () => {
  it('is null for a broker without an HA port or a follower', () => {
    expect(collectReplicationStats({ brokerId: 0, epoch: 0, confirmedOffset: 10 })).toBeNull();
    expect(collectReplicationStats({ brokerId: 0, epoch: 0, confirmedOffset: 10, ha: null, follower: null })).toBeNull();
  });

  it("takes a master's replicas from its HA port, lag against the confirmed end, by replica id", () => {
    const ha = { replicas: () => [view(2, 1500), view(1, 1000)] };
    expect(collectReplicationStats({ brokerId: 0, epoch: 4, confirmedOffset: 1200, ha })).toEqual({
      role: 'master',
      brokerId: 0,
      epoch: 4,
      replication: 'async',
      replicas: [
        { replicaId: 1, remote: '127.0.0.1:40001', ackedOffset: 1000, lagBytes: 200 },
        // Acked past the confirmed end (the confirmed end lags the written end): lag 0, never negative.
        { replicaId: 2, remote: '127.0.0.1:40002', ackedOffset: 1500, lagBytes: 0 },
      ],
    });
  });

  it('marks the in-sync members and counts them with sync replication', () => {
    const ha = { replicas: () => [view(1, 1000), view(2, 10)] };
    const stats = collectReplicationStats({ brokerId: 0, epoch: 4, confirmedOffset: 1000, ha, sync: { members: () => [1] } });
    expect(stats).toMatchObject({ replication: 'sync', inSyncReplicas: 1 });
    expect(stats?.role === 'master' && stats.replicas.map((r) => [r.replicaId, r.inSync])).toEqual([
      [1, true],
      [2, false],
    ]);
  });

  it("takes a replica's view from its follower", () => {
    const follower = { connected: true, lagBytes: 77 };
    expect(collectReplicationStats({ brokerId: 2, epoch: 3, confirmedOffset: 0, follower, haMaster: '10.0.0.1:10912' })).toEqual({
      role: 'replica',
      brokerId: 2,
      epoch: 3,
      master: '10.0.0.1:10912',
      connected: true,
      lagBytes: 77,
    });
  });
});

describe('replicationRuntimeInfo (GET_BROKER_RUNTIME_INFO fields)', () => {
  it('is empty for a lone broker', () => {
    expect(replicationRuntimeInfo(null)).toEqual({});
  });

  it("writes a sync master's role, epoch, in-sync count, best replica's lag and connections", () => {
    const stats: ReplicationStats = {
      role: 'master',
      brokerId: 0,
      epoch: 5,
      replication: 'sync',
      replicas: [
        { replicaId: 1, remote: '127.0.0.1:40001', ackedOffset: 900, lagBytes: 100, inSync: true },
        { replicaId: 2, remote: '127.0.0.1:40002', ackedOffset: 0, lagBytes: 1000, inSync: false },
      ],
      inSyncReplicas: 1,
    };
    const t = replicationRuntimeInfo(stats);
    expect(t).toMatchObject({ brokerRole: 'SYNC_MASTER', brokerId: '0', masterEpoch: '5', inSyncSlaveNums: '1', slaveFallBehindMuch: '100' });
    expect(JSON.parse(t['haConnectionInfo']!)).toEqual([
      { replicaId: 1, addr: '127.0.0.1:40001', slaveAckOffset: 900, diff: 100, inSync: true },
      { replicaId: 2, addr: '127.0.0.1:40002', slaveAckOffset: 0, diff: 1000, inSync: false },
    ]);
    for (const v of Object.values(t)) expect(typeof v).toBe('string');
  });

  it('writes an async master without replicas: no in-sync count, no fall-behind figure', () => {
    const t = replicationRuntimeInfo({ role: 'master', brokerId: 0, epoch: 1, replication: 'async', replicas: [] });
    expect(t).toEqual({ brokerRole: 'ASYNC_MASTER', brokerId: '0', masterEpoch: '1', haConnectionInfo: '[]' });
  });

  it("writes a replica's master, connection and lag", () => {
    const t = replicationRuntimeInfo({ role: 'replica', brokerId: 1, epoch: 2, master: '127.0.0.1:10912', connected: false, lagBytes: 42 });
    expect(t).toEqual({
      brokerRole: 'SLAVE',
      brokerId: '1',
      masterEpoch: '2',
      haMasterAddress: '127.0.0.1:10912',
      haMasterConnected: 'false',
      slaveFallBehindMuch: '42',
    });
  });
});
