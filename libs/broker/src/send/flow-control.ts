import { BrokerError } from '../errors.js';
import type { BrokerMetrics } from '../metrics.js';

/**
 * Admission control for store writes (RocketMQ's send-queue wait check): while the oldest write
 * in flight has waited longer than `maxWaitMs`, or too many are in flight, new sends are refused
 * with SYSTEM_BUSY and a remark that says which limit and by how much.
 */
export class FlowControl {
  private readonly started = new Map<number, number>();
  private nextId = 0;

  constructor(
    private readonly maxWaitMs: number,
    private readonly maxInFlight: number,
    private readonly metrics: BrokerMetrics,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws SYSTEM_BUSY if over a limit; else returns a ticket to pass to `done`. */
  admit(): number {
    this.check();
    const id = this.nextId++;
    this.started.set(id, this.now());
    this.metrics.putsInFlight = this.started.size;
    return id;
  }

  /** Throws SYSTEM_BUSY if over a limit (for writes that take no ticket). */
  check(): void {
    const inFlight = this.started.size;
    if (inFlight >= this.maxInFlight) {
      this.metrics.refusals.FLOW_CONTROL_IN_FLIGHT++;
      throw new BrokerError('SYSTEM_BUSY', `[FLOW_CONTROL_IN_FLIGHT] broker busy: ${inFlight} store writes in flight (limit ${this.maxInFlight}); retry later`);
    }
    if (inFlight > 0) {
      const oldest = this.started.values().next().value as number;
      const waited = this.now() - oldest;
      if (waited > this.maxWaitMs) {
        this.metrics.refusals.FLOW_CONTROL_WAIT++;
        throw new BrokerError(
          'SYSTEM_BUSY',
          `[FLOW_CONTROL_WAIT] broker busy: the oldest store write has waited ${waited} ms (limit ${this.maxWaitMs} ms; disk flush is slow), ${inFlight} in flight; retry later`,
        );
      }
    }
  }

  done(ticket: number): void {
    this.started.delete(ticket);
    this.metrics.putsInFlight = this.started.size;
  }
}
