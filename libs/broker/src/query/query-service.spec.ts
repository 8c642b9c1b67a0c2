import { decodeRecord } from '@apogee/message';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BrokerHarness, brokerError, props, sendRequest } from '../test-support.js';

let h: BrokerHarness;

beforeEach(async () => {
  h = await BrokerHarness.create();
});

afterEach(async () => {
  await h.dispose();
});

describe('QueryService', () => {
  it('finds messages by key, by unique key and by commit-log offset', async () => {
    const a = await h.broker.sender.send(sendRequest('T', 'a', { queueId: 0, properties: props({ KEYS: 'order-1 shared', UNIQ_KEY: 'U-A' }) }));
    await h.broker.sender.send(sendRequest('T', 'b', { queueId: 0, properties: props({ KEYS: 'shared', UNIQ_KEY: 'U-B' }) }));
    await h.store.flush();
    const byKey = await h.broker.query.byKey('T', 'shared', 32, 0, 0, false);
    expect(byKey.map((x) => decodeRecord(x.record).body.toString()).sort()).toEqual(['a', 'b']);
    expect((await h.broker.query.byKey('T', 'shared', 1, 0, 0, false)).length).toBe(1);
    const byUniq = await h.broker.query.byKey('T', 'U-B', 32, 0, 0, true);
    expect(byUniq.map((x) => decodeRecord(x.record).body.toString())).toEqual(['b']);
    const rec = await h.broker.query.byOffset(a.commitLogOffsets[0]!);
    expect(decodeRecord(rec).msgId).toBe(a.msgIds[0]);
  });

  it('refuses an empty key, a bad offset and an offset with no message', async () => {
    await brokerError(() => h.broker.query.byKey('T', '', 32, 0, 0, false), 'INVALID_PARAMETER');
    await brokerError(() => h.broker.query.byOffset(-1), 'INVALID_PARAMETER');
    await brokerError(() => h.broker.query.byOffset(10_000_000), 'NOT_FOUND');
  });
});
