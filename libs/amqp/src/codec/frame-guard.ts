import { FRAME_AMQP, FRAME_SASL, PROTOCOL_AMQP, PROTOCOL_SASL, Performative, parseProtocolHeader, protocolHeader } from './frames.js';
import { DEFAULT_STRUCTURE_LIMITS, type StructureLimits, checkValue } from './structure-limits.js';
import { AmqpDecodeError, Code, listElements, readBool, readDescriptor, readUint } from './types.js';
import type { AmqpRefusalReason } from '../refusal-counters.js';

/** Default ceiling of a flow's link-credit (see FrameGuardOptions.maxLinkCredit). */
export const DEFAULT_MAX_LINK_CREDIT = 1 << 20;
/** Position of link-credit in the flow performative's fields (spec 2.7.4). */
const FLOW_LINK_CREDIT = 6;
/** Default of FrameGuardOptions.maxDispositionRange: as many deliveries as one link's capped credit. */
export const DEFAULT_MAX_DISPOSITION_RANGE = DEFAULT_MAX_LINK_CREDIT;

export interface FrameGuardOptions {
  /** Largest frame accepted once AMQP frames flow (what the open announces). */
  maxFrameSize: number;
  /** Highest channel number accepted (what the open announces). */
  channelMax: number;
  /** Largest message (sum of a delivery's transfer payloads) kept for reassembly. */
  maxMessageSize: number;
  /** Whether a client may skip SASL (start with the AMQP header). */
  allowNoSasl: boolean;
  /** Largest SASL frame (SASL frames are small; spec 5.3.1 allows 512 at least). */
  maxSaslFrameSize?: number;
  /**
   * Largest link-credit a flow may grant; more is read as this much (a sender may always send less
   * than it is granted). rhea drains a sender's credit one by one on the event loop every endpoint
   * shares, so 4,294,967,295 of it froze the process for over a minute.
   */
  maxLinkCredit?: number;
  /**
   * Most deliveries one disposition may name (last − first + 1). rhea visits every delivery id of
   * the range, one by one on the shared event loop: first 0, last 4,294,967,295 froze every endpoint
   * for about 20 s. A wider range closes the connection (amqp:resource-limit-exceeded).
   */
  maxDispositionRange?: number;
  /** Nesting and element-count limits of every performative (structure-limits.ts). */
  structure?: StructureLimits;
}

/** Why a connection must be closed; `replyHeader` is set when the peer's protocol header was refused. */
export interface GuardFailure {
  phase: 'header' | 'sasl' | 'amqp';
  /** What the metrics count it as (apogee_amqp_refusals_total{operation="protocol"}). */
  kind: AmqpRefusalReason<'protocol'>;
  condition: string;
  description: string;
  replyHeader?: Buffer;
}

export interface GuardOutput {
  /** Bytes to hand to the AMQP engine, in order (whole frames, possibly rewritten). */
  forward: Buffer[];
  failure?: GuardFailure;
}

type Phase = 'header' | 'sasl' | 'amqp-header' | 'amqp' | 'failed';

const FRAMING_ERROR = 'amqp:connection:framing-error';

/**
 * Byte-level gatekeeper in front of the AMQP engine, with no I/O: it checks the protocol headers,
 * every frame's size, type and channel against what was announced, and keeps the reassembly of a
 * multi-frame delivery within maxMessageSize. Past that limit a delivery's further payload is cut
 * off (the frames still pass, so transfer and session accounting stay exact) and the delivery is
 * remembered as oversize, for the link to reject it when it completes (see takeOversize).
 */
export class FrameGuard {
  private phase: Phase = 'header';
  private pending: Buffer | null = null;
  /** Payload bytes so far of each link's incomplete delivery, by channel and handle. */
  private readonly partial = new Map<number, number>();
  private readonly cutting = new Set<number>();
  private readonly oversize = new Set<number>();
  private readonly maxSaslFrameSize: number;
  private readonly maxLinkCredit: number;
  private readonly maxDispositionRange: number;
  private readonly structure: StructureLimits;

  constructor(private readonly opts: FrameGuardOptions) {
    this.maxSaslFrameSize = opts.maxSaslFrameSize ?? 65_536;
    this.maxLinkCredit = opts.maxLinkCredit ?? DEFAULT_MAX_LINK_CREDIT;
    this.maxDispositionRange = opts.maxDispositionRange ?? DEFAULT_MAX_DISPOSITION_RANGE;
    this.structure = opts.structure ?? DEFAULT_STRUCTURE_LIMITS;
  }

  /** Whether the peer has reached the AMQP frame phase (after SASL, if any). */
  get inAmqp(): boolean {
    return this.phase === 'amqp';
  }

