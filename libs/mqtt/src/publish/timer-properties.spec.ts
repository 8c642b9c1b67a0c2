import { describe, expect, it } from 'vitest';
import { putTimerProperties } from './timer-properties.js';

describe('MQTT 5 timer user properties', () => {
  it('copies TIMER_DELIVER_MS / TIMER_DELAY_SEC / TIMER_DELAY_MS, the last of a repeated name', () => {
    const out = new Map<string, string>();
    putTimerProperties(out, { TIMER_DELAY_MS: ['5', '1500'], TIMER_DELAY_SEC: '2', TIMER_DELIVER_MS: '1700000000000', other: 'x' });
    expect(Object.fromEntries(out)).toEqual({ TIMER_DELAY_MS: '1500', TIMER_DELAY_SEC: '2', TIMER_DELIVER_MS: '1700000000000' });
    putTimerProperties(out, undefined);
    expect(out.size).toBe(3);
  });
});
