import { describe, expect, it } from 'vitest';
import { LoginThrottle, MAX_FAILURES, WINDOW_MS } from './login-throttle.js';

describe('LoginThrottle', () => {
  it('makes an address wait once it failed too often within the window, then lets it try again', () => {
    let t = 1_000;
    const th = new LoginThrottle(() => t);
    for (let i = 0; i < MAX_FAILURES - 1; i++) th.failed('10.0.0.1');
    expect(th.waitMs('10.0.0.1')).toBe(0);
    th.failed('10.0.0.1');
    t += 10_000;
    expect(th.waitMs('10.0.0.1')).toBe(WINDOW_MS - 10_000);
    expect(th.waitMs('10.0.0.2')).toBe(0); // other addresses are not affected
    t += WINDOW_MS;
    expect(th.waitMs('10.0.0.1')).toBe(0);
    th.failed('10.0.0.1'); // a new window
    expect(th.waitMs('10.0.0.1')).toBe(0);
  });
});
