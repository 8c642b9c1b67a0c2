import { describe, expect, it } from 'vitest';
import { BrokerMetrics } from '../metrics.js';
import { brokerError } from '../test-support.js';
import { FlowControl } from './flow-control.js';

describe('FlowControl', () => {
  it('refuses with SYSTEM_BUSY [FLOW_CONTROL_IN_FLIGHT] at the in-flight limit and admits again once writes finish', async () => {
    const metrics = new BrokerMetrics();
    const t = 1_000;
    const fc = new FlowControl(1_000, 2, metrics, () => t);
    const a = fc.admit();
    const b = fc.admit();
    expect(metrics.putsInFlight).toBe(2);
    const err = await brokerError(() => fc.admit(), 'SYSTEM_BUSY');
    expect(err.reason).toContain('[FLOW_CONTROL_IN_FLIGHT]');
    expect(err.reason).toContain('limit 2');
    await brokerError(() => fc.admit(), 'SYSTEM_BUSY');
    expect(metrics.refusals.FLOW_CONTROL_IN_FLIGHT).toBe(2);
    expect(metrics.refusals.FLOW_CONTROL_WAIT).toBe(0);
    fc.done(a);
    expect(metrics.putsInFlight).toBe(1);
    const c = fc.admit();
    fc.done(b);
    fc.done(c);
    expect(metrics.putsInFlight).toBe(0);
  });

  it('refuses with SYSTEM_BUSY [FLOW_CONTROL_WAIT] while the oldest write has waited longer than maxWaitMs', async () => {
    const metrics = new BrokerMetrics();
    let t = 10_000;
    const fc = new FlowControl(500, 100, metrics, () => t);
    const oldest = fc.admit();
    t += 400;
    const younger = fc.admit(); // waited 400 ≤ 500: admitted
    t += 100; // oldest waited exactly 500: still admitted
    fc.done(fc.admit());
    t += 1; // 501 > 500
    const err = await brokerError(() => fc.admit(), 'SYSTEM_BUSY');
    expect(err.reason).toContain('[FLOW_CONTROL_WAIT]');
    expect(err.reason).toContain('501 ms');
    expect(metrics.refusals.FLOW_CONTROL_WAIT).toBe(1);
    // the oldest finishing makes `younger` (waited 101 ms) the oldest: admitted again
    fc.done(oldest);
    const next = fc.admit();
    fc.done(younger);
    fc.done(next);
    // nothing in flight: never refused however late
    t += 1_000_000;
    fc.done(fc.admit());
    expect(metrics.refusals.FLOW_CONTROL_WAIT).toBe(1);
    expect(metrics.putsInFlight).toBe(0);
  });
});
