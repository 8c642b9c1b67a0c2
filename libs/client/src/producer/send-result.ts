import { type RemotingCommand, ResponseCode, optionalString, requireInt, requireLong, requireString } from '@apogee/remoting';
import { ClientError } from '../errors.js';
import type { MessageQueue } from '../message-queue.js';

export type SendStatus = 'SEND_OK' | 'FLUSH_DISK_TIMEOUT' | 'FLUSH_SLAVE_TIMEOUT' | 'SLAVE_NOT_AVAILABLE';

export interface SendResult {
  status: SendStatus;
  /** Client unique id (UNIQ_KEY); comma-joined for a batch. */
  msgId: string;
  /** Offset message id(s) the broker answered (store host + commit-log offset). */
  offsetMsgId: string;
  messageQueue: MessageQueue;
  /** Consume-queue offset of the (first) message (of a transactional half message: its offset in the half queue). */
  queueOffset: number;
  /** The broker's transaction id (the UNIQ_KEY), when it answered one. */
  transactionId?: string;
  /** The broker's region (MSG_REGION); DefaultRegion when it sent none. */
  regionId?: string;
  /** Whether the broker wants sends traced (TRACE_ON); true when it sent nothing. */
  traceOn?: boolean;
}

const STATUS_BY_CODE: ReadonlyMap<number, SendStatus> = new Map([
  [ResponseCode.SUCCESS, 'SEND_OK'],
  [ResponseCode.FLUSH_DISK_TIMEOUT, 'FLUSH_DISK_TIMEOUT'],
  [ResponseCode.FLUSH_SLAVE_TIMEOUT, 'FLUSH_SLAVE_TIMEOUT'],
  [ResponseCode.SLAVE_NOT_AVAILABLE, 'SLAVE_NOT_AVAILABLE'],
]);

/** Turns a send response into a SendResult, or throws ClientError with the broker's code and remark. */
export function parseSendResponse(res: RemotingCommand, queue: MessageQueue, uniqId: string, addr: string): SendResult {
  const status = STATUS_BY_CODE.get(res.code);
  if (status === undefined) throw ClientError.fromResponse(`send to ${queue.topic}`, res, addr);
  // The broker may have picked another queue (queueId < 0 in the request); trust its answer.
  const queueId = requireInt(res.extFields, 'queueId');
  const result: SendResult = {
    status,
    msgId: uniqId,
    offsetMsgId: requireString(res.extFields, 'msgId'),
    messageQueue: { topic: queue.topic, brokerName: queue.brokerName, queueId },
    queueOffset: requireLong(res.extFields, 'queueOffset'),
    regionId: res.extFields['MSG_REGION'] || 'DefaultRegion',
    traceOn: res.extFields['TRACE_ON'] !== 'false',
  };
  const transactionId = optionalString(res.extFields, 'transactionId');
  if (transactionId !== undefined) result.transactionId = transactionId;
  return result;
}
