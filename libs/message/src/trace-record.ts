/**
 * Message trace records in RocketMQ's text format (client/trace/TraceDataEncoder.java): the
 * fields of a record are separated by U+0001 (TraceConstants.CONTENT_SPLITOR) and each record
 * ends with U+0002 (FIELD_SPLITOR); a trace message's body is records back to back (UTF-8).
 *
 * The client types (Pub, SubBefore, SubAfter, EndTransaction, Recall) are RocketMQ's, field for
 * field. The broker types (Store, Deliver, Retry, DeadLetter) are Apogee's own and go to a topic
 * of their own (Java's decoder knows no other types, so they must never reach its trace topic).
 *
 * The decoder never throws: a record of an unknown type, with too few fields or with a number
 * that does not parse is skipped and counted. Java writes an absent string as "null"; decoding
 * reads "null" as "".
 */

export const TRACE_CONTENT_SEPARATOR = '\u0001';
export const TRACE_FIELD_SEPARATOR = '\u0002';
/** The region RocketMQ brokers and clients default to (BrokerConfig.regionId). */
export const DEFAULT_TRACE_REGION = 'DefaultRegion';
/** Apogee's broker trace topic: a system topic (`rmq_sys_` prefix) no client may send to. */
export const BROKER_TRACE_TOPIC = 'rmq_sys_broker_trace';

/** MessageType ordinals (common/message/MessageType.java). */
export const TraceMessageType = { Normal: 0, TransHalf: 1, TransCommit: 2, Delay: 3, Order: 4 } as const;

/** A producer's send (SendMessageTraceHookImpl). Java writes 14 fields; 13 (no offsetMsgId) and 15 (clientHost) are read too. */
export interface PubRecord {
  type: 'Pub';
  timestamp: number;
  regionId: string;
  group: string;
  topic: string;
  /** UNIQ_KEY. */
  msgId: string;
  tags: string;
  keys: string;
  storeHost: string;
  bodyLength: number;
  costTime: number;
  /** A TraceMessageType ordinal. */
  msgType: number;
  offsetMsgId: string;
  success: boolean;
  clientHost?: string;
}

/** A consumer is about to run its listener on a message (one per message of the batch). */
export interface SubBeforeRecord {
  type: 'SubBefore';
  timestamp: number;
  regionId: string;
  group: string;
  /** Shared by the SubBefore and SubAfter records of one listener call. */
  requestId: string;
  msgId: string;
  retryTimes: number;
  keys: string;
}

/** The listener returned. 6 fields (old clients), 7 (contextCode), 8 (timestamp), 9 (group). */
export interface SubAfterRecord {
  type: 'SubAfter';
  requestId: string;
  msgId: string;
  costTime: number;
  success: boolean;
  keys: string;
  /** ConsumeReturnType ordinal: 0 SUCCESS, 1 TIME_OUT, 2 EXCEPTION, 3 RETURNNULL, 4 FAILED. */
  contextCode?: number;
  timestamp?: number;
  group?: string;
}

/** A transaction's end (EndTransactionTraceHookImpl). */
export interface EndTransactionRecord {
  type: 'EndTransaction';
  timestamp: number;
  regionId: string;
  group: string;
  topic: string;
  msgId: string;
  tags: string;
  keys: string;
  storeHost: string;
  msgType: number;
  transactionId: string;
  /** LocalTransactionState name: COMMIT_MESSAGE, ROLLBACK_MESSAGE, UNKNOW. */
  transactionState: string;
  fromTransactionCheck: boolean;
}

/** A recalled message (5.x). */
export interface RecallRecord {
  type: 'Recall';
  timestamp: number;
  regionId: string;
  group: string;
  topic: string;
  msgId: string;
  success: boolean;
}

export type ClientTraceRecord = PubRecord | SubBeforeRecord | SubAfterRecord | EndTransactionRecord | RecallRecord;

/** What the broker saw happen to a message (Apogee's own record types). */
export type BrokerTraceType = 'Store' | 'Deliver' | 'Retry' | 'DeadLetter';

/**
 * Apogee's broker record: 14 fields in this order (later versions may append more; the decoder
 * reads 14 or more).
 */
