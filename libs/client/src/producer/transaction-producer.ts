import { PropertyKey, decodeRecord } from '@apogee/message';
import { type Connection, type RemotingCommand, RequestCode, optionalString, requireLong } from '@apogee/remoting';
import { ClientError, ClientErrorCode } from '../errors.js';
import type { Message, ReceivedMessage } from '../message.js';
import { toReceivedMessage } from '../message.js';
import { type EndTransactionFields, type LocalTransactionState, commitLogOffsetOf, endTransactionRequest } from './end-transaction.js';
import { Producer, type ProducerOptions } from './producer.js';
import type { SendResult } from './send-result.js';

export type { LocalTransactionState } from './end-transaction.js';

/**
 * The producer's side of a transaction (Java TransactionListener). Either method may be async;
 * one that throws counts as UNKNOWN (the broker then checks back later), the error's text going
 * to the broker as the END_TRANSACTION remark.
 */
export interface TransactionListener<A = unknown> {
  /** Runs the local transaction once the half message is stored. */
  executeLocalTransaction(msg: Message, arg: A): LocalTransactionState | Promise<LocalTransactionState>;
  /** Answers a broker's check-back (CHECK_TRANSACTION_STATE) about a transaction still undecided. */
  checkLocalTransaction(msg: ReceivedMessage): LocalTransactionState | Promise<LocalTransactionState>;
}

export interface TransactionProducerOptions<A = unknown> extends ProducerOptions {
  listener: TransactionListener<A>;
  /**
   * Topics whose brokers the producer heartbeats to from start(), before it sends anything: a
   * producer that replaces a stopped one of its group then answers the checks of its
   * predecessor's transactions at once (like Java's, a producer otherwise learns brokers from
   * its sends). Default none.
   */
  topics?: readonly string[];
}

/** A send in a transaction: the half message's SendResult and what the local transaction came to. */
export interface TransactionSendResult extends SendResult {
  localTransactionState: LocalTransactionState;
}

/**
 * A transactional producer (Java TransactionMQProducer). `sendMessageInTransaction` stores a
 * half message (TRAN_MSG, PGROUP; delays are dropped), runs the listener's local transaction and
 * ends the transaction with END_TRANSACTION (oneway); the broker checks undecided ones back over
 * this producer's connection, which the listener's `checkLocalTransaction` answers. The producer
 * heartbeats its group so the broker can find it; a new process of the same group answers checks
 * of its predecessor's transactions.
 */
export class TransactionProducer<A = unknown> extends Producer {
  private readonly listener: TransactionListener<A>;
  private readonly topics: readonly string[];
  /** What makes a send a half message (the same for every one: made once). */
  private readonly halfFields: { extraProperties: Record<string, string> };

  constructor(opts: TransactionProducerOptions<A>) {
    super(opts);
    if (!opts.listener || typeof opts.listener.executeLocalTransaction !== 'function' || typeof opts.listener.checkLocalTransaction !== 'function') {
      throw new ClientError(ClientErrorCode.ILLEGAL_ARGUMENT, 'a TransactionProducer needs a listener with executeLocalTransaction and checkLocalTransaction');
    }
    this.listener = opts.listener;
    this.topics = opts.topics ?? [];
    this.halfFields = { extraProperties: { [PropertyKey.TRANSACTION_PREPARED]: 'true', [PropertyKey.PRODUCER_GROUP]: this.group } };
    // CHECK_TRANSACTION_STATE (39, oneway): answered with END_TRANSACTION, never with a response.
    this.inst.remoting.register(RequestCode.CHECK_TRANSACTION_STATE, (req, conn) => {
      void this.answerCheck(req, conn).catch((err: unknown) => this.reportError(err, this.inst.logger));
      return null;
    });
  }

  /** Starts as Producer does, then learns the brokers of `topics` (and so heartbeats to them). */
  override async start(): Promise<void> {
    await super.start();
    await Promise.all(this.topics.map((t) => this.inst.getRoute(t).catch((err: unknown) => this.reportError(err, this.inst.logger))));
  }

