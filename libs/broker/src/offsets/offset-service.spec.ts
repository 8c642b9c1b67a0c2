import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BrokerHarness, brokerError, sendRequest } from '../test-support.js';

let h: BrokerHarness;

beforeEach(async () => {
  h = await BrokerHarness.create();
});

afterEach(async () => {
  await h.dispose();
});

describe('OffsetService', () => {
  it('answers the stored offset', async () => {
    await h.broker.offsets.commit('g', 'T', 1, 42);
    expect(h.broker.offsets.query('g', 'T', 1)).toBe(42);
    expect(h.broker.offsets.query('g', 'T', 1, false)).toBe(42);
    expect(h.broker.offsets.query('other', 'T', 1, false)).toBeUndefined();
    await h.broker.offsets.commit('g', 'T', 1, 0);
    expect(h.broker.offsets.query('g', 'T', 1, false)).toBe(0);
  });

  it('with no stored offset answers 0 for a queue that starts at 0 and holds messages', async () => {
    await h.broker.sender.send(sendRequest('T', 'x', { queueId: 0 }));
    expect(h.broker.offsets.query('g', 'T', 0)).toBe(0);
  });

  it('with no stored offset answers undefined for an empty queue or when setZeroIfNotFound is false', async () => {
    expect(h.broker.offsets.query('g', 'T', 0)).toBeUndefined();
    await h.broker.sender.send(sendRequest('T', 'x', { queueId: 0 }));
    expect(h.broker.offsets.query('g', 'T', 0, false)).toBeUndefined();
    expect(h.broker.offsets.query('g', 'T', 1)).toBeUndefined();
  });

  it('refuses an over-long topic or LMQ name as INVALID_PARAMETER naming the limit (it reached the store as an unexpected failure)', async () => {
    const err = await brokerError(() => h.broker.offsets.commit('g', 'a'.repeat(300), 0, 1), 'INVALID_PARAMETER');
    expect(err.reason).toMatch(/topic name is 300 characters; the limit is 127/);
    const lmq = await brokerError(() => h.broker.offsets.commit('g', `%LMQ%${'b'.repeat(2000)}`, 0, 1), 'INVALID_PARAMETER');
    expect(lmq.reason).toMatch(/longer than 1024 bytes/);
    expect(h.store.getConsumerOffset('g', 'a'.repeat(300), 0)).toBeUndefined();
  });

  it('ignores negative commits and keeps the previous offset', async () => {
    await h.broker.offsets.commit('g', 'T', 0, -1);
    expect(h.store.getConsumerOffset('g', 'T', 0)).toBeUndefined();
    await h.broker.offsets.commit('g', 'T', 0, 5);
    await h.broker.offsets.commit('g', 'T', 0, -1);
    expect(h.broker.offsets.query('g', 'T', 0)).toBe(5);
  });

  it('refuses non-integer offsets and auto-creates the group on commit', async () => {
    await brokerError(() => h.broker.offsets.commit('g', 'T', 0, 1.5), 'INVALID_PARAMETER');
    await brokerError(() => h.broker.offsets.commit('g', 'T', 0, Number.NaN), 'INVALID_PARAMETER');
    expect(h.broker.groups.get('fresh')).toBeUndefined();
    await h.broker.offsets.commit('fresh', 'T', 0, 1);
    expect(h.broker.groups.get('fresh')).toBeDefined();
  });

  it('keeps committed offsets across a restart', async () => {
    await h.broker.offsets.commit('g', 'T', 2, 7);
    await h.reopen();
    expect(h.broker.offsets.query('g', 'T', 2, false)).toBe(7);
  });
});
