import {
  type HostAddress,
  type MessageExt,
  PropertyKey,
  SysFlag,
  TRANS_CHECK_MAX_TIME_TOPIC,
  TRANS_HALF_TOPIC,
  TRANS_OP_HALF_TOPIC,
  encodeHost,
  encodeProperties,
  encodeStandaloneRecord,
  transactionType,
} from '@apogee/message';
import type { PutMessage } from '@apogee/store';
import { resendProperties } from '../send/resend.js';

/**
 * The shapes of a transaction's records (RocketMQ TransactionalMessageBridge and
 * EndTransactionProcessor): the half message a send turns into, the real message a commit puts,
 * the op record of a decision, the copy given up into TRANS_CHECK_MAX_TIME_TOPIC and the record a
 * check-back carries. Pure functions; no I/O.
 */

/** sysFlag bits of the born/store host kinds: the store recomputes them from the hosts it is given. */
const HOST_KIND_BITS = SysFlag.BORNHOST_V6 | SysFlag.STOREHOST_V6;

/** Tag of op records (RocketMQ TransactionalMessageUtil.REMOVE_TAG). */
export const OP_TAG = 'd';
/** Property of an op record naming the decision (Apogee's; RocketMQ's op records do not say). */
export const OP_DECISION_PROPERTY = 'APOGEE_TRAN_DECISION';

/** What ended a half message. DISCARD: its checks ran out, or its record was gone. */
export type Decision = 'COMMIT' | 'ROLLBACK' | 'DISCARD';

/** What END_TRANSACTION needs of a half message: a decoded record, or one remembered from its send. */
export interface HalfMessage {
  topic: string;
  queueOffset: number;
  commitLogOffset: number;
  properties: ReadonlyMap<string, string>;
  bornTimestamp: number;
  body: Buffer;
  flag: number;
  sysFlag: number;
  bornHost: HostAddress;
  reconsumeTimes: number;
}

/**
 * Whether a send is a half message: TRAN_MSG=true (what the Java client sets) or the PREPARED
 * sysFlag type (what it puts in the header because of it).
 */
export function isHalfSend(sysFlag: number, props: ReadonlyMap<string, string>): boolean {
  return transactionType(sysFlag) === SysFlag.TRANSACTION_PREPARED_TYPE || props.get(PropertyKey.TRANSACTION_PREPARED) === 'true';
}

/**
 * Redirects a send into the half queue (parseHalfMessageInner): the real topic and queue go into
 * REAL_TOPIC/REAL_QID, `__transactionId__` = UNIQ_KEY (one is made when the client sent none,
 * so every half can be told apart later), PGROUP is kept (set from the header when missing), the
 * delay level is dropped. Returns the sysFlag to store: the transaction type reset to NOT, so
 * the half is dispatched into the half topic's queue and nowhere else. Mutates target and props.
 */
