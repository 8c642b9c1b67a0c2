import { PropertyKey, TIMER_TOPIC } from '@apogee/message';
import { describe, expect, it } from 'vitest';
import { BrokerError } from '../errors.js';
import { applyTimer, hasTimerProperty, timerDeliverMs } from './timer-routing.js';

const cfg = { timerWheelEnable: true, timerMaxDelaySec: 259_200 };
const now = 1_700_000_000_000;
const p = (o: Record<string, string>) => new Map(Object.entries(o));

function refusal(fn: () => unknown): BrokerError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BrokerError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('timerDeliverMs', () => {
  it('reads TIMER_DELAY_SEC, then TIMER_DELAY_MS, then TIMER_DELIVER_MS (RocketMQ order)', () => {
    expect(timerDeliverMs(p({ TIMER_DELAY_SEC: '3', TIMER_DELAY_MS: '50', TIMER_DELIVER_MS: String(now + 9) }), now, cfg)).toBe(now + 3000);
    expect(timerDeliverMs(p({ TIMER_DELAY_MS: '50', TIMER_DELIVER_MS: String(now + 9) }), now, cfg)).toBe(now + 50);
    expect(timerDeliverMs(p({ TIMER_DELIVER_MS: String(now + 9) }), now, cfg)).toBe(now + 9);
    expect(timerDeliverMs(p({ KEYS: 'k' }), now, cfg)).toBeNull();
  });

  it.each(['', 'soon', '1.5', '1e3', ' 5', '99999999999999999'])('refuses the unparsable value %j with MESSAGE_ILLEGAL', (v) => {
    const err = refusal(() => timerDeliverMs(p({ TIMER_DELAY_MS: v }), now, cfg));
    expect(err.kind).toBe('MESSAGE_ILLEGAL');
    expect(err.reason).toMatch(/TIMER_DELAY_MS .* is not an integer/);
  });

  it('accepts exactly the max delay and refuses one ms more, naming the limit', () => {
    expect(timerDeliverMs(p({ TIMER_DELAY_SEC: '259200' }), now, cfg)).toBe(now + 259_200_000);
    const err = refusal(() => timerDeliverMs(p({ TIMER_DELAY_MS: '259200001' }), now, cfg));
    expect(err.kind).toBe('MESSAGE_ILLEGAL');
    expect(err.reason).toContain('should not be bigger than the max delay 259200000ms');
  });

  it('refuses with SYSTEM_ERROR when the timer wheel is off', () => {
    const err = refusal(() => timerDeliverMs(p({ TIMER_DELAY_SEC: '1' }), now, { ...cfg, timerWheelEnable: false }));
    expect(err.kind).toBe('SYSTEM_ERROR');
    expect(err.reason).toMatch(/^accurate timer message is not enabled/);
    // Without timer properties nothing is refused.
    expect(timerDeliverMs(p({}), now, { ...cfg, timerWheelEnable: false })).toBeNull();
  });
});

describe('applyTimer', () => {
  it('redirects a future timer into the timer topic, queue 0, with REAL_TOPIC, REAL_QID and TIMER_OUT_MS (not rounded)', () => {
    const target = { topic: 'T', queueId: 3 };
    const props = p({ TIMER_DELIVER_MS: String(now + 1500), a: 'b' });
    expect(applyTimer(target, props, now, cfg)).toBe(true);
    expect(target).toEqual({ topic: TIMER_TOPIC, queueId: 0 });
    expect(Object.fromEntries(props)).toMatchObject({ REAL_TOPIC: 'T', REAL_QID: '3', TIMER_OUT_MS: String(now + 1500), a: 'b' });
  });

  it('leaves a message already due in its topic', () => {
    const target = { topic: 'T', queueId: 1 };
    const props = p({ TIMER_DELIVER_MS: String(now) });
    expect(applyTimer(target, props, now, cfg)).toBe(false);
    expect(target).toEqual({ topic: 'T', queueId: 1 });
    expect(props.has(PropertyKey.TIMER_OUT_MS)).toBe(false);
    expect(applyTimer(target, p({ TIMER_DELAY_MS: '-5' }), now, cfg)).toBe(false);
  });

  it('hasTimerProperty sees any of the three', () => {
    for (const k of ['TIMER_DELIVER_MS', 'TIMER_DELAY_SEC', 'TIMER_DELAY_MS']) expect(hasTimerProperty(p({ [k]: '1' }))).toBe(true);
    expect(hasTimerProperty(p({ TIMER_OUT_MS: '1' }))).toBe(false);
  });
});