export interface BrokerTraceRecord {
  type: BrokerTraceType;
  timestamp: number;
  brokerName: string;
  /** The topic the message is stored in (Deliver: the one it was read from, e.g. `%RETRY%g`). */
  topic: string;
  queueId: number;
  queueOffset: number;
  /** UNIQ_KEY, or the offset message id when the message has none. */
  msgId: string;
  offsetMsgId: string;
  /** Consumer group (Deliver, Retry, DeadLetter); producer group (Store); '' when none. */
  group: string;
  /** Client id, MQTT client identifier or AMQP container id; '' when unknown. */
  client: string;
  /** remoting, mqtt or amqp. */
  protocol: string;
  remoteAddress: string;
  reconsumeTimes: number;
  /** Retry: the retry topic; DeadLetter: the DLQ topic; otherwise ''. */
  target: string;
}

export type TraceRecord = ClientTraceRecord | BrokerTraceRecord;

export interface DecodedTraceBody {
  records: TraceRecord[];
  /** Pieces that were not a record this decoder knows (unknown type, too few fields, bad number). */
  skipped: number;
}

const BROKER_TYPES: ReadonlySet<string> = new Set<BrokerTraceType>(['Store', 'Deliver', 'Retry', 'DeadLetter']);

/** A field as the format can hold it: the two separators would split it, so they become spaces. */
function field(v: string | number | boolean | undefined): string {
  const s = v === undefined ? '' : String(v);
  return /[\u0001\u0002]/.test(s) ? s.replace(/[\u0001\u0002]/g, ' ') : s;
}

function line(fields: Array<string | number | boolean | undefined>): string {
  return fields.map(field).join(TRACE_CONTENT_SEPARATOR) + TRACE_FIELD_SEPARATOR;
}

/** One record in the wire format, separator-terminated. */
export function encodeTraceRecord(r: TraceRecord): string {
  switch (r.type) {
    case 'Pub': {
      const f = [
        r.type,
        r.timestamp,
        r.regionId,
        r.group,
        r.topic,
        r.msgId,
        r.tags,
        r.keys,
        r.storeHost,
        r.bodyLength,
        r.costTime,
        r.msgType,
        r.offsetMsgId,
        r.success,
      ];
      return line(r.clientHost !== undefined ? [...f, r.clientHost] : f);
    }
    case 'SubBefore':
      return line([r.type, r.timestamp, r.regionId, r.group, r.requestId, r.msgId, r.retryTimes, r.keys]);
    case 'SubAfter': {
      const f: Array<string | number | boolean | undefined> = [
        r.type,
        r.requestId,
        r.msgId,
        r.costTime,
        r.success,
        r.keys,
        r.contextCode ?? 0,
        r.timestamp ?? 0,
      ];
      return line(r.group !== undefined ? [...f, r.group] : f);
    }
    case 'EndTransaction':
      return line([
        r.type,
        r.timestamp,
        r.regionId,
        r.group,
        r.topic,
        r.msgId,
        r.tags,
        r.keys,
        r.storeHost,
        r.msgType,
        r.transactionId,
        r.transactionState,
        r.fromTransactionCheck,
      ]);
    case 'Recall':
      return line([r.type, r.timestamp, r.regionId, r.group, r.topic, r.msgId, r.success]);
    default:
      return line([
        r.type,
        r.timestamp,
        r.brokerName,
        r.topic,
        r.queueId,
        r.queueOffset,
        r.msgId,
        r.offsetMsgId,
        r.group,
        r.client,
        r.protocol,
        r.remoteAddress,
        r.reconsumeTimes,
        r.target,
      ]);
  }
}

/** Records back to back, as one trace message body holds them. */
export function encodeTraceRecords(records: readonly TraceRecord[]): string {
  let out = '';
  for (const r of records) out += encodeTraceRecord(r);
  return out;
}

/** Thrown inside the decoder only, for one bad record; never escapes it. */
class BadField extends Error {}

function int(s: string | undefined): number {
  const n = Number(s);
  if (s === undefined || s.trim() === '' || !Number.isSafeInteger(n)) throw new BadField();
  return n;
}

