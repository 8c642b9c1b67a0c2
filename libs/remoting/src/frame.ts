/**
 * Remoting frames (facts §1; NettyDecoder.java, RemotingCommand.decode):
 * int length (= 4 + headerLen + bodyLen) · int headerWord (serialize type in bits 31–24, headerLen in
 * bits 23–0) · header · body. No I/O here: the transport pushes socket chunks into a FrameDecoder.
 */
import { SerializeType, type RemotingCommand, type RemotingHeader } from './command.js';
import { EncodeError, FrameError, RemotingError, RemotingErrorCode } from './errors.js';
import { decodeJsonHeader, jsonHeaderText } from './json-header.js';
import { decodeRocketMqHeader, encodeRocketMqHeader } from './rocketmq-header.js';

/** com.rocketmq.remoting.frameMaxLength default: 16 MiB. */
export const DEFAULT_MAX_FRAME_SIZE = 16_777_216;
const MAX_HEADER_LENGTH = 0xffffff;

/**
 * Largest header decoded (JSON or ROCKETMQ). Headers carry a request's fields and a message's
 * properties (at most 32,767 bytes in a record); a larger one is refused before it is parsed, so
 * one frame cannot make JSON.parse build megabytes of objects.
 */
export const MAX_DECODED_HEADER_LENGTH = 1024 * 1024;

/** Length prefix and header word for a header of `headerLength` bytes, written at 0 of `head`. */
function writePrefix(head: Buffer, cmd: RemotingCommand, type: number, headerLength: number): void {
  if (headerLength > MAX_HEADER_LENGTH) throw new EncodeError(`header of ${headerLength} bytes exceeds 24 bits`);
  const length = 4 + headerLength + (cmd.body?.length ?? 0);
  if (length > 0x7fffffff) throw new EncodeError(`frame of ${length} bytes exceeds the int length field`);
  head.writeInt32BE(length, 0);
  head.writeUInt32BE(((type << 24) | headerLength) >>> 0, 4);
}

/**
 * Length prefix, header word and header, without the body: the transport may write
 * `[encodeFrameHead(cmd, t), cmd.body]` to avoid copying a large body.
 * Use SerializeType.JSON towards ali-ons, which cannot read the ROCKETMQ type. An unknown type
 * number throws EncodeError.
 */
export function encodeFrameHead(cmd: RemotingCommand, type: SerializeType | number = SerializeType.JSON): Buffer {
  if (type === SerializeType.JSON) {
    // The header text is written straight after the prefix: one buffer per frame head, no copy.
    const text = jsonHeaderText(cmd);
    const headerLength = Buffer.byteLength(text, 'utf8');
    const head = Buffer.allocUnsafe(8 + headerLength);
    writePrefix(head, cmd, type, headerLength);
    head.write(text, 8, headerLength, 'utf8');
    return head;
  }
  if (type === SerializeType.ROCKETMQ) {
    const header = encodeRocketMqHeader(cmd);
    const head = Buffer.allocUnsafe(8 + header.length);
    writePrefix(head, cmd, type, header.length);
    header.copy(head, 8);
    return head;
  }
  throw new EncodeError(`unknown serialize type ${String(type)}`);
}

/** One whole frame, length prefix included. */
export function encodeFrame(cmd: RemotingCommand, type: SerializeType | number = SerializeType.JSON): Buffer {
  const head = encodeFrameHead(cmd, type);
  return cmd.body && cmd.body.length > 0 ? Buffer.concat([head, cmd.body]) : head;
}

/**
 * Decodes a frame's content (everything after the length prefix). `owned`: the content is a private
 * copy, so the body may be a view of it; otherwise the body is copied out of the caller's chunk.
 */
function decodeContent(content: Buffer, owned: boolean): RemotingCommand {
  const word = content.readUInt32BE(0);
  const type = word >>> 24;
  const headerLength = word & MAX_HEADER_LENGTH;
  checkHeaderWord(type, headerLength, content.length);
  const headerBytes = content.subarray(4, 4 + headerLength);
  const header: RemotingHeader = type === SerializeType.JSON ? decodeJsonHeader(headerBytes) : decodeRocketMqHeader(headerBytes);
  const cmd: RemotingCommand = header;
  if (content.length > 4 + headerLength) {
    const body = content.subarray(4 + headerLength);
    cmd.body = owned ? body : Buffer.from(body);
  }
  return cmd;
}

function checkHeaderWord(type: number, headerLength: number, frameLength: number): void {
  if (type !== SerializeType.JSON && type !== SerializeType.ROCKETMQ) {
    throw new FrameError(RemotingErrorCode.BAD_FRAME, `unknown serialize type ${type}`);
  }
  if (headerLength > frameLength - 4) {
    throw new FrameError(RemotingErrorCode.BAD_FRAME, `header length ${headerLength} exceeds frame length ${frameLength} - 4`);
  }
  if (headerLength > MAX_DECODED_HEADER_LENGTH) {
    throw new FrameError(RemotingErrorCode.BAD_FRAME, `header length ${headerLength} exceeds the maximum ${MAX_DECODED_HEADER_LENGTH}`);
  }
}

