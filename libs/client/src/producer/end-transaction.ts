import { decodeOffsetMessageId } from '@apogee/message';
import { RequestCode, makeRequest, toExtFields } from '@apogee/remoting';
import type { RemotingCommand } from '@apogee/remoting';

/** What a local transaction came to (Java LocalTransactionState, with UNKNOW spelt out). */
export type LocalTransactionState = 'COMMIT' | 'ROLLBACK' | 'UNKNOWN';

/** commitOrRollback of END_TRANSACTION (MessageSysFlag transaction types). */
const COMMIT_OR_ROLLBACK: Readonly<Record<LocalTransactionState, number>> = { COMMIT: 8, ROLLBACK: 12, UNKNOWN: 0 };

/** The fields END_TRANSACTION (37) names its half message by. */
export interface EndTransactionFields {
  producerGroup: string;
  /** The half-queue offset (the send result's queueOffset, or the check's tranStateTableOffset). */
  tranStateTableOffset: number;
  commitLogOffset: number;
  /** UNIQ_KEY of the message. */
  msgId: string;
  transactionId?: string;
  topic?: string;
  brokerName?: string;
  fromTransactionCheck: boolean;
  state: LocalTransactionState;
  /** Why the state is UNKNOWN (the local transaction threw): the request's remark. */
  remark?: string;
}

/**
 * The commit-log offset a half message's offset msgId encodes (MessageDecoder.decodeMessageId):
 * its last 16 hex digits. Throws, as decodeOffsetMessageId does, for what is not an offset msgId.
 */
export function commitLogOffsetOf(offsetMsgId: string): number {
  if ((offsetMsgId.length !== 32 && offsetMsgId.length !== 56) || !HEX.test(offsetMsgId)) return decodeOffsetMessageId(offsetMsgId).commitLogOffset;
  const n = Number.parseInt(offsetMsgId.slice(-16), 16);
  // Past 2^53 the digits do not fit a number exactly: the full decoder says so.
  return Number.isSafeInteger(n) ? n : decodeOffsetMessageId(offsetMsgId).commitLogOffset;
}

const HEX = /^[0-9A-Fa-f]+$/;

/** END_TRANSACTION (37), oneway as the Java client sends it (endTransactionOneway). */
export function endTransactionRequest(f: EndTransactionFields): RemotingCommand {
  const extFields = toExtFields({
    producerGroup: f.producerGroup,
    tranStateTableOffset: f.tranStateTableOffset,
    commitLogOffset: f.commitLogOffset,
    commitOrRollback: COMMIT_OR_ROLLBACK[f.state],
    fromTransactionCheck: f.fromTransactionCheck,
    msgId: f.msgId,
    transactionId: f.transactionId,
    topic: f.topic,
    bname: f.brokerName,
  });
  return makeRequest(RequestCode.END_TRANSACTION, { extFields, oneway: true, ...(f.remark === undefined ? {} : { remark: f.remark }) });
}
