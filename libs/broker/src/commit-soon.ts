/** How often progress is committed: a crash redelivers (at least once) at most this much. */
export const COMMIT_INTERVAL_MS = 100;

/**
 * A debounced commit: `fn` runs once, `delayMs` after the first of any number of requests, so a
 * reader commits its progress a few times a second, not once per acknowledgement. The timer
 * never keeps the process alive.
 */
export class CommitSoon {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly fn: () => void,
    private readonly delayMs = COMMIT_INTERVAL_MS,
  ) {}

  request(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.fn();
    }, this.delayMs);
    this.timer.unref();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
