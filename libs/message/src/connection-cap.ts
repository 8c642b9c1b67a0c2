import type { RateLimitedWarnings } from './rate-limited-warnings.js';

/**
 * The most connections one listener keeps open at a time. Every accepted connection asks `admit`
 * before anything is allocated for it; past the limit it is closed at once by the caller, the
 * refusal is counted (for metrics) and reported through rate-limited warnings, so a flood of
 * connections costs neither memory nor a flood of log lines. Endpoints keep one cap per listener
 * (plain, TLS, WebSocket), keyed by the listener's name.
 */
export class ConnectionCap {
  private openCount = 0;
  private refusedCount = 0;

  /**
   * @param listener the listener's name in warnings and metrics ("mqtt", "mqtt-ws", "amqp", …)
   * @param limit most connections open at once; 0 means no limit
   * @param warnings where a refusal is reported (key `<listener>:connection-limit`), if anywhere
   */
  constructor(
    readonly listener: string,
    readonly limit: number,
    private readonly warnings?: RateLimitedWarnings,
  ) {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`${listener}: the connection limit must be a non-negative integer, got ${limit}`);
  }

  /** Connections admitted and not released. */
  get open(): number {
    return this.openCount;
  }

  /** Connections refused for the limit since start. */
  get refused(): number {
    return this.refusedCount;
  }

  /**
   * Counts a new connection in, or refuses it (false) when `limit` are open; `remote` names the
   * peer in the warning. The caller closes a refused connection and must call `release` once for
   * each admitted one when it closes.
   */
  admit(remote: string): boolean {
    if (this.limit > 0 && this.openCount >= this.limit) {
      this.refusedCount++;
      this.warnings?.warn(
        `${this.listener}:connection-limit`,
        { listener: this.listener, remote, limit: this.limit },
        `${this.listener}: connection refused: ${this.limit} connections are open, the listener's maximum`,
      );
      return false;
    }
    this.openCount++;
    return true;
  }

  /** An admitted connection closed. */
  release(): void {
    if (this.openCount > 0) this.openCount--;
  }
}

/** The caps of an endpoint's listeners, made on first use with one limit (an endpoint's maxConnections). */
export class ConnectionCaps {
  private readonly caps = new Map<string, ConnectionCap>();

  constructor(
    private readonly limit: number,
    private readonly warnings?: RateLimitedWarnings,
  ) {}

  /** The cap of the listener called `listener`. */
  of(listener: string): ConnectionCap {
    let cap = this.caps.get(listener);
    if (!cap) {
      cap = new ConnectionCap(listener, this.limit, this.warnings);
      this.caps.set(listener, cap);
    }
    return cap;
  }

  /** Connections refused for the limit over every listener. */
  get refused(): number {
    let n = 0;
    for (const c of this.caps.values()) n += c.refused;
    return n;
  }

  /** Every listener's cap (for metrics per listener). */
  all(): ConnectionCap[] {
    return [...this.caps.values()];
  }
}
