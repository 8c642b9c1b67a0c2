/**
 * Watches the byte stream for each packet's fixed header and refuses a packet whose total size
 * exceeds the limit before the parser buffers it (mqtt-packet would collect it whole first).
 */
export class PacketSizeGuard {
  /** Bytes left of the current packet's body; -1 while reading a fixed header. */
  private left = -1;
  private headerBytes = 0;
  private length = 0;
  private multiplier = 1;

  constructor(private readonly maxPacketSize: number) {}

  /** Returns the size of an oversize packet it found in `chunk`, or 0 when all is well. */
  check(chunk: Buffer): number {
    let i = 0;
    while (i < chunk.length) {
      if (this.left > 0) {
        const take = Math.min(this.left, chunk.length - i);
        this.left -= take;
        i += take;
        if (this.left === 0) this.left = -1;
        continue;
      }
      const b = chunk[i++]!;
      if (this.headerBytes === 0) {
        this.headerBytes = 1; // packet type byte
        this.length = 0;
        this.multiplier = 1;
        continue;
      }
      this.length += (b & 0x7f) * this.multiplier;
      this.multiplier *= 128;
      this.headerBytes++;
      if ((b & 0x80) !== 0) {
        if (this.headerBytes > 5) return Number.MAX_SAFE_INTEGER; // malformed length: let the parser fail it
        continue;
      }
      const total = this.headerBytes + this.length;
      this.headerBytes = 0;
      if (total > this.maxPacketSize) return total;
      this.left = this.length === 0 ? -1 : this.length;
    }
    return 0;
  }
}