export function applyHalfRouting(
  target: { topic: string; queueId: number },
  props: Map<string, string>,
  sysFlag: number,
  producerGroup: string | undefined,
  newUniqKey: () => string,
): number {
  let uniq = props.get(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
  if (uniq === undefined || uniq === '') props.set(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX, (uniq = newUniqKey()));
  props.set(PropertyKey.TRANSACTION_ID, uniq);
  props.set(PropertyKey.TRANSACTION_PREPARED, 'true');
  if (!props.has(PropertyKey.PRODUCER_GROUP) && producerGroup) props.set(PropertyKey.PRODUCER_GROUP, producerGroup);
  props.set(PropertyKey.REAL_TOPIC, target.topic);
  props.set(PropertyKey.REAL_QUEUE_ID, String(target.queueId));
  props.delete(PropertyKey.DELAY_TIME_LEVEL);
  target.topic = TRANS_HALF_TOPIC;
  target.queueId = 0;
  return sysFlag & ~SysFlag.TRANSACTION_MASK;
}

/** The real topic and queue a half message goes to on commit (null when its properties lack them). */
export function realTargetOf(m: Pick<HalfMessage, 'properties'>): { topic: string; queueId: number } | null {
  const topic = m.properties.get(PropertyKey.REAL_TOPIC);
  const queueId = Number(m.properties.get(PropertyKey.REAL_QUEUE_ID));
  if (!topic || !Number.isInteger(queueId) || queueId < 0) return null;
  return { topic, queueId };
}

/**
 * The real message a commit puts (EndTransactionProcessor.endMessageTransaction): REAL_TOPIC and
 * REAL_QID as topic and queue, without those and TRAN_MSG in its properties, the COMMIT
 * transaction type, and the half's commit-log offset as preparedTransactionOffset — which is how
 * a committed copy is recognised after a crash. The client's LMQ fan-out goes along.
 */
export function commitPutOf(m: HalfMessage, target: { topic: string; queueId: number }): PutMessage & { properties: Map<string, string> } {
  const props = resendProperties(m.properties, { dispatch: true });
  props.delete(PropertyKey.REAL_TOPIC);
  props.delete(PropertyKey.REAL_QUEUE_ID);
  props.delete(PropertyKey.TRANSACTION_PREPARED);
  return {
    topic: target.topic,
    queueId: target.queueId,
    body: m.body,
    flag: m.flag,
    properties: props,
    sysFlag: (m.sysFlag & ~HOST_KIND_BITS & ~SysFlag.TRANSACTION_MASK) | SysFlag.TRANSACTION_COMMIT_TYPE,
    bornTimestamp: m.bornTimestamp,
    bornHost: m.bornHost,
    reconsumeTimes: m.reconsumeTimes,
    preparedTransactionOffset: m.commitLogOffset,
  };
}

/** A half message given up after its checks ran out: stored as it is in TRANS_CHECK_MAX_TIME_TOPIC queue 0. */
export function discardPutOf(m: MessageExt, checkTimes: number): PutMessage {
  const props = resendProperties(m.properties, { dispatch: false });
  props.set(PropertyKey.TRANSACTION_CHECK_TIMES, String(checkTimes));
  return {
    topic: TRANS_CHECK_MAX_TIME_TOPIC,
    queueId: 0,
    body: m.body,
    flag: m.flag,
    properties: props,
    sysFlag: m.sysFlag & ~HOST_KIND_BITS,
    bornTimestamp: m.bornTimestamp,
    bornHost: m.bornHost,
    reconsumeTimes: m.reconsumeTimes,
    preparedTransactionOffset: m.commitLogOffset,
  };
}

/** Whether `m` is the committed (or given-up) copy of the half message at `halfCommitLogOffset`. */
export function isCopyOfHalf(m: MessageExt, halfCommitLogOffset: number): boolean {
  return m.preparedTransactionOffset === halfCommitLogOffset && m.topic !== TRANS_HALF_TOPIC;
}

/**
 * The op record of decisions: RMQ_SYS_TRANS_OP_HALF_TOPIC queue 0, tag `d`, body = the half-queue
 * offsets in ASCII, each followed by a comma (5.x's batched form; 4.9.7 writes one offset without).
 */
export function opPutOf(halfOffsets: readonly number[], decision: Decision): PutMessage {
  return {
    topic: TRANS_OP_HALF_TOPIC,
    queueId: 0,
    body: Buffer.from(halfOffsets.map((o) => `${o},`).join(''), 'latin1'),
    properties: new Map([
      [PropertyKey.TAGS, OP_TAG],
      [OP_DECISION_PROPERTY, decision],
    ]),
    sysFlag: 0,
  };
}

/**
 * The half-queue offsets an op record names, with its decision: the body is one offset, or 5.x's
 * `o1,o2,…,` list. Null for a record that is not an op record of ours (it is skipped).
 */
export function parseOpRecord(m: MessageExt): { offsets: number[]; decision: Decision } | null {
  const d = m.properties.get(OP_DECISION_PROPERTY) ?? 'COMMIT';
  if (m.properties.get(PropertyKey.TAGS) !== OP_TAG || (d !== 'COMMIT' && d !== 'ROLLBACK' && d !== 'DISCARD')) return null;
  const offsets: number[] = [];
  for (const part of m.body.toString('latin1').split(',')) {
    if (part === '') continue;
    const n = Number(part);
    if (!Number.isSafeInteger(n) || n < 0) return null;
    offsets.push(n);
  }
  return offsets.length > 0 ? { offsets, decision: d } : null;
}

/**
 * The body of CHECK_TRANSACTION_STATE: the half message as one stored-message record
 * (MessageDecoder.encode) with its topic and queue switched back to the real ones, without the
 * record checksum (the client decodes, it does not verify).
 */
export function checkBodyOf(m: MessageExt, target: { topic: string; queueId: number }): Buffer {
  const props = new Map(m.properties);
  props.delete(PropertyKey.CRC32);
  const properties = encodeProperties(props);
  const input = {
    topic: Buffer.from(target.topic, 'utf8'),
    queueId: target.queueId,
    flag: m.flag,
    queueOffset: m.queueOffset,
    physicalOffset: m.commitLogOffset,
    sysFlag: m.sysFlag,
    bornTimestamp: m.bornTimestamp,
    bornHost: encodeHost(m.bornHost),
    storeTimestamp: m.storeTimestamp,
    storeHost: encodeHost(m.storeHost),
    reconsumeTimes: m.reconsumeTimes,
    preparedTransactionOffset: m.preparedTransactionOffset,
    body: m.body,
    properties,
  };
  return encodeStandaloneRecord(input);
}
