import type { Duplex } from 'node:stream';
import mqtt from 'mqtt-packet';
import { PacketSplitter } from './packet-splitter.js';
import { type AckPacket, decodeAck, encodeAck } from './ack-codec.js';
import { decodePublish, encodePublish } from './publish-codec.js';
import { ReasonCode } from './reason-codes.js';
import { type PacketLimits, packetLimitViolation } from './packet-limits.js';
import { PacketSizeGuard } from './size-guard.js';
import { type ParserSettings, WholePacketParser } from './whole-packet-parser.js';
import type { ProtocolErrorKind } from '../refusal-counters.js';

export type Packet = mqtt.Packet;

const ACKS = new Set(['puback', 'pubrec', 'pubrel', 'pubcomp']);

/** CONNECT's fixed header byte: packet type 1, flags 0 (MQTT 3.1.1 and 5.0, 2.1.2). */
const FIRST_BYTE_OF_CONNECT = 0x10;

/** One parser for every connection (packets arrive whole, and are handled after it returns). */
const PARSER = new WholePacketParser();

/** How long a closing connection waits for the peer to close its side before it is destroyed. */
const CLOSE_GRACE_MS = 2000;

export interface MqttConnectionOptions extends PacketLimits {
  maxPacketSize: number;
  /** Unsent bytes past which nothing more is read from the client until it takes them (MqttConfig.maxOutboundBufferBytes). */
  maxOutboundBufferBytes: number;
  /** Human-readable peer, for logs. */
  remote: string;
}

/**
 * One MQTT network connection over any byte stream (TCP socket or WebSocket stream): parses
 * packets with mqtt-packet at the negotiated protocol level, writes packets of one event turn in
 * one go, refuses oversize packets before buffering them, and closes on malformed input.
 */
export class MqttConnection {
  /** The parser's settings for this connection: the level it reads at (switched by CONNECT). */
  private readonly parserSettings: ParserSettings = { protocolVersion: 4 };
  private readonly guard: PacketSizeGuard;
  private readonly splitter = new PacketSplitter();
  private readonly onWholePacket = (packet: Buffer): void => this.dispatch(packet);
  private closed = false;
  private brokeProtocol: ProtocolErrorKind | null = null;
  private corked = false;
  private keepAliveTimer: NodeJS.Timeout | null = null;
  private lastActivity = Date.now();
  private sawFirstByte = false;
  /** Protocol level once CONNECT was read (3, 4 or 5). */
  protocolVersion = 4;
  /** Largest packet the client accepts (v5 Maximum Packet Size), 0 = unlimited. */
  clientMaxPacketSize = 0;
  /** The client's Receive Maximum (v5): QoS 1/2 deliveries it accepts unacknowledged; 65,535 when not given. */
  clientReceiveMaximum = 65535;
  /** The client's Topic Alias Maximum (v5): aliases the server may use toward it. */
  clientTopicAliasMaximum = 0;
  /** Outbound topic aliases in use: topic → alias (made when the client allows aliases). */
  private outAliases: Map<string, number> | null = null;
  /** PUBLISHes of this connection (any QoS) handed to the store and not yet stored. */
  private storing = 0;
  private readingPaused = false;
  /** Reading stopped because the client does not take what is sent (see maxOutboundBufferBytes). */
  private writeBlocked = false;
  private packetHandler: (p: Packet) => void = () => {};
  private readonly closeHandlers: Array<(reason: string, error?: Error) => void> = [];

