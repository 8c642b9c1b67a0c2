import { describe, expect, it } from 'vitest';
import { entersQueues, lmqDispatchAllowed } from './dispatch-rules.js';

describe('dispatch rules', () => {
  it('keeps prepared and rolled-back records out of every queue', () => {
    expect([0x0, 0x4, 0x8, 0xc].map(entersQueues)).toEqual([true, false, true, false]);
    expect(entersQueues(0x4 | 0x1)).toBe(false);
  });

  it('dispatches into LMQs from normal topics only: not retry, system, schedule or half-message topics', () => {
    expect(lmqDispatchAllowed('Orders')).toBe(true);
    for (const t of ['%RETRY%g', 'rmq_sys_wheel_timer', 'SCHEDULE_TOPIC_XXXX', 'RMQ_SYS_TRANS_HALF_TOPIC']) expect(lmqDispatchAllowed(t)).toBe(false);
  });
});
