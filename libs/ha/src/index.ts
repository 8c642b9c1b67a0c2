export * from './frames.js';
export { HaServer, type HaServerOptions, type HaMasterStore, type HaLogger, type ReplicaView } from './ha-server.js';
export { HaReplica, type HaReplicaOptions, type HaReplicaStore } from './ha-replica.js';
export { SyncReplication, type SyncReplicationOptions, type CopiesOutcome } from './sync-replication.js';
export * from './controller/index.js';