function str(s: string | undefined): string {
  return s === undefined || s === 'null' ? '' : s;
}

/** Java's Boolean.parseBoolean: "true" in any case is true, anything else false. */
function bool(s: string | undefined): boolean {
  return s !== undefined && s.toLowerCase() === 'true';
}

function decodeOne(f: string[]): TraceRecord | null {
  const type = f[0];
  switch (type) {
    case 'Pub': {
      if (f.length < 13) return null;
      const r: PubRecord = {
        type,
        timestamp: int(f[1]),
        regionId: str(f[2]),
        group: str(f[3]),
        topic: str(f[4]),
        msgId: str(f[5]),
        tags: str(f[6]),
        keys: str(f[7]),
        storeHost: str(f[8]),
        bodyLength: int(f[9]),
        costTime: int(f[10]),
        msgType: int(f[11]),
        offsetMsgId: f.length === 13 ? '' : str(f[12]),
        success: bool(f.length === 13 ? f[12] : f[13]),
      };
      if (f.length >= 15) r.clientHost = str(f[14]);
      return r;
    }
    case 'SubBefore':
      if (f.length < 8) return null;
      return {
        type,
        timestamp: int(f[1]),
        regionId: str(f[2]),
        group: str(f[3]),
        requestId: str(f[4]),
        msgId: str(f[5]),
        retryTimes: int(f[6]),
        keys: str(f[7]),
      };
    case 'SubAfter': {
      if (f.length < 6) return null;
      const r: SubAfterRecord = { type, requestId: str(f[1]), msgId: str(f[2]), costTime: int(f[3]), success: bool(f[4]), keys: str(f[5]) };
      if (f.length >= 7) r.contextCode = int(f[6]);
      if (f.length >= 8) r.timestamp = int(f[7]);
      if (f.length >= 9) r.group = str(f[8]);
      return r;
    }
    case 'EndTransaction':
      if (f.length < 13) return null;
      return {
        type,
        timestamp: int(f[1]),
        regionId: str(f[2]),
        group: str(f[3]),
        topic: str(f[4]),
        msgId: str(f[5]),
        tags: str(f[6]),
        keys: str(f[7]),
        storeHost: str(f[8]),
        msgType: int(f[9]),
        transactionId: str(f[10]),
        transactionState: str(f[11]),
        fromTransactionCheck: bool(f[12]),
      };
    case 'Recall':
      if (f.length < 7) return null;
      return { type, timestamp: int(f[1]), regionId: str(f[2]), group: str(f[3]), topic: str(f[4]), msgId: str(f[5]), success: bool(f[6]) };
    default:
      if (type === undefined || !BROKER_TYPES.has(type) || f.length < 14) return null;
      return {
        type: type as BrokerTraceType,
        timestamp: int(f[1]),
        brokerName: str(f[2]),
        topic: str(f[3]),
        queueId: int(f[4]),
        queueOffset: int(f[5]),
        msgId: str(f[6]),
        offsetMsgId: str(f[7]),
        group: str(f[8]),
        client: str(f[9]),
        protocol: str(f[10]),
        remoteAddress: str(f[11]),
        reconsumeTimes: int(f[12]),
        target: str(f[13]),
      };
  }
}

/** Decodes a trace message body; what is not a known record is skipped and counted, never thrown. */
export function decodeTraceRecords(body: string | Buffer): DecodedTraceBody {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const records: TraceRecord[] = [];
  let skipped = 0;
  for (const piece of text.split(TRACE_FIELD_SEPARATOR)) {
    // Java writes a separator after the last record; anything blank between records is no record.
    if (piece.trim() === '') continue;
    let r: TraceRecord | null;
    try {
      r = decodeOne(piece.split(TRACE_CONTENT_SEPARATOR));
    } catch (err) {
      if (!(err instanceof BadField)) throw err;
      r = null;
    }
    if (r === null) skipped++;
    else records.push(r);
  }
  return { records, skipped };
}

/** Whether a record is one of Apogee's broker types. */
export function isBrokerTraceRecord(r: TraceRecord): r is BrokerTraceRecord {
  return BROKER_TYPES.has(r.type);
}
