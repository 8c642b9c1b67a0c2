import type { RemotingCommand } from '../command.js';
import { RemotingTimeoutError } from './errors.js';

interface Pending {
  resolve: (cmd: RemotingCommand) => void;
  reject: (err: Error) => void;
  deadline: number;
  code: number;
}

/**
 * Requests awaiting their response, by opaque. Timeouts are found by one periodic sweep (no timer
 * per request), as RocketMQ's scanResponseTable does.
 */
export class PendingRequests {
  private readonly table = new Map<number, Pending>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly sweepMs = 50) {}

  add(opaque: number, code: number, timeoutMs: number): Promise<RemotingCommand> {
    return new Promise<RemotingCommand>((resolve, reject) => {
      this.table.set(opaque, { resolve, reject, deadline: Date.now() + timeoutMs, code });
      if (!this.timer) {
        this.timer = setInterval(() => this.sweep(), this.sweepMs);
        this.timer.unref();
      }
    });
  }

  /** Completes the request the response answers; false if none waits (late or unknown). */
  complete(response: RemotingCommand): boolean {
    const p = this.table.get(response.opaque);
    if (!p) return false;
    this.table.delete(response.opaque);
    p.resolve(response);
    this.stopIfIdle();
    return true;
  }

  fail(opaque: number, err: Error): void {
    const p = this.table.get(opaque);
    if (!p) return;
    this.table.delete(opaque);
    p.reject(err);
    this.stopIfIdle();
  }

  failAll(err: Error): void {
    const all = [...this.table.values()];
    this.table.clear();
    this.stopIfIdle();
    for (const p of all) p.reject(err);
  }

  get size(): number {
    return this.table.size;
  }

  private sweep(): void {
    const now = Date.now();
    for (const [opaque, p] of this.table) {
      if (p.deadline > now) continue;
      this.table.delete(opaque);
      p.reject(new RemotingTimeoutError(`request code ${p.code} (opaque ${opaque}) got no response in time`));
    }
    this.stopIfIdle();
  }

  private stopIfIdle(): void {
    if (this.table.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}
