import type { TopicCounters } from '@apogee/broker';

/** A topic's message rates over the last window (messages per second). */
export interface TopicRate {
  inPerSecond: number;
  outPerSecond: number;
}

/** Rates are taken over this long: short enough to follow a load, long enough not to flicker. */
export const TOPIC_RATE_WINDOW_MS = 10_000;

/**
 * Per-topic message rates for the admin API's topic views, from the engine's per-topic counters
 * (the ones /metrics exposes): every TOPIC_RATE_WINDOW_MS the counters are read once (one pass
 * over at most MAX_LABEL_SETS topics) and each topic's growth since the previous reading is divided
 * by the time between the two. A topic seen for the first time has no rate until the next reading.
 */
export class TopicRates {
  private last: { at: number; counts: Map<string, { in: number; out: number }> } | null = null;
  private rates = new Map<string, TopicRate>();

  constructor(private readonly counters: () => Iterable<[string, TopicCounters]>) {}

  /** Called by the stats sampler's tick; reads the counters when a window has passed. */
  tick(now: number): void {
    if (this.last && now - this.last.at < TOPIC_RATE_WINDOW_MS) return;
    const counts = new Map<string, { in: number; out: number }>();
    for (const [topic, c] of this.counters()) counts.set(topic, { in: c.messagesIn, out: c.messagesOut });
    if (this.last) {
      const seconds = Math.max(now - this.last.at, 1) / 1000;
      const rates = new Map<string, TopicRate>();
      for (const [topic, c] of counts) {
        const before = this.last.counts.get(topic);
        if (before) rates.set(topic, { inPerSecond: Math.max(0, c.in - before.in) / seconds, outPerSecond: Math.max(0, c.out - before.out) / seconds });
      }
      this.rates = rates;
    }
    this.last = { at: now, counts };
  }

  /** The topic's rates over the last window; zero for a topic nothing was sent to or pulled from. */
  of(topic: string): TopicRate {
    return this.rates.get(topic) ?? { inPerSecond: 0, outPerSecond: 0 };
  }
}
