/**
 * Byte layout of RocketMQ's stored message record (commit log entry, and the body of pull, query
 * and view responses). All integers big-endian. Field offsets up to BORNHOST are fixed; later
 * ones shift by 12 bytes for each IPv6 host.
 */
export const MessageMagic = {
  /** v1: topic length is one byte. */
  V1: -626843481, // 0xDAA320A7
  /** v2: topic length is a short; used when the topic is longer than 127 bytes. */
  V2: -626843477, // 0xDAA320AB
  /** End-of-segment filler: TOTALSIZE = bytes left in the segment. */
  BLANK: -875286124, // 0xCBD43194
} as const;

export const RecordOffset = {
  TOTAL_SIZE: 0,
  MAGIC: 4,
  BODY_CRC: 8,
  QUEUE_ID: 12,
  FLAG: 16,
  QUEUE_OFFSET: 20,
  PHYSICAL_OFFSET: 28,
  SYS_FLAG: 36,
  BORN_TIMESTAMP: 40,
  BORN_HOST: 48,
} as const;

/** Fixed part without hosts, body, topic and properties: 4+4+4+4+4+8+8+4+8+8+4+8 + 4 (body len) + 2 (props len). */
const FIXED = 4 + 4 + 4 + 4 + 4 + 8 + 8 + 4 + 8 + 8 + 4 + 8 + 4 + 2;

/** Largest topic that still fits the v1 (one-byte length) form. */
export const V1_MAX_TOPIC_BYTES = 127;
/** Properties are prefixed by a signed short. */
export const MAX_PROPERTIES_BYTES = 32767;
/** v2 topic length is a signed short. */
export const MAX_TOPIC_BYTES = 32767;
/** Size of the end-of-segment filler header; a record is placed only if record + this fits. */
export const BLANK_MIN_BYTES = 8;

export function hostLength(ipv6: boolean): number {
  return ipv6 ? 20 : 8;
}

/** Total record size for the given part lengths. */
export function computeRecordSize(bodyLen: number, topicLen: number, propsLen: number, bornHostLen: number, storeHostLen: number): number {
  const topicLenBytes = topicLen > V1_MAX_TOPIC_BYTES ? 2 : 1;
  return FIXED + bornHostLen + storeHostLen + bodyLen + topicLenBytes + topicLen + propsLen;
}

/** Positions of the variable fields of a record at `base`, derived from its sysFlag. */
export interface RecordPositions {
  bornHost: number;
  storeTimestamp: number;
  storeHost: number;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  bodyLength: number;
}

export function recordPositions(sysFlag: number, base: number): RecordPositions {
  const bornLen = sysFlag & 0x10 ? 20 : 8;
  const storeLen = sysFlag & 0x20 ? 20 : 8;
  const bornHost = base + RecordOffset.BORN_HOST;
  const storeTimestamp = bornHost + bornLen;
  const storeHost = storeTimestamp + 8;
  const reconsumeTimes = storeHost + storeLen;
  return {
    bornHost,
    storeTimestamp,
    storeHost,
    reconsumeTimes,
    preparedTransactionOffset: reconsumeTimes + 4,
    bodyLength: reconsumeTimes + 12,
  };
}
