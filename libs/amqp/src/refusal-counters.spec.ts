import { describe, expect, it } from 'vitest';
import { Condition } from './errors.js';
import { AMQP_REFUSAL_REASONS, AmqpRefusalCounters, attachRefusalReason } from './refusal-counters.js';

describe('AmqpRefusalCounters', () => {
  it('starts with every reason of the table at 0', () => {
    const counts = new AmqpRefusalCounters().snapshot();
    expect(Object.keys(counts)).toEqual(['sasl', 'open', 'attach', 'transfer', 'protocol']);
    for (const [operation, reasons] of Object.entries(AMQP_REFUSAL_REASONS)) {
      expect(counts[operation as keyof typeof counts]).toEqual(Object.fromEntries(reasons.map((r) => [r, 0])));
    }
  });

  it('counts by operation and reason; a snapshot is a copy', () => {
    const c = new AmqpRefusalCounters();
    c.count('sasl', 'bad_credentials');
    c.count('attach', 'not_authorized');
    c.count('attach', 'not_authorized');
    const s = c.snapshot();
    c.count('transfer', 'not_authorized');
    expect(s.sasl.bad_credentials).toBe(1);
    expect(s.attach.not_authorized).toBe(2);
    expect(s.transfer.not_authorized).toBe(0);
    expect(c.snapshot().transfer.not_authorized).toBe(1);
  });

  it('names the attach reason of each condition an attach is refused with', () => {
    expect(attachRefusalReason(Condition.UNAUTHORIZED_ACCESS)).toBe('not_authorized');
    expect(attachRefusalReason(Condition.RESOURCE_LIMIT_EXCEEDED)).toBe('link_limit');
    expect(attachRefusalReason(Condition.NOT_FOUND)).toBe('not_found');
    expect(attachRefusalReason(Condition.INVALID_FIELD)).toBe('invalid_address');
    expect(attachRefusalReason(Condition.NOT_ALLOWED)).toBe('invalid_address');
    expect(attachRefusalReason(Condition.NOT_IMPLEMENTED)).toBe('not_implemented');
    expect(attachRefusalReason(Condition.INTERNAL_ERROR)).toBe('internal_error');
    expect(attachRefusalReason('amqp:something-new')).toBe('internal_error');
    for (const condition of Object.values(Condition)) expect(AMQP_REFUSAL_REASONS.attach).toContain(attachRefusalReason(condition));
  });

  it('label values are Prometheus-safe snake case, unique within an operation', () => {
    for (const reasons of Object.values(AMQP_REFUSAL_REASONS)) {
      expect(new Set(reasons).size).toBe(reasons.length);
      for (const r of reasons) expect(r).toMatch(/^[a-z][a-z0-9_]*$/);
    }
  });
});
