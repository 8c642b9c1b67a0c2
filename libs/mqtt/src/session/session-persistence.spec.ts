import type { Engine } from '@apogee/broker';
import { describe, expect, it } from 'vitest';
import { SessionPersistence } from './session-persistence.js';
import type { SubscriptionState } from './session-types.js';

/** The two engine calls offsets go through, recorded; `written` is what maxOffset reports. */
function fakeStore() {
  const commits: Array<[string, number]> = [];
  const state = { written: 0 };
  const store = {
    maxOffset: () => state.written,
    commitOffset: async (_group: string, lmq: string, _queueId: number, offset: number) => void commits.push([lmq, offset]),
    metadata: { put: async () => {} },
    topicFilters: { hold: async () => {} },
  } as unknown as Engine;
  return { store, commits, state };
}

const sub = (readOffset: number): SubscriptionState => ({ filter: 'a/#', lmq: '%LMQ%a', qos: 1, readOffset, reading: false, again: false });

describe('SessionPersistence', () => {
  it('never commits an offset past what the store has written, and commits the rest once it is', async () => {
    const { store, commits, state } = fakeStore();
    const s = sub(10);
    const p = new SessionPersistence(
      'c1',
      store,
      () => ({ v: 1, expirySeconds: 0, disconnectedAt: 0, subs: [], pendingRel: [], pendingComp: [] }),
      () => [{ sub: s, offset: s.readOffset }],
      () => {},
    );
    // Delivered from memory up to 10, but only 7 are written: 7 is committed, not 10.
    state.written = 7;
    p.offsetsChanged();
    await p.flush();
    expect(commits).toEqual([['%LMQ%a', 7]]);
    // The write completes: the next flush commits the real progress without another offsetsChanged.
    state.written = 12;
    await p.flush();
    expect(commits).toEqual([
      ['%LMQ%a', 7],
      ['%LMQ%a', 10],
    ]);
    await p.flush();
    expect(commits).toHaveLength(2);
  });
});
