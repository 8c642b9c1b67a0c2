import type { TransactionCheck } from '../transaction/transaction-types.js';

/**
 * A client connection as the engine sees it. Endpoints implement it over their transport; the
 * engine only needs an identity and a way to tell consumers their group changed.
 */
export interface ClientChannel {
  /** Unique per connection (not per client: one client may hold several connections). */
  readonly id: string;
  /** "ip:port" of the peer, for admin listings and logs. */
  readonly remoteAddress: string;
  /** Tells the client its consumer group's membership changed (RocketMQ NOTIFY_CONSUMER_IDS_CHANGED). */
  notifyConsumerIdsChanged?(group: string): void;
  /**
   * Asks a producer for the state of a local transaction (RocketMQ CHECK_TRANSACTION_STATE,
   * oneway): the producer answers later with END_TRANSACTION. Channels that cannot carry it
   * leave it out and are never asked.
   */
  checkTransactionState?(check: TransactionCheck): void;
}
