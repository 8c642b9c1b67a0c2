/** Offset requests shared by the consumers and Admin (QUERY/UPDATE_CONSUMER_OFFSET, GET_MIN/MAX_OFFSET, SEARCH_OFFSET_BY_TIMESTAMP). */
import { type RemotingCommand, RequestCode, ResponseCode, makeRequest, requireLong } from '@apogee/remoting';
import { ClientError, ClientErrorCode } from '../errors.js';
import type { MessageQueue } from '../message-queue.js';
import { queryConsumerOffsetHeader, queueHeader, searchOffsetHeader, updateConsumerOffsetHeader } from '../protocol/headers.js';
import type { ClientInstance } from './instance.js';

function readOffset(res: RemotingCommand, what: string, addr: string): number {
  if (res.code !== ResponseCode.SUCCESS) throw ClientError.fromResponse(what, res, addr);
  try {
    return requireLong(res.extFields, 'offset');
  } catch (err) {
    throw new ClientError(ClientErrorCode.BROKER, `${what}: response lacks a valid offset`, { addr, cause: err });
  }
}

/** QUERY_CONSUMER_OFFSET (14): the group's stored offset, or undefined when none is stored (22). */
export async function queryConsumerOffset(inst: ClientInstance, group: string, q: MessageQueue): Promise<number | undefined> {
  const addr = await inst.requireMasterAddr(q.brokerName, q.topic);
  const res = await inst.invoke(addr, makeRequest(RequestCode.QUERY_CONSUMER_OFFSET, { extFields: queryConsumerOffsetHeader(group, q) }));
  if (res.code === ResponseCode.QUERY_NOT_FOUND) return undefined;
  return readOffset(res, 'QUERY_CONSUMER_OFFSET', addr);
}

/** UPDATE_CONSUMER_OFFSET (15), awaited so that a commit on shutdown lands before unregistering. */
export async function updateConsumerOffset(inst: ClientInstance, group: string, q: MessageQueue, offset: number): Promise<void> {
  const addr = await inst.requireMasterAddr(q.brokerName, q.topic);
  const res = await inst.invoke(addr, makeRequest(RequestCode.UPDATE_CONSUMER_OFFSET, { extFields: updateConsumerOffsetHeader(group, q, offset) }));
  if (res.code !== ResponseCode.SUCCESS) throw ClientError.fromResponse('UPDATE_CONSUMER_OFFSET', res, addr);
}

/** GET_MAX_OFFSET (30): the next offset the queue will write. */
export async function getMaxOffset(inst: ClientInstance, q: MessageQueue): Promise<number> {
  const addr = await inst.requireMasterAddr(q.brokerName, q.topic);
  return readOffset(await inst.invoke(addr, makeRequest(RequestCode.GET_MAX_OFFSET, { extFields: queueHeader(q) })), 'GET_MAX_OFFSET', addr);
}

/** GET_MIN_OFFSET (31). */
export async function getMinOffset(inst: ClientInstance, q: MessageQueue): Promise<number> {
  const addr = await inst.requireMasterAddr(q.brokerName, q.topic);
  return readOffset(await inst.invoke(addr, makeRequest(RequestCode.GET_MIN_OFFSET, { extFields: queueHeader(q) })), 'GET_MIN_OFFSET', addr);
}

/** SEARCH_OFFSET_BY_TIMESTAMP (29): first offset stored at or after `timestamp`. */
export async function searchOffset(inst: ClientInstance, q: MessageQueue, timestamp: number): Promise<number> {
  const addr = await inst.requireMasterAddr(q.brokerName, q.topic);
  const res = await inst.invoke(addr, makeRequest(RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, { extFields: searchOffsetHeader(q, timestamp) }));
  return readOffset(res, 'SEARCH_OFFSET_BY_TIMESTAMP', addr);
}
