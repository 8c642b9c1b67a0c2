import { DEFAULT_TOPIC_FILTER_TYPE, PERM_READ, PERM_WRITE, isTopicFilterType } from '@apogee/message';
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import { BodyCrcMismatchError, MalformedNamesrvBodyError } from './errors.js';
import { boolField, intField, parseJsonText, requireRecord } from './json-fields.js';
import { dataVersionToJson, parseDataVersionValue } from './data-version-json.js';
import type { DataVersion, TopicConfig } from './types.js';

/** The decoded REGISTER_BROKER (103) body (RocketMQ RegisterBrokerBody). */
export interface RegisterBrokerBody {
  topicConfigs: TopicConfig[];
  dataVersion: DataVersion;
  filterServerList: string[];
}

export interface ParseRegisterBodyOptions {
  /** Header `compressed`: the body is RocketMQ's deflated binary form, not JSON. */
  compressed?: boolean;
  /** Cap on the inflated size of a compressed body (default 64 MiB): a deflate bomb is an error. */
  maxInflatedBytes?: number;
}

const DEFAULT_MAX_INFLATED = 64 * 1024 * 1024;
// Java TopicConfig defaults for fields a body leaves out.
const DEFAULT_QUEUE_NUMS = 16;
const DEFAULT_PERM = PERM_READ | PERM_WRITE;

/** RocketMQ's body checksum (UtilAll.crc32): CRC-32 masked to a non-negative Java int. */
export function javaCrc32(body: Uint8Array): number {
  return crc32(body) & 0x7fffffff;
}

/** Header `bodyCrc32`: 0 means "not checked"; otherwise it must equal javaCrc32(body). */
export function checkBodyCrc32(body: Uint8Array, bodyCrc32: number): void {
  if (bodyCrc32 === 0) return;
  const actual = javaCrc32(body);
  if (actual !== bodyCrc32) throw new BodyCrcMismatchError(bodyCrc32, actual);
}

/**
 * Decodes a REGISTER_BROKER body. Plain form: JSON
 * `{"topicConfigSerializeWrapper":{"topicConfigTable":{name:TopicConfig},"dataVersion":{…}},"filterServerList":[…]}`.
 * Compressed form (header compressed=true): a zlib stream of big-endian int32-length-prefixed parts
 * — DataVersion JSON, topic count, each topic as "name read write perm filterType [attributesJson]",
 * the filter server list JSON, then (5.x) static-topic mapping entries, which Apogee ignores.
 * Anything else throws MalformedNamesrvBodyError.
 */
export function parseRegisterBrokerBody(body: Uint8Array, options: ParseRegisterBodyOptions = {}): RegisterBrokerBody {
  return options.compressed === true ? parseCompressed(body, options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED) : parsePlain(body);
}

/** Encodes a REGISTER_BROKER body as a RocketMQ broker would (for tests and a broker-side client). */
export function encodeRegisterBrokerBody(body: RegisterBrokerBody, compressed = false): Buffer {
  if (!compressed) {
    const table: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const tc of body.topicConfigs) {
      table[tc.topicName] = {
        topicName: tc.topicName,
        readQueueNums: tc.readQueueNums,
        writeQueueNums: tc.writeQueueNums,
        perm: tc.perm,
        topicFilterType: DEFAULT_TOPIC_FILTER_TYPE,
        topicSysFlag: tc.topicSysFlag,
        order: tc.order,
        attributes: {},
      };
    }
    return Buffer.from(
      JSON.stringify({
        topicConfigSerializeWrapper: { topicConfigTable: table, dataVersion: body.dataVersion },
        filterServerList: body.filterServerList,
      }),
      'utf8',
    );
  }
  const parts: Buffer[] = [];
  const pushInt = (n: number): void => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    parts.push(b);
  };
  const pushText = (text: string): void => {
    const b = Buffer.from(text, 'utf8');
    pushInt(b.length);
    parts.push(b);
  };
  pushText(dataVersionToJson(body.dataVersion));
  pushInt(body.topicConfigs.length);
  for (const tc of body.topicConfigs) {
    pushText(`${tc.topicName} ${tc.readQueueNums} ${tc.writeQueueNums} ${tc.perm} ${DEFAULT_TOPIC_FILTER_TYPE} {}`);
  }
  pushText(JSON.stringify(body.filterServerList));
  pushInt(0); // no static-topic mappings
  return deflateSync(Buffer.concat(parts), { level: 9 });
}

function parsePlain(body: Uint8Array): RegisterBrokerBody {
  const what = 'REGISTER_BROKER body';
  const root = requireRecord(parseJsonText(Buffer.from(body).toString('utf8'), what), what);
  const wrapper = requireRecord(root['topicConfigSerializeWrapper'] ?? {}, `${what}.topicConfigSerializeWrapper`);
  const rawTable = wrapper['topicConfigTable'] ?? {};
  const table = requireRecord(rawTable, `${what}.topicConfigTable`);
  const topicConfigs: TopicConfig[] = [];
  for (const [key, value] of Object.entries(table)) {
    topicConfigs.push(topicConfigFromJson(key, value));
  }
  const dataVersion = parseDataVersionValue(wrapper['dataVersion'] ?? {}, `${what}.dataVersion`);
  const filterServerList = stringList(root['filterServerList'] ?? [], `${what}.filterServerList`);
  return { topicConfigs, dataVersion, filterServerList };
}

