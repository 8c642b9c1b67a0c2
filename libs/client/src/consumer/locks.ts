import { RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import type { ClientInstance } from '../client/instance.js';
import { ClientError } from '../errors.js';
import type { MessageQueue } from '../message-queue.js';
import { lockBatchBody, parseLockOkSet } from '../protocol/bodies.js';

/** Groups queues by broker name. */
export function byBroker(queues: readonly MessageQueue[]): Map<string, MessageQueue[]> {
  const out = new Map<string, MessageQueue[]>();
  for (const q of queues) {
    const list = out.get(q.brokerName);
    if (list) list.push(q);
    else out.set(q.brokerName, [q]);
  }
  return out;
}

/** LOCK_BATCH_MQ (41) for queues of one broker; returns the queues the broker granted. */
export async function lockBatch(inst: ClientInstance, group: string, brokerName: string, queues: readonly MessageQueue[]): Promise<MessageQueue[]> {
  const addr = await inst.requireMasterAddr(brokerName, queues[0]!.topic);
  const res = await inst.invoke(addr, makeRequest(RequestCode.LOCK_BATCH_MQ, { body: lockBatchBody(group, inst.clientId, queues) }));
  if (res.code !== ResponseCode.SUCCESS) throw ClientError.fromResponse('LOCK_BATCH_MQ', res, addr);
  return parseLockOkSet(res.body);
}

/** UNLOCK_BATCH_MQ (42) for queues of one broker. */
export async function unlockBatch(inst: ClientInstance, group: string, brokerName: string, queues: readonly MessageQueue[]): Promise<void> {
  const addr = await inst.requireMasterAddr(brokerName, queues[0]!.topic);
  const res = await inst.invoke(addr, makeRequest(RequestCode.UNLOCK_BATCH_MQ, { body: lockBatchBody(group, inst.clientId, queues) }));
  if (res.code !== ResponseCode.SUCCESS) throw ClientError.fromResponse('UNLOCK_BATCH_MQ', res, addr);
}
