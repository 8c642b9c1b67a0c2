import {
  AmqpDecodeError,
  Code,
  encodeBool,
  encodeDescribed,
  encodeList,
  encodeUint,
  NULL_VALUE,
  listElements,
  mapEntries,
  readBool,
  readDescriptor,
  readText,
  readUint,
  skipValue,
} from './types.js';

/** Descriptor codes of the message sections (spec 3.2). */
export const Section = {
  HEADER: 0x70,
  DELIVERY_ANNOTATIONS: 0x71,
  MESSAGE_ANNOTATIONS: 0x72,
  PROPERTIES: 0x73,
  APPLICATION_PROPERTIES: 0x74,
  DATA: 0x75,
  AMQP_SEQUENCE: 0x76,
  AMQP_VALUE: 0x77,
  FOOTER: 0x78,
} as const;

const SYMBOLIC: Record<string, number> = {
  'amqp:header:list': Section.HEADER,
  'amqp:delivery-annotations:map': Section.DELIVERY_ANNOTATIONS,
  'amqp:message-annotations:map': Section.MESSAGE_ANNOTATIONS,
  'amqp:properties:list': Section.PROPERTIES,
  'amqp:application-properties:map': Section.APPLICATION_PROPERTIES,
  'amqp:data:binary': Section.DATA,
  'amqp:amqp-sequence:list': Section.AMQP_SEQUENCE,
  'amqp:value:*': Section.AMQP_VALUE,
  'amqp:footer:map': Section.FOOTER,
};

/** [start, end) of a byte range. */
export type Range = readonly [number, number];

/** Where each section of an encoded message lies (ranges cover the whole described section). */
export interface MessageLayout {
  header?: Range;
  messageAnnotations?: Range;
  properties?: Range;
  applicationProperties?: Range;
  /** Everything before the body: header … application-properties, as received. */
  head: Range;
  /** The body sections, together. */
  body: Range;
  bodyKind: 'data' | 'sequence' | 'value' | 'none';
  /** Number of body sections (a single data section is stored as plain bytes). */
  bodySections: number;
  /** Start of the value inside the first section (for a lone data section: its binary). */
  firstBodyValue: number;
  footer?: Range;
}

/**
 * Finds the sections of an encoded AMQP message and checks their order (spec 3.2: header,
 * delivery-annotations, message-annotations, properties, application-properties, body, footer; the
 * body one or more data, one or more amqp-sequence, or one amqp-value). Throws AmqpDecodeError.
 */
export function splitMessage(buf: Buffer): MessageLayout {
  let pos = 0;
  let last = 0;
  const layout: MessageLayout = { head: [0, 0], body: [0, 0], bodyKind: 'none', bodySections: 0, firstBodyValue: 0 };
  let bodyStart = -1;
  while (pos < buf.length) {
    const d = readDescriptor(buf, pos);
    const code = d.code ?? (d.symbol !== undefined ? SYMBOLIC[d.symbol] : undefined);
    if (code === undefined || code < Section.HEADER || code > Section.FOOTER) throw new AmqpDecodeError(`not a message section at ${pos}`);
    const end = skipValue(buf, d.pos);
    const isBody = code >= Section.DATA && code <= Section.AMQP_VALUE;
    if (isBody) {
      const kind = code === Section.DATA ? 'data' : code === Section.AMQP_SEQUENCE ? 'sequence' : 'value';
      if (layout.bodyKind !== 'none' && (layout.bodyKind !== kind || kind === 'value'))
        throw new AmqpDecodeError(`body section ${kind} after a ${layout.bodyKind} section`);
      if (layout.bodyKind === 'none') {
        bodyStart = pos;
        layout.firstBodyValue = d.pos;
        layout.head = [0, pos];
      } else if (last > Section.AMQP_VALUE) throw new AmqpDecodeError('body section after the footer');
      layout.bodyKind = kind;
      layout.bodySections++;
      layout.body = [bodyStart, end];
    } else {
      if (code <= last && !(last >= Section.DATA && code === Section.FOOTER)) throw new AmqpDecodeError(`section 0x${code.toString(16)} out of order`);
      if (code < Section.DATA && layout.bodyKind !== 'none') throw new AmqpDecodeError(`section 0x${code.toString(16)} after the body`);
      if (code === Section.HEADER) layout.header = [pos, end];
      else if (code === Section.MESSAGE_ANNOTATIONS) layout.messageAnnotations = [pos, end];
      else if (code === Section.PROPERTIES) layout.properties = [pos, end];
      else if (code === Section.APPLICATION_PROPERTIES) layout.applicationProperties = [pos, end];
      else if (code === Section.FOOTER) layout.footer = [pos, end];
    }
    if (code === Section.DATA && buf[d.pos] !== Code.VBIN8 && buf[d.pos] !== Code.VBIN32) throw new AmqpDecodeError('data section does not hold binary');
    last = Math.max(last, code);
    pos = end;
  }
  if (layout.bodyKind === 'none') {
    const headEnd = layout.footer ? layout.footer[0] : buf.length;
    layout.head = [0, headEnd];
    layout.body = [headEnd, headEnd];
  }
  return layout;
}