  constructor(
    readonly stream: Duplex,
    readonly opts: MqttConnectionOptions,
  ) {
    this.guard = new PacketSizeGuard(opts.maxPacketSize);
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('drain', () => {
      if (!this.writeBlocked) return;
      this.writeBlocked = false;
      this.resumeIfFree();
    });
    stream.on('error', (err) => this.close(`connection error: ${err.message}`, err));
    stream.on('close', () => this.close('connection closed by peer'));
    stream.on('end', () => this.close('connection closed by peer'));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Why protocolError closed the connection, or null when it did not (the gateway warns about and counts those). */
  get closedOnProtocolError(): ProtocolErrorKind | null {
    return this.brokeProtocol;
  }

  onPacket(fn: (p: Packet) => void): void {
    this.packetHandler = fn;
  }

  onClose(fn: (reason: string, error?: Error) => void): void {
    if (this.closed) fn('already closed');
    else this.closeHandlers.push(fn);
  }

  /** Switches the parser and generator to the level CONNECT asked for. */
  setProtocolVersion(v: number): void {
    this.protocolVersion = v;
    this.parserSettings.protocolVersion = v;
  }

  /**
   * Counts a PUBLISH going to the store; past `limit` unstored ones the connection stops reading
   * (TCP backpressure on the publisher) until half of them are stored. Subscribers taking
   * messages from memory no longer slow a QoS 0 publisher down, so without this it could outrun
   * the disk until the broker refuses (and QoS 0 drops) its messages.
   */
  storeStarted(limit: number): void {
    if (++this.storing >= limit && !this.readingPaused && !this.closed) {
      this.readingPaused = true;
      this.stream.pause();
    }
  }

  /** Stops reading until `until` settles (QoS 0 publishers while the disk lags behind). */
  holdReading(until: Promise<unknown>): void {
    if (this.held || this.closed) return;
    this.held = true;
    this.stream.pause();
    const release = (): void => {
      this.held = false;
      this.resumeIfFree();
    };
    until.then(release, release);
  }

  private held = false;

  /** A PUBLISH counted by storeStarted was stored (or refused). */
  storeSettled(limit: number): void {
    if (--this.storing <= limit >> 1 && this.readingPaused) {
      this.readingPaused = false;
      this.resumeIfFree();
    }
  }

  /** Reading resumes only once no reason to hold it is left. */
  private resumeIfFree(): void {
    if (!this.closed && !this.readingPaused && !this.held && !this.writeBlocked) this.stream.resume();
  }

  /** Whether the socket holds more unsent bytes than its bound (slow consumer: QoS 0 is dropped). */
  get outboundFull(): boolean {
    return this.stream.writableLength > this.opts.maxOutboundBufferBytes;
  }

  /** Writes a packet; packets of one event turn leave together. Returns false when it was too big for the client. */
  send(packet: Packet): boolean {
    if (this.closed) return false;
    if (packet.cmd === 'publish' && this.clientTopicAliasMaximum > 0) this.applyOutboundAlias(packet);
    // A success ack goes out in its 2-byte form (mqtt-packet only omits a reason code given as 0);
    // some v5 clients (paho-python 1.6) cannot read the long form.
    if (this.protocolVersion === 5 && ACKS.has(packet.cmd) && (packet as { reasonCode?: number }).reasonCode === undefined)
      (packet as { reasonCode?: number }).reasonCode = 0;
    const fast =
      packet.cmd === 'publish'
        ? encodePublish(packet, this.protocolVersion)
        : ACKS.has(packet.cmd)
          ? encodeAck(packet as AckPacket, this.protocolVersion)
          : null;
    const buf = fast ?? mqtt.generate(packet, { protocolVersion: this.protocolVersion });
    if (this.clientMaxPacketSize > 0 && buf.length > this.clientMaxPacketSize) return false;
    if (!this.corked) {
      this.corked = true;
      this.stream.cork();
      process.nextTick(() => {
        this.corked = false;
        if (!this.closed) this.stream.uncork();
      });
    }
    this.stream.write(buf);
    // A client that does not read what it is sent (acks, answers) is not read from either.
    if (!this.writeBlocked && this.outboundFull) {
      this.writeBlocked = true;
      this.stream.pause();
    }
    return true;
  }

  /**
   * Server → client topic aliases (v5): the first PUBLISH of a topic sets an alias while slots are
   * free; later ones send the alias with an empty topic, saving the topic bytes on the wire.
   */
  private applyOutboundAlias(packet: mqtt.IPublishPacket): void {
    const aliases = (this.outAliases ??= new Map());
    let alias = aliases.get(packet.topic);
    if (alias !== undefined) {
      packet.properties = { ...packet.properties, topicAlias: alias };
      packet.topic = '';
      return;
    }
    if (aliases.size >= this.clientTopicAliasMaximum) return;
    alias = aliases.size + 1;
    aliases.set(packet.topic, alias);
    packet.properties = { ...packet.properties, topicAlias: alias };
  }

  /**
   * Closes the connection if nothing arrives for 1.5 × keepAlive seconds; with keep alive 0 (the
   * client asked for none), after `idleSeconds` of silence (0 = never).
   */
  startKeepAlive(seconds: number, idleSeconds = 0): void {
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    if (seconds <= 0 && idleSeconds <= 0) return;
    const limit = seconds > 0 ? seconds * 1500 : idleSeconds * 1000;
    const reason = seconds > 0 ? `keep alive of ${seconds} s exceeded` : `idle for ${idleSeconds} s (keep alive 0)`;
    this.keepAliveTimer = setInterval(
      () => {
        if (Date.now() - this.lastActivity > limit) this.close(reason);
      },
      Math.min(limit, 1000),
    );
    this.keepAliveTimer.unref();
  }

  /**
   * Closes because the peer broke the protocol: a malformed or oversize packet, a packet it may not
   * send, a forbidden value. `kind` is the metrics' reason (a fixed vocabulary), `reason` the
   * message for the log. Close handlers see `closedOnProtocolError`.
   */
  protocolError(kind: ProtocolErrorKind, reason: string, error?: Error): void {
    if (!this.closed) this.brokeProtocol = kind;
    this.close(reason, error);
  }

  close(reason: string, error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    // End gracefully so a last DISCONNECT/CONNACK reaches the client even while it is still
    // writing; a peer that never closes its side is cut off after a grace period.
    this.stream.end();
    const t = setTimeout(() => this.stream.destroy(), error ? 0 : CLOSE_GRACE_MS);
    t.unref();
    this.stream.once('close', () => clearTimeout(t));
    for (const fn of this.closeHandlers.splice(0)) fn(reason, error);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastActivity = Date.now();
    if (!this.sawFirstByte && chunk.length > 0) {
      this.sawFirstByte = true;
      // [MQTT-3.1.0-1] the first packet is CONNECT (type 1, flags 0): anything else, say an HTTP request, is not MQTT.
      if (chunk[0] !== FIRST_BYTE_OF_CONNECT) {
        this.protocolError('unexpected_packet', `first byte 0x${chunk[0]!.toString(16).padStart(2, '0')} does not start a CONNECT packet [MQTT-3.1.0-1]`);
        return;
      }
    }
    const oversize = this.guard.check(chunk);
    if (oversize > 0) {
      // v5: tell the client why before closing (reason 0x95 Packet too large).
      if (this.protocolVersion === 5) this.send({ cmd: 'disconnect', reasonCode: ReasonCode.PACKET_TOO_LARGE });
      const malformed = oversize === Number.MAX_SAFE_INTEGER;
      this.protocolError(
        malformed ? 'malformed_packet' : 'packet_too_large',
        `packet of ${malformed ? 'malformed' : oversize} bytes exceeds the limit of ${this.opts.maxPacketSize}`,
      );
      return;
    }
    try {
      this.splitter.push(chunk, this.onWholePacket);
    } catch (err) {
      this.protocolError('malformed_packet', `malformed packet: ${(err as Error).message}`, err as Error);
    }
  }

  /**
   * One whole packet: PUBLISHes and short acknowledgements are decoded here, everything else by
   * mqtt-packet (which emits it, or its error, synchronously). The level is the parser's own: it
   * switches when it reads CONNECT, before the gateway has answered it.
   */
  private dispatch(packet: Buffer): void {
    if (this.closed) return;
    const version = this.parserSettings.protocolVersion;
    const fast = decodePublish(packet, version) ?? decodeAck(packet, version);
    if (fast) {
      this.packetHandler(fast);
      return;
    }
    const { packets, error } = PARSER.parse(packet, this.parserSettings);
    for (const p of packets) {
      if (this.closed) return;
      const violation = packetLimitViolation(p, this.opts);
      if (violation) {
        if (this.protocolVersion === 5) this.send({ cmd: 'disconnect', reasonCode: ReasonCode.PROTOCOL_ERROR });
        this.protocolError('packet_limit', violation);
        return;
      }
      this.packetHandler(p);
    }
    if (error) this.protocolError('malformed_packet', `malformed packet: ${error.message}`, error);
  }
}
