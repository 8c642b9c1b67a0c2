// What a broker of a replicated group knows of its replication (docs/ha-design.md, decisions 2 and
// 5): its role and epoch, and — as a master — each connected replica's acknowledged end and lag, and
// — as a replica — whether it is connected to its master and how far behind it is. One snapshot,
// taken at scrape time: `/metrics` renders it (apogee_ha_*, docs/metrics.md) and
// GET_BROKER_RUNTIME_INFO carries it as RocketMQ-style string fields (replicationRuntimeInfo).
import type { ReplicaView } from '@apogee/ha';

/** One replica as its master sees it. */
export interface ReplicaStats {
  readonly replicaId: number;
  /** Its address as the HA connection sees it ("ip:port"); absent when not known. */
  readonly remote?: string | undefined;
  /** The end of its log it last acknowledged (written on the replica). */
  readonly ackedOffset: number;
  /** Confirmed master log it does not hold yet: the master's confirmed end − ackedOffset, ≥ 0. */
  readonly lagBytes: number;
  /** With `--replication sync`: whether it is in the in-sync set. Absent with async replication. */
  readonly inSync?: boolean | undefined;
}

export interface MasterReplicationStats {
  readonly role: 'master';
  readonly brokerId: number;
  /** The epoch this master writes in (the store's current epoch). */
  readonly epoch: number;
  /** Whether sends wait for the in-sync replicas (SYNC_MASTER) or only for the local flush (ASYNC_MASTER). */
  readonly replication: 'sync' | 'async';
  /** The connected replicas, by replicaId. */
  readonly replicas: readonly ReplicaStats[];
  /** With `--replication sync`: how many replicas are in the in-sync set (the master not counted). */
  readonly inSyncReplicas?: number | undefined;
}

export interface ReplicaReplicationStats {
  readonly role: 'replica';
  readonly brokerId: number;
  /** The newest epoch this replica has seen (of its log, or of its master's frames). */
  readonly epoch: number;
  /** The master's HA address it follows ("host:port"); null when it follows none. */
  readonly master: string | null;
  readonly connected: boolean;
  /** Confirmed master log this replica does not hold yet (as of the master's last frame). */
  readonly lagBytes: number;
}

export type ReplicationStats = MasterReplicationStats | ReplicaReplicationStats;

/** What collectReplicationStats reads: the objects a role stack runs (each structurally typed). */
export interface ReplicationSources {
  readonly brokerId: number;
  readonly epoch: number;
  /** The master's confirmed commit-log end (`store.commitLogConfirmed`), for the replicas' lag. */
  readonly confirmedOffset: number;
  /** The master's HA port (HaServer); null or absent on a replica or a master without one. */
  readonly ha?: { replicas(): ReplicaView[] } | null | undefined;
  /** The in-sync set (SyncReplication): kept with --replication sync, and with a controller in either mode; null or absent: none. */
  readonly sync?: { members(): number[] } | null | undefined;
  /** The master's replication mode (default: sync when `sync` is given). */
  readonly replication?: 'sync' | 'async';
  /** A replica's follower (HaReplica); null or absent on a master. */
  readonly follower?: { readonly connected: boolean; readonly lagBytes: number } | null | undefined;
  /** The HA address the follower follows. */
  readonly haMaster?: string | null | undefined;
}

/**
 * The snapshot of a role stack's replication objects: a replica's when it has a follower, a
 * master's when it runs an HA port, else null (a lone broker: no apogee_ha_* series).
 */
export function collectReplicationStats(src: ReplicationSources): ReplicationStats | null {
  if (src.follower) {
    return {
      role: 'replica',
      brokerId: src.brokerId,
      epoch: src.epoch,
      master: src.haMaster ?? null,
      connected: src.follower.connected,
      lagBytes: Math.max(0, src.follower.lagBytes),
    };
  }
  if (!src.ha) return null;
  const members = src.sync ? new Set(src.sync.members()) : null;
  const replicas = src.ha
    .replicas()
    .map((r): ReplicaStats => ({
      replicaId: r.replicaId,
      remote: r.remote,
      ackedOffset: r.ackedOffset,
      lagBytes: Math.max(0, src.confirmedOffset - r.ackedOffset),
      ...(members ? { inSync: members.has(r.replicaId) } : {}),
    }))
    .sort((a, b) => a.replicaId - b.replicaId);
  return {
    role: 'master',
    brokerId: src.brokerId,
    epoch: src.epoch,
    replication: src.replication ?? (members ? 'sync' : 'async'),
    replicas,
    ...(members ? { inSyncReplicas: members.size } : {}),
  };
}

/** RocketMQ's BrokerRole names, as GET_BROKER_RUNTIME_INFO's `brokerRole` carries them. */
export type BrokerRoleName = 'ASYNC_MASTER' | 'SYNC_MASTER' | 'SLAVE';

export function brokerRoleName(stats: ReplicationStats): BrokerRoleName {
  if (stats.role === 'replica') return 'SLAVE';
  return stats.replication === 'sync' ? 'SYNC_MASTER' : 'ASYNC_MASTER';
}

/**
 * The replication fields GET_BROKER_RUNTIME_INFO adds to its table (BrokerServiceOptions
 * runtimeInfoExtra), every value a string as in RocketMQ's KVTable; {} for null (a lone broker).
 *
 * Apache RocketMQ's runtime table has no HA entry (its HA status is GET_BROKER_HA_STATUS, 907,
 * a HARuntimeInfo); the names below take that structure's vocabulary and RocketMQ's broker
 * settings' where one fits:
 * - every role: `brokerRole` (ASYNC_MASTER, SYNC_MASTER, SLAVE), `brokerId`, `masterEpoch` (the epoch);
 * - a master: `inSyncSlaveNums` (sync replication only), `haConnectionInfo` — a JSON array of
 *   `{replicaId, addr, slaveAckOffset, diff, inSync?}` (HARuntimeInfo's HAConnectionRuntimeInfo;
 *   `diff` is the lag in bytes) — and, with a replica connected, `slaveFallBehindMuch`: the bytes
 *   the most advanced replica is behind (RocketMQ's MessageStore.slaveFallBehindMuch);
 * - a replica: `haMasterAddress` (the HA master followed, empty when none), `haMasterConnected`
 *   (true/false) and `slaveFallBehindMuch`: the bytes this replica is behind its master.
 */
export function replicationRuntimeInfo(stats: ReplicationStats | null): Record<string, string> {
  if (!stats) return {};
  const out: Record<string, string> = {
    brokerRole: brokerRoleName(stats),
    brokerId: String(stats.brokerId),
    masterEpoch: String(stats.epoch),
  };
  if (stats.role === 'replica') {
    out['haMasterAddress'] = stats.master ?? '';
    out['haMasterConnected'] = String(stats.connected);
    out['slaveFallBehindMuch'] = String(stats.lagBytes);
    return out;
  }
  if (stats.inSyncReplicas !== undefined) out['inSyncSlaveNums'] = String(stats.inSyncReplicas);
  if (stats.replicas.length > 0) out['slaveFallBehindMuch'] = String(Math.min(...stats.replicas.map((r) => r.lagBytes)));
  out['haConnectionInfo'] = JSON.stringify(
    stats.replicas.map((r) => ({
      replicaId: r.replicaId,
      addr: r.remote ?? '',
      slaveAckOffset: r.ackedOffset,
      diff: r.lagBytes,
      ...(r.inSync === undefined ? {} : { inSync: r.inSync }),
    })),
  );
  return out;
}
