import { type ConfirmBatches, type Engine, type Logger, type SendRequest, type UnconfirmedSend } from '@apogee/broker';
import { type HostAddress, type RateLimitedWarnings, javaStringHashCode } from '@apogee/message';
import type { AmqpAddress } from '../address.js';
import { AmqpDecodeError } from '../codec/types.js';
import type { AmqpConfig } from '../config.js';
import { RawMessage, type RheaDelivery, type RheaReceiver } from '../rhea/index.js';
import { Condition, conditionOfStoreFailure } from '../errors.js';
import { toStoredForm } from '../message/to-store.js';
import type { AmqpRefusalCounters, AmqpRefusalReason } from '../refusal-counters.js';
import { TopicProperty } from '@apogee/topics';

/** Gateway-wide counters an incoming link adds to. */
export interface IncomingCounters {
  messagesIn: number;
  rejectedIn: number;
}

export interface IncomingLinkOptions {
  broker: Engine;
  cfg: AmqpConfig;
  log: Logger;
  /** Refused messages are warned about here (`amqp:message`, `amqp:not-stored`). */
  refusals: RateLimitedWarnings;
  /** …and counted here (operation `transfer`). */
  refusalCounters: AmqpRefusalCounters;
  /** The connection's id and remote address, for those warnings. */
  peer: { conn: string; remote: string };
  address: AmqpAddress;
  /** Store topic and queue the link writes to. */
  topic: string;
  queueId: number;
  /** Whether the principal may send to the address (forbidden messages are rejected one by one). */
  allowed: boolean;
  bornHost: HostAddress | undefined;
  /** True once for a delivery the frame guard cut for exceeding the size limit. */
  wasOversize: () => boolean;
  counters: IncomingCounters;
  /** Waits for the store to confirm appended messages, and reports them to stored / storeFailed. */
  confirms: ConfirmBatches<IncomingLink, RheaDelivery>;
}

/**
 * A link on which a client sends to Apogee (Apogee is the receiver). Credit is granted up to
 * incomingCredit and refilled as messages are stored, so a slow store slows the sender instead of
 * buffering. An unsettled transfer is settled `accepted` only once the store has the message
 * under its flush policy; pre-settled ones are stored at most once.
 */
export class IncomingLink {
  private storing = 0;

  constructor(
    readonly link: RheaReceiver,
    private readonly o: IncomingLinkOptions,
  ) {}

  /** Grants the first credit. */
  start(): void {
    this.refill();
  }

  onMessage(d: RheaDelivery, message: unknown): void {
    const presettled = d.remote_settled;
    // A pre-settled delivery is settled here too, so rhea can let go of it.
    if (presettled) d.update(true);
    const bytes = message instanceof RawMessage ? message.bytes : undefined;
    if (this.o.wasOversize() || (bytes !== undefined && bytes.length > this.o.cfg.maxMessageSize)) {
      return this.refuse(
        d,
        'message_too_large',
        Condition.MESSAGE_SIZE_EXCEEDED,
        `message exceeds the maximum message size of ${this.o.cfg.maxMessageSize} bytes`,
      );
    }
    if (!bytes) return this.refuse(d, 'unsupported_format', Condition.NOT_IMPLEMENTED, 'only message format 0 (AMQP 1.0 messages) is supported');
    if (!this.o.allowed) return this.refuse(d, 'not_authorized', Condition.UNAUTHORIZED_ACCESS, `not authorized to send to ${this.o.address.address}`);
    let form;
    try {
      form = toStoredForm(bytes);
    } catch (err) {
      if (err instanceof AmqpDecodeError) return this.refuse(d, 'malformed_message', Condition.DECODE_ERROR, `malformed message: ${err.message}`);
      throw err;
    }
    const props = form.properties;
    // No UNIQ_KEY: nothing looks AMQP messages up by one (the client's message-id rides in
    // AMQP_HEAD), and a key-index entry per message is a cost on the hot path; native consumers
    // see the offset message id.
    if (this.o.address.kind === 'topic') {
      props.set(TopicProperty.TOPIC, this.o.address.name);
      props.set(TopicProperty.QOS, '1');
    }
    this.o.counters.messagesIn++;
    this.storing++;
    // live: offered to caught-up readers from memory by the engine (at least once: a crash before the write loses only unsettled messages).
    const req: SendRequest = {
      producerGroup: 'AMQP',
      topic: this.o.topic,
      queueId: this.o.queueId,
      properties: props,
      body: form.body,
      bornTimestamp: Date.now(),
      live: true,
    };
    if (this.o.bornHost) req.bornHost = this.o.bornHost;
    // The common case (the topic exists): appended now, offered to waiting receivers from memory,
    // settled `accepted` once the store confirms it under the flush policy (one wait per link and task).
    let sent: UnconfirmedSend | null;
    try {
      sent = this.o.broker.sendUnconfirmed(req);
    } catch (err) {
      this.storeFailed(d, err);
      return;
    }
    if (sent === null) {
      this.o.broker.send(req).then(
        () => this.stored(d),
        (err: unknown) => this.storeFailed(d, err),
      );
      return;
    }
    this.o.confirms.add(this, d, sent.result);
  }

  /** The store has the message of `d` under its flush policy: settle it `accepted` (unless the peer pre-settled it). */
  stored(d: RheaDelivery): void {
    this.storing--;
    if (!d.remote_settled && this.link.is_open()) d.accept();
    this.refill();
  }

  /** The message of `d` was not stored: reject it with why. */
  storeFailed(d: RheaDelivery, err: unknown): void {
    this.storing--;
    const { conn, remote } = this.o.peer;
    const condition = conditionOfStoreFailure(err);
    this.o.refusalCounters.count('transfer', condition === Condition.RESOURCE_LIMIT_EXCEEDED ? 'quota_exceeded' : 'not_stored');
    this.o.refusals.warn(
      'amqp:not-stored',
      { conn, remote, link: this.link.name, address: this.o.address.address, err: (err as Error).message },
      'amqp: message not stored',
    );
    this.reject(d, condition, `the message was not stored: ${(err as Error).message}`);
  }

  /** A message refused before the store saw it: counted under `kind`, a rate-limited warning, then the rejection. */
  private refuse(d: RheaDelivery, kind: AmqpRefusalReason<'transfer'>, condition: string, description: string): void {
    this.o.refusalCounters.count('transfer', kind);
    const { conn, remote } = this.o.peer;
    this.o.refusals.warn(
      'amqp:message',
      { conn, remote, link: this.link.name, address: this.o.address.address, condition, description },
      'amqp: message rejected',
    );
    this.reject(d, condition, description);
  }

  private reject(d: RheaDelivery, condition: string, description: string): void {
    this.o.counters.rejectedIn++;
    if (!d.remote_settled && this.link.is_open()) d.reject({ condition, description });
    else this.o.log.debug?.({ address: this.o.address.address, condition, description }, 'amqp: pre-settled message dropped');
    this.refill();
  }

  /** Keeps credit plus messages being stored at incomingCredit, topping up when half is used. */
  private refill(): void {
    if (!this.link.is_open()) return;
    const window = this.o.cfg.incomingCredit;
    const outstanding = Math.max(0, this.link.credit) + this.storing;
    if (outstanding <= window / 2) this.link.flow(window - outstanding);
  }
}

/** The queue a link's messages go to: one per link for queues (a sender's order holds), one per topic name for topics. */
export function queueIdFor(address: AmqpAddress, linkName: string, writeQueueNums: number): number {
  const key = address.kind === 'topic' ? address.name : linkName;
  return (javaStringHashCode(key) >>> 0) % Math.max(1, writeQueueNums);
}
