import rhea from 'rhea';
import { describe, expect, it } from 'vitest';
import { toStoredForm } from './to-store.js';

const encode = (m: Record<string, unknown>): Buffer => rhea.message.encode(m);

describe('AMQP timer annotations', () => {
  it('maps x-opt-delivery-delay and x-opt-delivery-time (long or timestamp) to the timer properties', () => {
    const delay = toStoredForm(encode({ body: 'x', message_annotations: { 'x-opt-delivery-delay': 2500 } }));
    expect(delay.properties.get('TIMER_DELAY_MS')).toBe('2500');
    const at = toStoredForm(encode({ body: 'x', message_annotations: { 'x-opt-delivery-time': rhea.types.wrap_long(1_700_000_000_123) } }));
    expect(at.properties.get('TIMER_DELIVER_MS')).toBe('1700000000123');
    const ts = toStoredForm(encode({ body: 'x', message_annotations: { 'x-opt-delivery-time': new Date(1_700_000_000_456) } }));
    expect(ts.properties.get('TIMER_DELIVER_MS')).toBe('1700000000456');
  });

  it('maps application-properties named as RocketMQ (number or string); annotations win', () => {
    const ap = toStoredForm(encode({ body: 'x', application_properties: { TIMER_DELAY_SEC: 3, TIMER_DELIVER_MS: '1700000000000', other: 'o' } }));
    expect(ap.properties.get('TIMER_DELAY_SEC')).toBe('3');
    expect(ap.properties.get('TIMER_DELIVER_MS')).toBe('1700000000000');
    expect(ap.properties.get('other')).toBe('o');
    const both = toStoredForm(encode({ body: 'x', application_properties: { TIMER_DELAY_MS: 1 }, message_annotations: { 'x-opt-delivery-delay': 9 } }));
    expect(both.properties.get('TIMER_DELAY_MS')).toBe('9');
    expect(toStoredForm(encode({ body: 'plain' })).properties.has('TIMER_DELAY_MS')).toBe(false);
  });
});
