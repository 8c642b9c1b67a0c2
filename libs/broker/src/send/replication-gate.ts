/**
 * What a send waits for beyond this broker's own store under synchronous replication
 * (docs/ha-design.md, decision 5). The engine knows only this seam; libs/ha's SyncReplication is
 * what the server plugs in.
 */

/** RocketMQ's send statuses for replication: the message is stored here in every case. */
export type CopiesOutcome = 'SEND_OK' | 'FLUSH_SLAVE_TIMEOUT' | 'SLAVE_NOT_AVAILABLE';

export interface ReplicationGate {
  /**
   * How the send whose record ends at commit-log offset `end` (stored and confirmed here) stands
   * with the replicas; null when there is nothing to wait for.
   */
  awaitCopies(end: number): Promise<CopiesOutcome> | null;
}
