import { PropertyKey, TRANS_HALF_TOPIC } from '@apogee/message';
import { BrokerError } from '../errors.js';
import type { HalfMessage } from './half-message.js';
import type { EndTransactionRequest } from './transaction-types.js';

/**
 * The checks END_TRANSACTION makes on the half message it names (EndTransactionProcessor
 * checkPrepareMessage), with RocketMQ's remark texts: the message found by commitLogOffset must
 * be a half message of that producer group at that half-queue offset. With
 * CHECK_IMMUNITY_TIME_IN_SECONDS, a decision that does not answer a check and comes later than
 * max(immunity, transactionTimeOut) after the message was born is refused with
 * ILLEGAL_OPERATION (604): the broker's own check decides it.
 */
export function checkEndTransaction<M extends HalfMessage>(m: M | null, req: EndTransactionRequest, now: number, transactionTimeOutMs: number): M {
  if (m === null || m.topic !== TRANS_HALF_TOPIC) throw new BrokerError('SYSTEM_ERROR', 'Find prepared transaction message failed');
  if (m.properties.get(PropertyKey.PRODUCER_GROUP) !== req.producerGroup) throw new BrokerError('SYSTEM_ERROR', 'The producer group wrong');
  if (m.queueOffset !== req.tranStateTableOffset) throw new BrokerError('SYSTEM_ERROR', 'The transaction state table offset wrong');
  if (m.commitLogOffset !== req.commitLogOffset) throw new BrokerError('SYSTEM_ERROR', 'The commit log offset wrong');
  const immunityMs = immunityOf(m, transactionTimeOutMs);
  if (immunityMs !== null && !req.fromTransactionCheck && now - m.bornTimestamp > immunityMs) {
    throw new BrokerError(
      'ILLEGAL_OPERATION',
      `the check immunity of this transaction (${immunityMs} ms after it was born) has run out; the broker's check-back decides it now`,
    );
  }
  return m;
}

/**
 * max(CHECK_IMMUNITY_TIME_IN_SECONDS × 1000, transactionTimeOut) when the message has that
 * property (an unparsable value counts as none, as RocketMQ's getImmunityTime falls back to the
 * timeout); null without it.
 */
export function immunityOf(m: Pick<HalfMessage, 'properties'>, transactionTimeOutMs: number): number | null {
  const raw = m.properties.get(PropertyKey.CHECK_IMMUNITY_TIME_IN_SECONDS);
  if (raw === undefined) return null;
  const seconds = Number(raw);
  return Math.max(Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0, transactionTimeOutMs);
}
