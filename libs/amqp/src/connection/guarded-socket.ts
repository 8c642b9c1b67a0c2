import { EventEmitter } from 'node:events';
import type net from 'node:net';
import { FrameGuard, type FrameGuardOptions, type GuardFailure } from '../codec/frame-guard.js';
import { PROTOCOL_AMQP, Performative, closeFrame, openFrame, parseProtocolHeader, protocolHeader } from '../codec/frames.js';

/** How long a closing connection may take to flush its last frames before the socket is destroyed. */
const CLOSE_GRACE_MS = 2000;

/**
 * The socket rhea sees: bytes from the network pass through the FrameGuard first, and a
 * connection that breaks the framing rules is closed here, with the protocol's error where it has
 * one (a close frame with amqp:connection:framing-error, or our protocol header for a header we
 * do not speak). Only that connection is affected.
 */
export class GuardedSocket extends EventEmitter {
  private readonly guard: FrameGuard;
  private failed = false;
  private ended = false;
  /** What rhea wrote so far: the AMQP header and the open frame (a close must follow an open). */
  private amqpHeaderSent = false;
  private openSent = false;
  /** Whether this turn's frames are being gathered (see write). */
  private corked = false;
  /** Reading stopped because the peer does not take what is written (see maxOutboundBufferBytes). */
  private writeBlocked = false;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;

  constructor(
    readonly socket: net.Socket,
    opts: FrameGuardOptions,
    private readonly containerId: string,
    private readonly onFailure: (f: GuardFailure) => void,
    /** Unsent bytes past which nothing more is read from the peer until it takes them (AmqpConfig.maxOutboundBufferBytes). */
    readonly maxOutboundBufferBytes = 1024 * 1024,
  ) {
    super();
    this.guard = new FrameGuard(opts);
    this.remoteAddress = socket.remoteAddress;
    this.remotePort = socket.remotePort;
    this.localAddress = socket.localAddress;
    this.localPort = socket.localPort;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.input(chunk));
    socket.on('error', (err) => this.emit('error', err));
    socket.on('end', () => this.emitEnd());
    socket.on('close', () => this.emitEnd());
    socket.on('drain', () => {
      if (this.writeBlocked) {
        this.writeBlocked = false;
        if (!this.failed) socket.resume();
      }
      this.emit('drain');
    });
  }

  /** Whether more than maxOutboundBufferBytes wait to be written (outgoing links hold their deliveries). */
  get outboundFull(): boolean {
    return this.socket.writableLength > this.maxOutboundBufferBytes;
  }

  /** True once for a completed delivery on (channel, handle) that exceeded the message size limit. */
  takeOversize(channel: number, handle: number): boolean {
    return this.guard.takeOversize(channel, handle);
  }

  /** Bytes queued for the peer and not yet written (delivery pauses above a high-water mark). */
  get writableLength(): number {
    return this.socket.writableLength;
  }

  /**
   * rhea writes each frame on its own; the frames of one event-loop turn leave together (the
   * socket is corked at the first and uncorked once the turn's callbacks have run), so a burst
   * of transfers, dispositions and flows costs one writev instead of a syscall per frame.
   */
  write(buf: Buffer): boolean {
    if (this.failed || this.socket.destroyed) return false;
    if (!this.openSent) this.noteOutgoing(buf);
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(this.uncork);
    }
    const ok = this.socket.write(buf);
    // A peer that does not read what it is sent (dispositions, flows) is not read from either.
    if (!this.writeBlocked && this.outboundFull) {
      this.writeBlocked = true;
      this.socket.pause();
    }
    return ok;
  }

  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  end(): void {
    if (!this.socket.destroyed) this.socket.end();
    const t = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    t.unref();
  }

  destroy(): void {
    this.socket.destroy();
  }

  setNoDelay(v: boolean): void {
    this.socket.setNoDelay(v);
  }

  /**
   * Closes the connection with an AMQP error from outside rhea's reading (decode errors rhea
   * found): open first if none went out, then close, then the socket ends.
   */
  closeWithError(condition: string, description: string): void {
    if (this.failed) return;
    this.failed = true;
    this.writeClose(condition, description);
  }

  private input(chunk: Buffer): void {
    if (this.failed) return;
    const out = this.guard.push(chunk);
    // rhea reads these in its server scope (rhea/index.ts, serveConnection).
    for (const b of out.forward) {
      if (this.failed || this.ended) break;
      this.emit('data', b);
    }
    if (out.failure) this.fail(out.failure);
  }

  private fail(f: GuardFailure): void {
    if (this.failed) return;
    this.failed = true;
    this.onFailure(f);
    if (f.replyHeader) {
      // Spec 2.2: answer an unsupported header with one we support, then close the socket.
      this.socket.end(f.replyHeader);
    } else if (f.phase === 'amqp') {
      // Let rhea finish what it is writing (its open may be due on this tick), then close.
      setImmediate(() => this.writeClose(f.condition, f.description));
      return;
    } else this.socket.end();
    this.scheduleDestroy();
  }

  private writeClose(condition: string, description: string): void {
    if (!this.socket.destroyed) {
      const parts: Buffer[] = [];
      if (!this.amqpHeaderSent) parts.push(protocolHeader(PROTOCOL_AMQP));
      if (!this.openSent) parts.push(openFrame(this.containerId));
      parts.push(closeFrame(condition, description));
      this.socket.end(Buffer.concat(parts));
    }
    this.scheduleDestroy();
    this.emitEnd();
  }

  private scheduleDestroy(): void {
    const t = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
    t.unref();
  }

  private noteOutgoing(buf: Buffer): void {
    if (!this.amqpHeaderSent) {
      if (buf.length >= 8 && parseProtocolHeader(buf) === PROTOCOL_AMQP) this.amqpHeaderSent = true;
      return;
    }
    // rhea writes one frame per write: an open is a frame whose body starts 0x00 0x53 0x10.
    const body = 4 * (buf[4] ?? 2);
    if (buf.length > body + 2 && buf[body] === 0x00 && buf[body + 1] === 0x53 && buf[body + 2] === Performative.OPEN) this.openSent = true;
  }

  private emitEnd(): void {
    if (this.ended) return;
    this.ended = true;
    this.emit('end');
  }
}