  /** True once for a completed delivery on (channel, handle) that went past maxMessageSize. */
  takeOversize(channel: number, handle: number): boolean {
    return this.oversize.delete(key(channel, handle));
  }

  push(chunk: Buffer): GuardOutput {
    const out: GuardOutput = { forward: [] };
    if (this.phase === 'failed') return out;
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let pos = 0;
    let runStart = 0; // start of bytes forwarded unchanged
    while (pos < buf.length) {
      if (this.phase === 'header' || this.phase === 'amqp-header' || (this.phase === 'sasl' && buf.length - pos >= 4 && buf.readUInt32BE(pos) === 0x414d5150)) {
        if (buf.length - pos < 8) break;
        const id = parseProtocolHeader(buf, pos);
        const expectAmqp = this.phase !== 'header';
        const ok = id !== undefined && (expectAmqp ? id === PROTOCOL_AMQP : id === PROTOCOL_SASL || (id === PROTOCOL_AMQP && this.opts.allowNoSasl));
        if (!ok) {
          const reply = protocolHeader(expectAmqp ? PROTOCOL_AMQP : PROTOCOL_SASL);
          const got = buf.subarray(pos, pos + 8).toString('hex');
          return this.fail(out, buf, runStart, pos, {
            phase: 'header',
            kind: 'protocol_header',
            condition: FRAMING_ERROR,
            description: `unsupported protocol header ${got}; this server speaks AMQP 1.0.0${this.opts.allowNoSasl ? '' : ' over SASL'}`,
            replyHeader: reply,
          });
        }
        pos += 8;
        this.phase = id === PROTOCOL_SASL ? 'sasl' : 'amqp';
        continue;
      }
      if (buf.length - pos < 8) break;
      const size = buf.readUInt32BE(pos);
      const sasl = this.phase === 'sasl';
      const max = sasl ? this.maxSaslFrameSize : this.opts.maxFrameSize;
      const doff = buf[pos + 4]!;
      const type = buf[pos + 5]!;
      const phase = sasl ? 'sasl' : 'amqp';
      if (size < 8 || size > max)
        return this.fail(out, buf, runStart, pos, {
          phase,
          kind: 'frame_size',
          condition: FRAMING_ERROR,
          description: `frame of ${size} bytes is outside 8..${max} (max-frame-size)`,
        });
      if (doff < 2 || doff * 4 > size)
        return this.fail(out, buf, runStart, pos, {
          phase,
          kind: 'framing_error',
          condition: FRAMING_ERROR,
          description: `frame data offset ${doff} is invalid for a ${size}-byte frame`,
        });
      if (type !== (sasl ? FRAME_SASL : FRAME_AMQP))
        return this.fail(out, buf, runStart, pos, {
          phase,
          kind: 'framing_error',
          condition: FRAMING_ERROR,
          description: `frame type ${type} is not valid in the ${sasl ? 'SASL' : 'AMQP'} phase`,
        });
      const channel = buf.readUInt16BE(pos + 6);
      if (!sasl && channel > this.opts.channelMax)
        return this.fail(out, buf, runStart, pos, {
          phase: 'amqp',
          kind: 'framing_error',
          condition: FRAMING_ERROR,
          description: `channel ${channel} is above channel-max ${this.opts.channelMax}`,
        });
      if (buf.length - pos < size) break;
      if (size > doff * 4) {
        // The performative's shape, before rhea decodes it (SASL frames included: sasl-init comes before any login).
        try {
          checkValue(buf, pos + doff * 4, pos + size, this.structure);
          if (!sasl) {
            this.capLinkCredit(buf, pos + doff * 4, pos + size);
            const tooWide = this.dispositionTooWide(buf, pos + doff * 4, pos + size);
            if (tooWide !== null)
              return this.fail(out, buf, runStart, pos, {
                phase: 'amqp',
                kind: 'resource_limit',
                condition: 'amqp:resource-limit-exceeded',
                description: tooWide,
              });
          }
        } catch (err) {
          if (!(err instanceof AmqpDecodeError)) throw err;
          return this.fail(out, buf, runStart, pos, {
            phase,
            kind: 'decode_error',
            condition: 'amqp:decode-error',
            description: `frame on channel ${channel} refused: ${err.message}`,
          });
        }
      }
      if (!sasl && size > doff * 4) {
        let rewritten: Buffer | null;
        try {
          rewritten = this.inspectTransfer(buf, pos, pos + doff * 4, pos + size, channel);
        } catch (err) {
          if (!(err instanceof AmqpDecodeError)) throw err;
          return this.fail(out, buf, runStart, pos, {
            phase: 'amqp',
            kind: 'decode_error',
            condition: 'amqp:decode-error',
            description: `undecodable frame on channel ${channel}: ${err.message}`,
          });
        }
        if (rewritten) {
          if (pos > runStart) out.forward.push(buf.subarray(runStart, pos));
          out.forward.push(rewritten);
          runStart = pos + size;
        }
      }
      pos += size;
    }
    if (pos > runStart) out.forward.push(runStart === 0 && pos === buf.length ? buf : buf.subarray(runStart, pos));
    if (pos < buf.length) this.pending = Buffer.from(buf.subarray(pos));
    return out;
  }