  /**
   * Sends `msg` as a half message, runs the local transaction with `arg` and commits or rolls
   * back (UNKNOWN leaves it to the broker's check). A half message the broker stored with a
   * flush or slave timeout is rolled back, as the Java client does. Rejects only when the half
   * message could not be sent.
   */
  async sendMessageInTransaction(msg: Message, arg: A): Promise<TransactionSendResult> {
    await this.running();
    // Delays do not apply to transactions (Java clears DELAY): the half goes without them.
    const half = msg.delayLevel === undefined && msg.deliverTimeMs === undefined ? msg : withoutDelay(msg);
    const sent = await this.core.send(half, {}, this.halfFields);
    let state: LocalTransactionState = 'ROLLBACK';
    let remark: string | undefined;
    if (sent.status === 'SEND_OK') {
      try {
        state = await this.listener.executeLocalTransaction(msg, arg);
        if (state !== 'COMMIT' && state !== 'ROLLBACK' && state !== 'UNKNOWN') {
          remark = `executeLocalTransaction returned ${JSON.stringify(state)}, not COMMIT, ROLLBACK or UNKNOWN`;
          state = 'UNKNOWN';
        }
      } catch (err) {
        state = 'UNKNOWN';
        remark = err instanceof Error ? err.message : String(err);
      }
    }
    try {
      const addr = this.inst.masterAddr(sent.messageQueue.brokerName) ?? (await this.inst.requireMasterAddr(sent.messageQueue.brokerName, msg.topic));
      const fields: EndTransactionFields = {
        producerGroup: this.group,
        tranStateTableOffset: sent.queueOffset,
        commitLogOffset: commitLogOffsetOf(sent.offsetMsgId),
        msgId: sent.msgId,
        topic: msg.topic,
        brokerName: sent.messageQueue.brokerName,
        fromTransactionCheck: false,
        state,
      };
      if (sent.transactionId !== undefined) fields.transactionId = sent.transactionId;
      if (remark !== undefined) fields.remark = remark;
      await this.inst.oneway(addr, endTransactionRequest(fields));
    } catch (err) {
      // The broker checks the transaction back; the send itself succeeded.
      this.reportError(err, this.inst.logger);
    }
    return { ...sent, localTransactionState: state };
  }

  /** Runs checkLocalTransaction for a check-back and answers it over the connection it came on. */
  private async answerCheck(req: RemotingCommand, conn: Connection): Promise<void> {
    if (this.inst.closed || req.body === undefined) return;
    const ext = decodeRecord(req.body);
    // Checks for another group's transactions are ignored (Java: no producer of that group here).
    if (ext.properties.get(PropertyKey.PRODUCER_GROUP) !== this.group) return;
    const msg = toReceivedMessage(ext);
    let state: LocalTransactionState;
    let remark: string | undefined;
    try {
      state = await this.listener.checkLocalTransaction(msg);
      if (state !== 'COMMIT' && state !== 'ROLLBACK' && state !== 'UNKNOWN') state = 'UNKNOWN';
    } catch (err) {
      state = 'UNKNOWN';
      remark = err instanceof Error ? err.message : String(err);
    }
    const transactionId = optionalString(req.extFields, 'transactionId');
    const brokerName = optionalString(req.extFields, 'bname');
    const topic = optionalString(req.extFields, 'topic');
    const fields = {
      producerGroup: this.group,
      tranStateTableOffset: requireLong(req.extFields, 'tranStateTableOffset'),
      commitLogOffset: requireLong(req.extFields, 'commitLogOffset'),
      msgId: ext.properties.get(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? msg.msgId,
      fromTransactionCheck: true,
      state,
      ...(transactionId === undefined ? {} : { transactionId }),
      ...(brokerName === undefined ? {} : { brokerName }),
      ...(topic === undefined ? {} : { topic }),
      ...(remark === undefined ? {} : { remark }),
    };
    // The broker's address as this connection sees it: the RemotingClient reuses the connection it names.
    await this.inst.oneway(conn.remote, endTransactionRequest(fields));
  }
}

/** A copy of `msg` without its delay level or delivery time. */
function withoutDelay(msg: Message): Message {
  const copy: Message = { ...msg };
  delete copy.delayLevel;
  delete copy.deliverTimeMs;
  return copy;
}
