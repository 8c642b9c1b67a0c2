// The watch stream's framing: the gateway writes one JSON object per line on a chunked response. This
// splitter is pure (no I/O): it takes chunks as they come and hands back whole lines, bounded — a line
// longer than `maxLineBytes` is an error rather than a buffer that grows without limit.

export class JsonLineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxLineBytes: number) {}

  /** The complete lines in `chunk` (plus what was pending), parsed; keeps the unfinished tail. Throws
   * a `RangeError` when a line exceeds the bound and a `SyntaxError` when a line is not JSON. */
  push(chunk: Buffer): unknown[] {
    const out: unknown[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      this.take(chunk.subarray(start, nl));
      const line = Buffer.concat(this.pending, this.pendingBytes).toString('utf8').trim();
      this.pending = [];
      this.pendingBytes = 0;
      if (line !== '') out.push(JSON.parse(line));
      start = nl + 1;
    }
    if (start < chunk.length) this.take(chunk.subarray(start));
    return out;
  }

  private take(part: Buffer): void {
    if (this.pendingBytes + part.length > this.maxLineBytes) {
      throw new RangeError(`a stream line longer than ${this.maxLineBytes} bytes`);
    }
    if (part.length > 0) {
      this.pending.push(part);
      this.pendingBytes += part.length;
    }
  }
}