/** The header section's fields (spec 3.2.1); absent fields take their defaults. */
export interface MessageHeader {
  durable: boolean;
  priority: number;
  ttl: number | undefined;
  firstAcquirer: boolean;
  deliveryCount: number;
}

export function decodeHeader(buf: Buffer, range: Range): MessageHeader {
  const d = readDescriptor(buf, range[0], range[1]);
  const { items } = listElements(buf, d.pos, range[1]);
  const at = (i: number) => items[i];
  const bool = (i: number) => (at(i) === undefined ? undefined : readBool(buf, at(i)!, range[1]));
  const uint = (i: number) => (at(i) === undefined ? undefined : readUint(buf, at(i)!, range[1]));
  return { durable: bool(0) ?? false, priority: uint(1) ?? 4, ttl: uint(2), firstAcquirer: bool(3) ?? false, deliveryCount: uint(4) ?? 0 };
}

export function encodeHeader(h: MessageHeader): Buffer {
  const priority = Buffer.from([Code.UBYTE, h.priority & 0xff]);
  return encodeDescribed(
    Section.HEADER,
    encodeList([
      encodeBool(h.durable),
      priority,
      h.ttl === undefined ? NULL_VALUE : encodeUint(h.ttl),
      encodeBool(h.firstAcquirer),
      encodeUint(h.deliveryCount),
    ]),
  );
}

/** The application-properties entries whose key and value are strings (others are skipped). */
export function stringApplicationProperties(buf: Buffer, range: Range): Array<[string, string]> {
  const d = readDescriptor(buf, range[0], range[1]);
  const out: Array<[string, string]> = [];
  for (const [k, v] of mapEntries(buf, d.pos, range[1]).entries) {
    const key = readText(buf, k, range[1]);
    const c = buf[v];
    if (key === undefined || (c !== Code.STR8 && c !== Code.STR32)) continue;
    out.push([key, readText(buf, v, range[1])!]);
  }
  return out;
}

/**
 * The entries of a map section (message-annotations, application-properties) whose key is one
 * of `names` (string or symbol), as positions of their values.
 */
export function namedMapValues(buf: Buffer, range: Range, names: ReadonlySet<string>): Array<[string, number]> {
  const d = readDescriptor(buf, range[0], range[1]);
  const out: Array<[string, number]> = [];
  for (const [k, v] of mapEntries(buf, d.pos, range[1]).entries) {
    const key = readText(buf, k, range[1]);
    if (key !== undefined && names.has(key)) out.push([key, v]);
  }
  return out;
}

/** The properties section's subject (field 3), when it is a string. */
export function propertiesSubject(buf: Buffer, range: Range): string | undefined {
  const d = readDescriptor(buf, range[0], range[1]);
  const { items } = listElements(buf, d.pos, range[1]);
  const p = items[3];
  return p === undefined ? undefined : readText(buf, p, range[1]);
}