function checkLength(length: number, maxFrameSize: number): void {
  if (length < 4) throw new FrameError(RemotingErrorCode.BAD_FRAME, `frame length ${length} < 4`);
  if (length > maxFrameSize) {
    throw new FrameError(RemotingErrorCode.FRAME_TOO_LARGE, `frame length ${length} exceeds the maximum ${maxFrameSize}`);
  }
}

/** Any failure as a FrameError: typed errors pass, anything unexpected is wrapped (never leaks). */
function asFrameError(e: unknown): FrameError {
  if (e instanceof FrameError) return e;
  const message = e instanceof RemotingError ? e.message : 'undecodable frame';
  return new FrameError(RemotingErrorCode.BAD_HEADER, message, { cause: e });
}

export interface FrameDecoderOptions {
  /** Largest accepted value of the length field; default 16 MiB. */
  maxFrameSize?: number;
}

function resolveMax(options: FrameDecoderOptions): number {
  const max = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  if (!Number.isInteger(max) || max < 4 || max > 0x7fffffff) throw new RangeError(`maxFrameSize ${max} out of range`);
  return max;
}

/** Decodes exactly one whole frame (length prefix included); trailing or missing bytes throw FrameError. */
export function decodeFrame(frame: Buffer, options: FrameDecoderOptions = {}): RemotingCommand {
  const max = resolveMax(options);
  try {
    if (frame.length < 4) throw new FrameError(RemotingErrorCode.BAD_FRAME, `frame of ${frame.length} bytes has no length field`);
    const length = frame.readInt32BE(0);
    checkLength(length, max);
    if (length !== frame.length - 4) {
      throw new FrameError(RemotingErrorCode.BAD_FRAME, `length field ${length} but ${frame.length - 4} bytes follow`);
    }
    return decodeContent(frame.subarray(4), false);
  } catch (e) {
    throw asFrameError(e);
  }
}

/**
 * Streaming decoder for one connection. Chunks are kept in a list (no re-concatenation per push);
 * a frame is copied at most once, when it spans chunks. After a FrameError the decoder is failed:
 * every later push rethrows it and the connection must be closed. Pushed chunks are retained (not
 * copied) until decoded, so the caller must not reuse or mutate them; decoded bodies never alias them.
 */
export class FrameDecoder {
  private readonly maxFrameSize: number;
  private chunks: Buffer[] = [];
  /** Index of the first live chunk in `chunks`, and read offset inside it. */
  private first = 0;
  private offset = 0;
  private buffered = 0;
  /** Length field of the frame being awaited (prefix consumed), or -1. */
  private pending = -1;
  private pendingChecked = false;
  private failure: FrameError | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxFrameSize = resolveMax(options);
  }

  /** Bytes received but not yet decoded. */
  get bufferedBytes(): number {
    return this.buffered + (this.pending >= 0 ? 4 : 0);
  }

  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Feeds a chunk; returns the commands completed by it (possibly none, possibly many). */
  push(chunk: Buffer): RemotingCommand[] {
    if (this.failure) throw this.failure;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: RemotingCommand[] = [];
    try {
      for (;;) {
        if (this.pending < 0) {
          if (this.buffered < 4) break;
          const length = this.take(4).buf.readInt32BE(0);
          checkLength(length, this.maxFrameSize);
          this.pending = length;
          this.pendingChecked = false;
        }
        if (!this.pendingChecked && this.buffered >= 4) {
          // Fail early on a bad header word instead of waiting for up to maxFrameSize bytes.
          const word = this.peekWord();
          checkHeaderWord(word >>> 24, word & MAX_HEADER_LENGTH, this.pending);
          this.pendingChecked = true;
        }
        if (this.buffered < this.pending) break;
        const { buf, owned } = this.take(this.pending);
        this.pending = -1;
        out.push(decodeContent(buf, owned));
      }
    } catch (e) {
      this.failure = asFrameError(e);
      this.chunks = [];
      this.first = 0;
      this.offset = 0;
      this.buffered = 0;
      throw this.failure;
    }
    return out;
  }

  private peekWord(): number {
    const head = this.chunks[this.first]!;
    if (head.length - this.offset >= 4) return head.readUInt32BE(this.offset);
    const bytes = Buffer.allocUnsafe(4);
    let filled = 0;
    for (let i = this.first, off = this.offset; filled < 4; i++, off = 0) {
      const c = this.chunks[i]!;
      filled += c.copy(bytes, filled, off, Math.min(c.length, off + 4 - filled));
    }
    return bytes.readUInt32BE(0);
  }

  /** Removes n buffered bytes (n ≤ buffered); a view when they lie in one chunk, else a fresh copy. */
  private take(n: number): { buf: Buffer; owned: boolean } {
    this.buffered -= n;
    const head = this.chunks[this.first]!;
    if (head.length - this.offset >= n) {
      const buf = head.subarray(this.offset, this.offset + n);
      this.offset += n;
      if (this.offset === head.length) this.dropFirst();
      return { buf, owned: false };
    }
    const buf = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[this.first]!;
      const count = Math.min(c.length - this.offset, n - filled);
      c.copy(buf, filled, this.offset, this.offset + count);
      filled += count;
      this.offset += count;
      if (this.offset === c.length) this.dropFirst();
    }
    return { buf, owned: true };
  }

  private dropFirst(): void {
    this.first++;
    this.offset = 0;
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    } else if (this.first >= 1024 && this.first * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
}
