import type { EndTransactionRequest, OpenTransaction, TransactionCheck, TransactionResolution } from '@apogee/broker';
import { type ExtFields, HeaderFieldError, optionalBool, optionalString, requireInt, requireLong, requireString, toExtFields } from '@apogee/remoting';

/**
 * The transaction headers (RocketMQ EndTransactionRequestHeader and
 * CheckTransactionStateRequestHeader) and the open-transaction listing body. Codecs only: no
 * engine, no I/O.
 */

/** commitOrRollback values (MessageSysFlag transaction types): UNKNOW 0, COMMIT 8, ROLLBACK 12. */
const RESOLUTION_OF: ReadonlyMap<number, TransactionResolution> = new Map([
  [0, 'UNKNOWN'],
  [8, 'COMMIT'],
  [12, 'ROLLBACK'],
]);

/**
 * Reads END_TRANSACTION (37). Required as in Java (CFNotNull): producerGroup,
 * tranStateTableOffset, commitLogOffset, commitOrRollback (0, 8 or 12 — checkFields), msgId.
 * 5.x's inherited keys (bname, ns, nsd, oway) are ignored.
 */
export function readEndTransactionHeader(ext: ExtFields, remark?: string): EndTransactionRequest {
  const code = requireInt(ext, 'commitOrRollback');
  const resolution = RESOLUTION_OF.get(code);
  if (resolution === undefined) {
    throw new HeaderFieldError('commitOrRollback', 'invalid', `header field "commitOrRollback" is ${code}: it must be 0 (UNKNOW), 8 (COMMIT) or 12 (ROLLBACK)`);
  }
  const req: EndTransactionRequest = {
    producerGroup: requireString(ext, 'producerGroup'),
    tranStateTableOffset: requireLong(ext, 'tranStateTableOffset'),
    commitLogOffset: requireLong(ext, 'commitLogOffset'),
    resolution,
    fromTransactionCheck: optionalBool(ext, 'fromTransactionCheck') ?? false,
    msgId: requireString(ext, 'msgId'),
  };
  const transactionId = optionalString(ext, 'transactionId');
  if (transactionId !== undefined) req.transactionId = transactionId;
  if (remark !== undefined && remark !== '') req.remark = remark;
  return req;
}

/** CHECK_TRANSACTION_STATE (39) header fields, as the Java client reads them. */
export function checkTransactionStateHeader(c: TransactionCheck): Record<string, string> {
  return toExtFields({
    topic: c.topic,
    tranStateTableOffset: c.tranStateTableOffset,
    commitLogOffset: c.commitLogOffset,
    msgId: c.msgId,
    transactionId: c.transactionId,
    offsetMsgId: c.offsetMsgId,
    bname: c.brokerName,
  });
}

/** Body of the open-transaction listing (Apogee's own admin code): `{"transactions":[…]}`. */
export function openTransactionsBody(list: readonly OpenTransaction[]): Buffer {
  return Buffer.from(JSON.stringify({ transactions: list }), 'utf8');
}
