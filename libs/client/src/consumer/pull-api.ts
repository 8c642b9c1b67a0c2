import { PropertyKey, decodeRecords } from '@apogee/message';
import { RequestCode, ResponseCode, makeRequest, optionalLong, requireLong } from '@apogee/remoting';
import type { ClientInstance } from '../client/instance.js';
import { ClientError, ClientErrorCode } from '../errors.js';
import { type ReceivedMessage, toReceivedMessage } from '../message.js';
import { type PullHeader, pullMessageHeader } from '../protocol/headers.js';
import { type Subscription, matchesTags } from './subscription.js';

export type PullStatus = 'FOUND' | 'NO_NEW_MSG' | 'NO_MATCHED_MSG' | 'OFFSET_ILLEGAL';

export interface PullResult {
  status: PullStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  /** Messages that passed the client-side tag re-check (empty unless FOUND). */
  messages: ReceivedMessage[];
  /** Broker id to pull from next (0 = master). */
  suggestWhichBrokerId: number;
}

const STATUS: ReadonlyMap<number, PullStatus> = new Map<number, PullStatus>([
  [ResponseCode.SUCCESS, 'FOUND'],
  [ResponseCode.PULL_NOT_FOUND, 'NO_NEW_MSG'],
  [ResponseCode.PULL_RETRY_IMMEDIATELY, 'NO_MATCHED_MSG'],
  [ResponseCode.PULL_OFFSET_MOVED, 'OFFSET_ILLEGAL'],
]);

/**
 * PULL_MESSAGE (11) to `addr`. Decodes the records of a FOUND answer, adds the MIN_OFFSET /
 * MAX_OFFSET properties like the Java client, and drops messages whose tag does not match `sub`.
 */
export async function pullMessage(inst: ClientInstance, addr: string, header: PullHeader, sub: Subscription, timeoutMs: number): Promise<PullResult> {
  const res = await inst.invoke(addr, makeRequest(RequestCode.PULL_MESSAGE, { extFields: pullMessageHeader(header) }), timeoutMs);
  const status = STATUS.get(res.code);
  if (status === undefined) throw ClientError.fromResponse(`PULL_MESSAGE ${header.queue.topic}:${header.queue.queueId}`, res, addr);
  let nextBeginOffset: number;
  let minOffset: number;
  let maxOffset: number;
  let suggest: number;
  let messages: ReceivedMessage[] = [];
  try {
    nextBeginOffset = requireLong(res.extFields, 'nextBeginOffset');
    minOffset = requireLong(res.extFields, 'minOffset');
    maxOffset = requireLong(res.extFields, 'maxOffset');
    suggest = optionalLong(res.extFields, 'suggestWhichBrokerId') ?? 0;
    if (status === 'FOUND' && res.body && res.body.length > 0) {
      messages = decodeRecords(res.body).map((ext) => {
        const m = toReceivedMessage(ext, header.queue.brokerName);
        m.properties[PropertyKey.MIN_OFFSET] = String(minOffset);
        m.properties[PropertyKey.MAX_OFFSET] = String(maxOffset);
        return m;
      });
    }
  } catch (err) {
    throw new ClientError(ClientErrorCode.BROKER, `malformed PULL_MESSAGE response from ${addr}: ${(err as Error).message}`, {
      addr,
      responseCode: res.code,
      cause: err,
    });
  }
  return {
    status,
    nextBeginOffset,
    minOffset,
    maxOffset,
    messages: messages.filter((m) => matchesTags(sub, m.tags)),
    suggestWhichBrokerId: suggest,
  };
}
