import type net from 'node:net';
import { type RemotingCommand, SerializeType } from '../command.js';
import { encodeFrameHead, FrameDecoder } from '../frame.js';

export interface ConnectionOptions {
  /** Largest frame accepted from the peer. Default 16 MiB. */
  maxFrameSize?: number;
  /** Serialization of outgoing headers. Default JSON (what every client reads). */
  serializeType?: number;
  /** Stop reading from the peer while this many bytes wait to be written to it. Default 8 MiB. */
  highWaterMark?: number;
  /** Told how many bytes of unfinished frames this connection holds after every read (a server's budget). */
  onPartialBytes?: (conn: Connection, bytes: number) => void;
}

/**
 * One framed RemotingCommand connection over a socket. Outgoing frames written in the same event
 * turn leave in one writev (the socket is corked until the turn ends); reading pauses while the
 * peer does not drain what we send (backpressure). A malformed frame closes this connection only.
 */
export class Connection {
  private readonly decoder: FrameDecoder;
  private readonly serializeType: number;
  private readonly highWaterMark: number;
  private corked = false;
  private closed = false;
  private readonly closeHandlers: Array<(err?: Error) => void> = [];
  /** Remote "ip:port", for logs and the born host of messages. */
  readonly remote: string;

  constructor(
    readonly socket: net.Socket,
    onCommand: (cmd: RemotingCommand, conn: Connection) => void,
    opts: ConnectionOptions = {},
  ) {
    this.decoder = new FrameDecoder(opts.maxFrameSize === undefined ? {} : { maxFrameSize: opts.maxFrameSize });
    this.serializeType = opts.serializeType ?? SerializeType.JSON;
    this.highWaterMark = opts.highWaterMark ?? 8 * 1024 * 1024;
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      let cmds: RemotingCommand[];
      try {
        cmds = this.decoder.push(chunk);
      } catch (err) {
        this.close(err as Error);
        return;
      }
      opts.onPartialBytes?.(this, this.decoder.bufferedBytes);
      for (const cmd of cmds) {
        if (this.closed) return;
        onCommand(cmd, this);
      }
    });
    socket.on('drain', () => {
      if (!this.closed) socket.resume();
    });
    socket.on('error', (err) => this.close(err));
    socket.on('close', () => this.close());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Queues a command; frames of one event turn go out together. */
  send(cmd: RemotingCommand): void {
    if (this.closed) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        if (!this.closed) this.socket.uncork();
      });
    }
    // Head and body go out as two chunks of one writev (the socket is corked): the body is never copied.
    const head = encodeFrameHead(cmd, this.serializeType);
    const body = cmd.body;
    let ok = this.socket.write(head);
    if (body && body.length > 0) ok = this.socket.write(body);
    if (!ok && this.socket.writableLength > this.highWaterMark) this.socket.pause();
  }

  onClose(fn: (err?: Error) => void): void {
    if (this.closed) fn();
    else this.closeHandlers.push(fn);
  }

  close(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    for (const fn of this.closeHandlers.splice(0)) fn(err);
  }
}
