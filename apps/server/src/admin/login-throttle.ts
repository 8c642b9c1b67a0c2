/** Failed logins from one address allowed within WINDOW_MS before it is made to wait. */
export const MAX_FAILURES = 10;
export const WINDOW_MS = 60_000;
/** Addresses tracked at most (the oldest is forgotten first), so a flood of sources cannot grow it. */
const MAX_TRACKED = 10_000;

interface Failures {
  count: number;
  since: number;
}

/**
 * Slows password guessing on the admin API: after MAX_FAILURES failed logins from one remote
 * address within WINDOW_MS, that address is refused (429) until the window ends, whatever the
 * credentials — a success does not reset a window that is already full. Memory is bounded.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, Failures>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Milliseconds the address must wait before its next login, or 0. */
  waitMs(address: string): number {
    const f = this.failures.get(address);
    if (!f) return 0;
    const left = f.since + WINDOW_MS - this.now();
    if (left <= 0) {
      this.failures.delete(address);
      return 0;
    }
    return f.count >= MAX_FAILURES ? left : 0;
  }

  failed(address: string): void {
    const t = this.now();
    const f = this.failures.get(address);
    if (f && f.since + WINDOW_MS > t) {
      f.count++;
      return;
    }
    if (f) this.failures.delete(address);
    if (this.failures.size >= MAX_TRACKED) this.failures.delete(this.failures.keys().next().value!);
    this.failures.set(address, { count: 1, since: t });
  }
}
