import mqtt from 'mqtt-packet';

/** What mqtt-packet's parser reads of its settings: the level, and 3.1.1 bridge mode from CONNECT. */
export interface ParserSettings {
  protocolVersion: number;
  bridgeMode?: boolean;
}

interface ParserInternals {
  settings: ParserSettings;
  error: Error | null;
}

/**
 * mqtt-packet's parser for whole packets (cut by PacketSplitter), one for every connection of the
 * process: a parser per connection is an event emitter with a BufferList Duplex stream inside
 * (≈ 1.5 KB an idle connection would hold only to parse its next PINGREQ). A whole packet leaves
 * the parser's buffer empty, so nothing of one connection remains for the next; each call brings
 * the connection's own settings, and a parser left with bytes or an error is replaced.
 */
export class WholePacketParser {
  private parser = WholePacketParser.create();
  private readonly packets: mqtt.Packet[] = [];
  private failure: Error | null = null;

  private static create(): mqtt.Parser {
    return mqtt.parser({ protocolVersion: 4 });
  }

  constructor() {
    this.listen();
  }

  private listen(): void {
    this.parser.on('packet', (p: mqtt.Packet) => this.packets.push(p));
    this.parser.on('error', (err: Error) => (this.failure ??= err));
  }

  /**
   * Parses one whole packet at the level in `settings`; a CONNECT updates `settings` to the level
   * (and bridge mode) it asks for, as mqtt-packet does for its own. Returns the packets read (one)
   * and the error, if the bytes were malformed.
   */
  parse(packet: Buffer, settings: ParserSettings): { packets: mqtt.Packet[]; error: Error | null } {
    const internals = this.parser as unknown as ParserInternals;
    internals.settings = settings;
    let left: number;
    try {
      left = this.parser.parse(packet);
    } catch (err) {
      this.failure ??= err as Error;
      left = -1;
    }
    const after = internals.settings;
    if (after !== settings) {
      // CONNECT made the packet the parser's settings: keep only what later packets need.
      settings.protocolVersion = after.protocolVersion;
      if (after.bridgeMode !== undefined) settings.bridgeMode = after.bridgeMode;
    }
    // Bytes left over: not the whole packet PacketSplitter promised, so malformed as a packet.
    if (left > 0) this.failure ??= new Error('packet not read to its end');
    const result = { packets: this.packets.splice(0), error: this.failure };
    if (this.failure !== null) {
      // Leftover bytes or an error state must not reach another connection's packet.
      this.failure = null;
      this.parser.removeAllListeners();
      this.parser = WholePacketParser.create();
      this.listen();
    }
    return result;
  }
}
