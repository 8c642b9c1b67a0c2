import { PropertyKey, SysFlag, type UniqueIdGenerator, compressBody, encodeProperties, validateTopicName } from '@apogee/message';
import { ClientError, ClientErrorCode } from '../errors.js';
import type { Message } from '../message.js';

/** Default largest body (DefaultMQProducer.maxMessageSize, broker maxMessageSize): 4 MiB. */
export const DEFAULT_MAX_MESSAGE_SIZE = 4 * 1024 * 1024;

/** A message ready for the wire. */
export interface OutgoingMessage {
  topic: string;
  body: Buffer;
  sysFlag: number;
  flag: number;
  /** Serialised property string (UNIQ_KEY, TAGS, KEYS, DELAY, WAIT, user properties). */
  properties: string;
  uniqId: string;
}

export interface BuildOptions {
  ids: UniqueIdGenerator;
  /** Compress bodies at least this long; Infinity = never (batches). */
  compressOverBytes: number;
  maxMessageSize: number;
  /** Extra properties the SDK sets (retry bookkeeping); they win over the user's. */
  extraProperties?: Record<string, string>;
}

const ILLEGAL_PROP_CHARS = /[\u0001\u0002]/;

function illegal(msg: string): ClientError {
  return new ClientError(ClientErrorCode.ILLEGAL_ARGUMENT, msg);
}

/** The property map of a message, in the order Java puts them (user properties, then system ones). */
export function messageProperties(msg: Message, uniqId: string, extra: Record<string, string> = {}): Map<string, string> {
  const props = new Map<string, string>();
  for (const [k, v] of Object.entries(msg.properties ?? {})) {
    if (typeof v !== 'string' || ILLEGAL_PROP_CHARS.test(k) || ILLEGAL_PROP_CHARS.test(v) || k.length === 0) {
      throw illegal(`property ${JSON.stringify(k)} must be a non-empty key with a string value, without U+0001/U+0002`);
    }
    props.set(k, v);
  }
  if (msg.tags !== undefined && msg.tags !== '') props.set(PropertyKey.TAGS, msg.tags);
  const keys = Array.isArray(msg.keys) ? msg.keys : msg.keys === undefined ? [] : [msg.keys];
  const keyList = keys.filter((k) => k.length > 0);
  if (keyList.length > 0) props.set(PropertyKey.KEYS, keyList.join(' '));
  if (msg.delayLevel !== undefined && msg.delayLevel > 0) props.set(PropertyKey.DELAY_TIME_LEVEL, String(Math.trunc(msg.delayLevel)));
  if (msg.deliverTimeMs !== undefined) props.set(PropertyKey.TIMER_DELIVER_MS, String(Math.trunc(msg.deliverTimeMs)));
  if (msg.delayMs !== undefined) props.set(PropertyKey.TIMER_DELAY_MS, String(Math.trunc(msg.delayMs)));
  props.set(PropertyKey.WAIT_STORE_MSG_OK, msg.waitStoreMsgOK === false ? 'false' : 'true');
  props.set(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX, uniqId);
  for (const [k, v] of Object.entries(extra)) props.set(k, v);
  for (const [k, v] of props) if (ILLEGAL_PROP_CHARS.test(v)) throw illegal(`property ${k} contains U+0001/U+0002`);
  return props;
}

/** Validates a message (Validators.checkMessage) and encodes body, properties and sysFlag. */
export function buildOutgoing(msg: Message, opts: BuildOptions): OutgoingMessage {
  if (!msg || typeof msg !== 'object') throw illegal('message must be an object');
  try {
    validateTopicName(msg.topic);
  } catch (err) {
    throw new ClientError(ClientErrorCode.ILLEGAL_ARGUMENT, `bad topic: ${(err as Error).message}`, { cause: err });
  }
  let body = typeof msg.body === 'string' ? Buffer.from(msg.body, 'utf8') : msg.body;
  if (!Buffer.isBuffer(body)) throw illegal('body must be a Buffer or a string');
  if (body.length === 0) throw illegal('body is empty');
  if (body.length > opts.maxMessageSize) throw illegal(`body is ${body.length} bytes; the limit is ${opts.maxMessageSize}`);
  let sysFlag = 0;
  if (body.length >= opts.compressOverBytes) {
    const c = compressBody(body);
    body = c.body;
    sysFlag |= c.sysFlagBits;
  }
  const uniqId = opts.ids.next();
  const props = messageProperties(msg, uniqId, opts.extraProperties);
  // A transactional half message says so in the header too (DefaultMQProducerImpl.sendKernelImpl).
  if (props.get(PropertyKey.TRANSACTION_PREPARED) === 'true') sysFlag |= SysFlag.TRANSACTION_PREPARED_TYPE;
  const properties = encodeProperties(props);
  if (Buffer.byteLength(properties) > 32767) throw illegal('properties take more than 32767 bytes');
  return { topic: msg.topic, body, sysFlag, flag: msg.flag ?? 0, properties, uniqId };
}
