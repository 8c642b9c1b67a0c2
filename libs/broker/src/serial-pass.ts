/**
 * Runs an async pass at most once at a time: a request while a pass runs makes exactly one more
 * pass after it (arrivals coalesce, none is lost). The delivery loops of the endpoints use it.
 */
export class SerialPass {
  private running = false;
  private again = false;

  constructor(
    private readonly pass: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Whether a pass is in progress. */
  get busy(): boolean {
    return this.running;
  }

  /** Runs a pass now, or once more after the one in progress. */
  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.again = false;
    this.pass().then(
      () => {
        this.running = false;
        if (this.again) this.request();
      },
      (err: unknown) => {
        this.running = false;
        this.onError(err);
      },
    );
  }
}
