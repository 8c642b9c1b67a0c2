import type { ClientChannel, TransactionCheck } from '@apogee/broker';
import { type HostAddress, peerHost } from '@apogee/message';
import { type Connection, type RemotingServer, RequestCode, makeRequest } from '@apogee/remoting';
import { checkTransactionStateHeader } from './headers/transaction-headers.js';

let nextId = 1;

/** A remoting connection as the engine's ClientChannel; one per connection, created lazily. */
export class RemotingChannel implements ClientChannel {
  readonly id = `remoting-${nextId++}`;
  readonly remoteAddress: string;
  /** The peer as a record's born host: IPv4 where possible (4.x clients decode only IPv4 hosts). */
  readonly bornHost: HostAddress;
  private readonly closing = new AbortController();
  /** Aborted when the connection closes: held pulls let go at once. */
  readonly closed: AbortSignal = this.closing.signal;
  /** The client id its last heartbeat gave (logs name the client by it). */
  clientId: string | undefined;

  constructor(
    readonly conn: Connection,
    private readonly server: RemotingServer,
  ) {
    this.remoteAddress = conn.remote;
    this.bornHost = peerHost(conn.socket.remoteAddress, conn.socket.remotePort);
  }

  markClosed(): void {
    this.closing.abort();
  }

  notifyConsumerIdsChanged(group: string): void {
    if (this.conn.isClosed) return;
    this.server.oneway(this.conn, makeRequest(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, { extFields: { consumerGroup: group }, oneway: true }));
  }

  /** CHECK_TRANSACTION_STATE (39), oneway as Broker2Client sends it; the producer answers with END_TRANSACTION. */
  checkTransactionState(check: TransactionCheck): void {
    if (this.conn.isClosed) return;
    this.server.oneway(
      this.conn,
      makeRequest(RequestCode.CHECK_TRANSACTION_STATE, { extFields: checkTransactionStateHeader(check), body: check.body, oneway: true }),
    );
  }
}

/** The channel of each connection, made on first use and forgotten when the connection closes. */
export class ChannelTable {
  private readonly channels = new WeakMap<Connection, RemotingChannel>();

  constructor(private readonly server: RemotingServer) {}

  of(conn: Connection): RemotingChannel {
    let ch = this.channels.get(conn);
    if (!ch) {
      ch = new RemotingChannel(conn, this.server);
      this.channels.set(conn, ch);
    }
    return ch;
  }

  /** The channel of a connection if one was ever made (for close handling). */
  existing(conn: Connection): RemotingChannel | undefined {
    return this.channels.get(conn);
  }
}
