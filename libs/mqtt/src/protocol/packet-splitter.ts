/**
 * Cuts an MQTT byte stream into whole packets by their fixed header (type byte + Remaining Length
 * varint), so that each packet can go to the codec that suits it: the PUBLISH fast path or
 * mqtt-packet. A packet inside one chunk is handed over as a view of it; one spanning chunks is
 * copied once. Sizes are policed by PacketSizeGuard before bytes get here.
 */
export class PacketSplitter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Whole size of the packet being collected, 0 while its fixed header is incomplete. */
  private need = 0;
  private failure: Error | null = null;

  /** Feeds a chunk; calls `onPacket` for every packet it completes, in order. Throws on a malformed length. */
  push(chunk: Buffer, onPacket: (packet: Buffer) => void): void {
    if (this.failure) throw this.failure;
    let buf = chunk;
    if (this.buffered > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.need === 0) this.need = this.lengthOf(Buffer.concat(this.chunks, Math.min(this.buffered, 5)));
      // A large packet arrives in many chunks: they are joined once, when it is complete.
      if (this.need === 0 || this.buffered < this.need) return;
      buf = Buffer.concat(this.chunks, this.buffered);
      this.chunks = [];
      this.buffered = 0;
    }
    const used = this.cut(buf, onPacket);
    this.need = 0;
    if (used < buf.length) {
      const rest = buf.subarray(used);
      this.chunks.push(rest);
      this.buffered = rest.length;
      this.need = this.lengthOf(rest);
    }
  }

  /** Size of the packet at the start of `head`, or 0 while its header is incomplete. */
  private lengthOf(head: Buffer): number {
    const total = packetLength(head, 0);
    if (total === MALFORMED) {
      this.failure = new Error('Invalid variable byte integer');
      throw this.failure;
    }
    return total < 0 ? 0 : total;
  }

  /** Emits the whole packets at the start of `buf`; returns the bytes they took. */
  private cut(buf: Buffer, onPacket: (packet: Buffer) => void): number {
    let at = 0;
    while (at < buf.length) {
      const total = packetLength(buf, at);
      if (total < 0) {
        if (total === MALFORMED) {
          this.failure = new Error('Invalid variable byte integer');
          throw this.failure;
        }
        break; // incomplete header
      }
      if (at + total > buf.length) break;
      onPacket(buf.subarray(at, at + total));
      at += total;
    }
    return at;
  }
}

const INCOMPLETE = -1;
const MALFORMED = -2;

/** Whole size (fixed header included) of the packet starting at `at`, or INCOMPLETE / MALFORMED. */
function packetLength(buf: Buffer, at: number): number {
  let length = 0;
  let multiplier = 1;
  for (let i = 1; i <= 4; i++) {
    if (at + i >= buf.length) return INCOMPLETE;
    const b = buf[at + i]!;
    length += (b & 0x7f) * multiplier;
    if ((b & 0x80) === 0) return 1 + i + length;
    multiplier *= 128;
  }
  return MALFORMED;
}