function topicConfigFromJson(key: string, value: unknown): TopicConfig {
  const what = `topicConfigTable["${key}"]`;
  const obj = requireRecord(value, what);
  const name = obj['topicName'] ?? key;
  if (typeof name !== 'string' || name.length === 0) {
    throw new MalformedNamesrvBodyError(`${what}.topicName is not a non-empty string`);
  }
  return {
    topicName: name,
    readQueueNums: nonNegative(intField(obj, 'readQueueNums', DEFAULT_QUEUE_NUMS, what), `${what}.readQueueNums`),
    writeQueueNums: nonNegative(intField(obj, 'writeQueueNums', DEFAULT_QUEUE_NUMS, what), `${what}.writeQueueNums`),
    perm: intField(obj, 'perm', DEFAULT_PERM, what),
    topicSysFlag: intField(obj, 'topicSysFlag', 0, what),
    order: boolField(obj, 'order', false, what),
  };
}

function parseCompressed(body: Uint8Array, maxInflatedBytes: number): RegisterBrokerBody {
  let data: Buffer;
  try {
    data = inflateSync(body, { maxOutputLength: maxInflatedBytes });
  } catch (error) {
    throw new MalformedNamesrvBodyError('compressed REGISTER_BROKER body does not inflate', { cause: error });
  }
  const reader = new PartReader(data);
  const dataVersion = parseDataVersionValue(parseJsonText(reader.text('dataVersion'), 'dataVersion'), 'dataVersion');
  const count = reader.int('topic count');
  if (count < 0) throw new MalformedNamesrvBodyError(`negative topic count ${count}`);
  const topicConfigs: TopicConfig[] = [];
  for (let i = 0; i < count; i++) topicConfigs.push(topicConfigFromLine(reader.text(`topic config ${i}`)));
  let filterServerList: string[] = [];
  if (!reader.atEnd()) {
    // RocketMQ logs and ignores a bad filter server list here; so does Apogee.
    const listText = reader.text('filterServerList');
    try {
      filterServerList = stringList(JSON.parse(listText) as unknown, 'filterServerList');
    } catch {
      filterServerList = [];
    }
  }
  if (!reader.atEnd()) {
    const mappings = reader.int('topic queue mapping count');
    if (mappings < 0) throw new MalformedNamesrvBodyError(`negative topic queue mapping count ${mappings}`);
    for (let i = 0; i < mappings; i++) reader.text(`topic queue mapping ${i}`);
  }
  return { topicConfigs, dataVersion, filterServerList };
}

/** TopicConfig.encode form: "name read write perm filterType [attributesJson]". */
function topicConfigFromLine(line: string): TopicConfig {
  const fields = line.split(' ');
  if (fields.length < 5) throw new MalformedNamesrvBodyError(`topic config "${line}" has fewer than 5 fields`);
  const [name, read, write, perm, filterType] = fields as [string, string, string, string, string];
  if (name.length === 0) throw new MalformedNamesrvBodyError(`topic config "${line}" has an empty name`);
  if (!isTopicFilterType(filterType)) {
    throw new MalformedNamesrvBodyError(`topic config "${line}" has unknown filter type ${filterType}`);
  }
  return {
    topicName: name,
    readQueueNums: nonNegative(decimal(read, line), `readQueueNums of ${name}`),
    writeQueueNums: nonNegative(decimal(write, line), `writeQueueNums of ${name}`),
    perm: decimal(perm, line),
    // The compressed form does not carry these; Java decodes them as defaults too.
    topicSysFlag: 0,
    order: false,
  };
}

function decimal(text: string, line: string): number {
  if (!/^-?\d{1,10}$/.test(text)) throw new MalformedNamesrvBodyError(`topic config "${line}": "${text}" is not an int`);
  const value = Number(text);
  if (value < -0x80000000 || value > 0x7fffffff) {
    throw new MalformedNamesrvBodyError(`topic config "${line}": ${text} is out of int range`);
  }
  return value;
}

function nonNegative(value: number, what: string): number {
  if (value < 0) throw new MalformedNamesrvBodyError(`${what} is negative`);
  return value;
}

function stringList(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new MalformedNamesrvBodyError(`${what} is not a list of strings`);
  }
  return value as string[];
}

/** Reads int32-length-prefixed parts with bounds checks. */
class PartReader {
  private offset = 0;

  constructor(private readonly data: Buffer) {}

  atEnd(): boolean {
    return this.offset >= this.data.length;
  }

  int(what: string): number {
    if (this.offset + 4 > this.data.length) throw new MalformedNamesrvBodyError(`compressed body ends before ${what}`);
    const value = this.data.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  text(what: string): string {
    const length = this.int(`length of ${what}`);
    if (length < 0 || this.offset + length > this.data.length) {
      throw new MalformedNamesrvBodyError(`compressed body: ${what} length ${length} exceeds the data`);
    }
    const text = this.data.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return text;
  }
}
