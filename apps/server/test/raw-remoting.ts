import net from 'node:net';
import { FrameDecoder, type RemotingCommand, encodeFrame, isResponse } from '@apogee/remoting';

/**
 * One bare TCP connection speaking remoting frames, for requests the SDK would not send as they
 * are (unknown codes, hand-made headers): frames are written as given and answers matched by opaque.
 */
export class RawRemoting {
  private readonly decoder = new FrameDecoder();
  private readonly waiting = new Map<number, (res: RemotingCommand) => void>();
  /** Every response received, in order (also those nobody waited for: a oneway request must get none). */
  readonly responses: RemotingCommand[] = [];
  /** Requests the server sent on this connection (broker → client calls such as CHECK_TRANSACTION_STATE). */
  readonly requests: RemotingCommand[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      for (const cmd of this.decoder.push(chunk)) {
        if (!isResponse(cmd)) {
          this.requests.push(cmd);
          continue;
        }
        this.responses.push(cmd);
        this.waiting.get(cmd.opaque)?.(cmd);
        this.waiting.delete(cmd.opaque);
      }
    });
    socket.on('error', () => {});
  }

  static async connect(addr: string): Promise<RawRemoting> {
    const [host, port] = addr.split(':');
    const socket = net.connect(Number(port), host);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return new RawRemoting(socket);
  }

  /** This side's "ip:port", as the server sees (and logs) it. */
  get localAddr(): string {
    return `${this.socket.localAddress}:${this.socket.localPort}`;
  }

  /** Writes the request and waits for the answer with its opaque. */
  request(cmd: RemotingCommand, timeoutMs = 10_000): Promise<RemotingCommand> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer to request code ${cmd.code} within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(cmd.opaque, (res) => {
        clearTimeout(t);
        resolve(res);
      });
      this.socket.write(encodeFrame(cmd));
    });
  }

  /** Writes a frame without waiting for anything (oneway requests). */
  write(cmd: RemotingCommand): void {
    this.socket.write(encodeFrame(cmd));
  }

  close(): void {
    this.socket.destroy();
  }
}
