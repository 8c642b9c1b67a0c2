/**
 * A message just appended by the engine's send path, offered to the readers of its queues that
 * are caught up exactly to it, before it is written (see `SendRequest.live`). One object serves
 * every queue the message lands in: `offset` is set to the message's offset in the queue being
 * offered before each offer, so a reader must take what it needs during the call.
 */
export interface AppendedMessage {
  /** The store topic. */
  readonly topic: string;
  readonly queueId: number;
  /** Offset in (topic, queueId). */
  readonly queueOffset: number;
  readonly commitLogOffset: number;
  /** Offset message id. */
  readonly msgId: string;
  readonly properties: ReadonlyMap<string, string>;
  /** The body as sent: it may be a view of a connection's input buffer, so a reader that keeps it copies it. */
  readonly body: Buffer;
  readonly sysFlag: number;
  readonly bornTimestamp: number;
  /** Offset of the message in the queue being offered (queueOffset, or its offset in an LMQ). */
  offset: number;
}
