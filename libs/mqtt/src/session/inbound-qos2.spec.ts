import { BrokerError } from '@apogee/broker';
import { describe, expect, it } from 'vitest';
import { publishFailureCode } from '../protocol/errors.js';
import { ReasonCode } from '../protocol/reason-codes.js';
import type { PublishInput } from '../publish/publisher.js';
import { type ExactlyOnceStore, InboundQos2 } from './inbound-qos2.js';
import { decodeSessionRecord, encodeSessionRecord } from './session-record.js';

const input: PublishInput = { topic: 'a/b', payload: Buffer.from('x'), qos: 2, retain: false, clientId: 'c1' };

function sink(storedKeys: Set<string>): ExactlyOnceStore & { stores: string[] } {
  let n = 0;
  const stores: string[] = [];
  return {
    stores,
    newUniqKey: () => `k${n++}`,
    wasStored: (_topic, uniq) => Promise.resolve(storedKeys.has(uniq)),
    store: (i) => {
      stores.push(i.uniqKey!);
      return Promise.resolve();
    },
  };
}

describe('InboundQos2', () => {
  it('counts QoS 1 and 2 against one Receive Maximum per connection window', () => {
    const q = new InboundQos2(
      () => {},
      () => Promise.resolve(),
    );
    const w = q.openWindow();
    expect(q.admit(w, 1, 1, 2)).toBe(true);
    expect(q.admit(w, 2, 2, 2)).toBe(true);
    expect(q.admit(w, 3, 1, 2)).toBe(false);
    // A new connection's window starts empty.
    expect(q.admit(q.openWindow(), 3, 1, 2)).toBe(true);
    q.acknowledged(w);
    expect(q.admit(w, 3, 2, 2)).toBe(true);
    expect(q.admit(w, 4, 1, Infinity)).toBe(true);
    expect(w.inflight).toBe(3);
  });

  it('stores once, keeps the id until PUBREL, and frees the slot then', async () => {
    let changes = 0;
    const q = new InboundQos2(
      () => changes++,
      () => Promise.resolve(),
    );
    const w = q.openWindow();
    const s = sink(new Set());
    q.admit(w, 7, 2, 10);
    const first = q.store(7, input, q.entry(7), s);
    // Re-sent while storing: the same store, not a second one.
    expect(q.store(7, input, q.entry(7), s)).toBe(first);
    await first;
    expect(s.stores).toEqual(['k0']);
    expect(q.entry(7)).toMatchObject({ uniq: 'k0', stored: true });
    expect(q.record()).toEqual([[7, 'k0']]);
    q.released(w, 7);
    expect(q.entry(7)).toBeUndefined();
    expect(w.inflight).toBe(0);
    expect(changes).toBe(2);
    // A PUBREL for an unknown id changes nothing.
    q.released(w, 7);
    expect(w.inflight).toBe(0);
    expect(changes).toBe(2);
  });

  it('a refused store forgets the id only when it arrived on that connection', () => {
    const q = new InboundQos2(
      () => {},
      () => Promise.resolve(),
    );
    q.restore([[5, 'u5']]);
    const other = q.openWindow();
    other.inflight = 1;
    q.refused(other, 5);
    expect(q.entry(5)).toBeDefined();
    const w = q.openWindow();
    q.admit(w, 5, 2, 10);
    q.refused(w, 5);
    expect(q.entry(5)).toBeUndefined();
    expect(w.inflight).toBe(0);
  });

  it('after a restart, a surviving intent is looked up by its UNIQ_KEY instead of stored again', async () => {
    const q = new InboundQos2(
      () => {},
      () => Promise.resolve(),
    );
    q.restore([3, [4, 'u4'], [6, 'u6']]);
    expect(q.entry(3)).toMatchObject({ uniq: '', stored: true });
    expect(q.entry(4)).toMatchObject({ uniq: 'u4', stored: false });
    const s = sink(new Set(['u4']));
    await q.store(4, input, q.entry(4), s);
    await q.store(6, input, q.entry(6), s);
    expect(s.stores).toEqual(['u6']);
    expect(q.entry(4)?.stored).toBe(true);
  });

  it('round-trips through the session record in its existing format', () => {
    const q = new InboundQos2(
      () => {},
      () => Promise.resolve(),
    );
    const old = Buffer.from('{"v":1,"expirySeconds":-1,"disconnectedAt":5,"subs":[],"pendingRel":[9,[10,"u10"]]}');
    q.restore(decodeSessionRecord(old)!.pendingRel);
    const again = encodeSessionRecord({ v: 1, expirySeconds: -1, disconnectedAt: 5, subs: [], pendingRel: q.record() });
    expect(again.toString()).toBe('{"v":1,"expirySeconds":-1,"disconnectedAt":5,"subs":[],"pendingRel":[[9,""],[10,"u10"]]}');
  });
});

describe('publishFailureCode', () => {
  it('maps a busy or full broker to Quota exceeded, anything else to Unspecified error', () => {
    expect(publishFailureCode(new BrokerError('SYSTEM_BUSY', 'busy'))).toBe(ReasonCode.QUOTA_EXCEEDED);
    expect(publishFailureCode(new BrokerError('SERVICE_NOT_AVAILABLE', 'full'))).toBe(0x97);
    expect(publishFailureCode(new Error('disk'))).toBe(ReasonCode.UNSPECIFIED_ERROR);
    expect(ReasonCode.UNSPECIFIED_ERROR).toBe(0x80);
  });
});
