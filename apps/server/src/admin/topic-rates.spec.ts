import type { TopicCounters } from '@apogee/broker';
import { describe, expect, it } from 'vitest';
import { TOPIC_RATE_WINDOW_MS, TopicRates } from './topic-rates.js';

describe('TopicRates', () => {
  it("divides each topic's growth over a window by its length, and reads the counters once a window", () => {
    const a: TopicCounters = { messagesIn: 0, bytesIn: 0, messagesOut: 0 };
    let reads = 0;
    const rates = new TopicRates(() => {
      reads++;
      return [['A', a]];
    });
    rates.tick(0);
    expect(rates.of('A')).toEqual({ inPerSecond: 0, outPerSecond: 0 });
    a.messagesIn = 500;
    a.messagesOut = 100;
    rates.tick(TOPIC_RATE_WINDOW_MS / 2);
    expect(reads).toBe(1);
    rates.tick(TOPIC_RATE_WINDOW_MS);
    expect(rates.of('A')).toEqual({ inPerSecond: 500 / (TOPIC_RATE_WINDOW_MS / 1000), outPerSecond: 100 / (TOPIC_RATE_WINDOW_MS / 1000) });
    rates.tick(2 * TOPIC_RATE_WINDOW_MS);
    expect(rates.of('A')).toEqual({ inPerSecond: 0, outPerSecond: 0 });
    expect(rates.of('unknown')).toEqual({ inPerSecond: 0, outPerSecond: 0 });
  });
});