  /** Ends the guard: forwards the good bytes before `pos`, and reports why the connection must close. */
  private fail(out: GuardOutput, buf: Buffer, runStart: number, pos: number, f: GuardFailure): GuardOutput {
    if (pos > runStart) out.forward.push(buf.subarray(runStart, pos));
    this.phase = 'failed';
    this.pending = null;
    out.failure = f;
    return out;
  }

  /** A flow's link-credit above maxLinkCredit becomes maxLinkCredit, rewritten in place (uint: 4 bytes). */
  private capLinkCredit(buf: Buffer, body: number, end: number): void {
    if (buf[body] !== Code.DESCRIBED) return;
    // Every frame passes here: the usual small-ulong descriptor is read in place, without readDescriptor's object.
    if (buf[body + 1] === Code.SMALLULONG && buf[body + 2] !== Performative.FLOW) return;
    const d = readDescriptor(buf, body, end);
    if (d.code !== Performative.FLOW) return;
    const { items } = listElements(buf, d.pos, end);
    const at = items[FLOW_LINK_CREDIT];
    // smalluint and uint0 are at most 255; only the 4-byte form can carry more.
    if (at !== undefined && buf[at] === Code.UINT && buf.readUInt32BE(at + 1) > this.maxLinkCredit) buf.writeUInt32BE(this.maxLinkCredit, at + 1);
  }

  /** Why a disposition names too many deliveries (more than maxDispositionRange), or null. */
  private dispositionTooWide(buf: Buffer, body: number, end: number): string | null {
    if (buf[body] !== Code.DESCRIBED) return null;
    if (buf[body + 1] === Code.SMALLULONG && buf[body + 2] !== Performative.DISPOSITION) return null;
    const d = readDescriptor(buf, body, end);
    if (d.code !== Performative.DISPOSITION) return null;
    const { items } = listElements(buf, d.pos, end);
    const first = items[1] === undefined ? undefined : readUint(buf, items[1], end);
    const last = items[2] === undefined ? undefined : readUint(buf, items[2], end);
    if (first === undefined || last === undefined || last < first) return null;
    const range = last - first + 1;
    if (range <= this.maxDispositionRange) return null;
    return `disposition of deliveries ${first}..${last} names ${range} deliveries; the limit is ${this.maxDispositionRange}`;
  }

  /**
   * Follows transfer frames' payload per link; returns a replacement frame without payload when
   * the delivery has outgrown maxMessageSize, null to pass the frame unchanged.
   */
  private inspectTransfer(buf: Buffer, start: number, body: number, end: number, channel: number): Buffer | null {
    const d = readDescriptor(buf, body, end);
    if (d.code !== Performative.TRANSFER) return null;
    const { items, end: perfEnd } = listElements(buf, d.pos, end);
    if (items.length === 0) throw new AmqpDecodeError('transfer without a handle');
    const handle = readUint(buf, items[0]!, end);
    if (handle === undefined) throw new AmqpDecodeError('transfer without a handle');
    const more = items[5] === undefined ? false : (readBool(buf, items[5], end) ?? false);
    const aborted = items[8] === undefined ? false : (readBool(buf, items[8], end) ?? false);
    const k = key(channel, handle);
    const payload = end - perfEnd;
    const total = (this.partial.get(k) ?? 0) + payload;
    let cut = this.cutting.has(k);
    if (!cut && total > this.opts.maxMessageSize) {
      cut = true;
      this.cutting.add(k);
    }
    if (more && !aborted) this.partial.set(k, cut ? this.opts.maxMessageSize + 1 : total);
    else {
      this.partial.delete(k);
      if (this.cutting.delete(k) && !aborted) this.oversize.add(k);
    }
    if (!cut || payload === 0) return null;
    const f = Buffer.from(buf.subarray(start, perfEnd));
    f.writeUInt32BE(f.length, 0);
    return f;
  }
}

function key(channel: number, handle: number): number {
  return channel * 0x1_0000_0000 + handle;
}
