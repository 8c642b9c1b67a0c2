import { describe, expect, it } from 'vitest';
import { parseSubscription } from '../filter/tag-filter.js';
import { testChannel } from '../test-support.js';
import { ConsumerRegistry, type ConsumerRegistration } from './consumer-registry.js';

const reg = (clientId: string, subs: Array<[string, string, number]> = [['T', '*', 1]], group = 'g'): ConsumerRegistration => ({
  group,
  clientId,
  consumeType: 'CONSUME_PASSIVELY',
  messageModel: 'CLUSTERING',
  consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
  subscriptions: subs.map(([topic, expr, v]) => parseSubscription(topic, expr, 'TAG', v)),
});

function registry(now: () => number = () => 0) {
  const r = new ConsumerRegistry(now);
  const changes: string[] = [];
  r.onMembershipChange((g) => changes.push(g));
  return { r, changes };
}

describe('ConsumerRegistry', () => {
  it('announces a new member, not a refresh', () => {
    const { r, changes } = registry();
    const ch = testChannel('ch1');
    expect(r.register(ch, reg('c1'))).toBe(true);
    expect(changes).toEqual(['g']);
    expect(r.register(ch, reg('c1'))).toBe(false);
    expect(changes).toEqual(['g']);
    expect(r.get('g')).toMatchObject({ groupName: 'g', consumeType: 'CONSUME_PASSIVELY', messageModel: 'CLUSTERING' });
    expect(r.get('g')!.connections.get('ch1')).toMatchObject({ clientId: 'c1', language: 'JAVA', version: 0 });
    expect(r.groupNames()).toEqual(['g']);
    expect(r.groupsOfTopic('T')).toEqual(['g']);
    expect(r.groupsOfTopic('U')).toEqual([]);
  });

  it('dedupes client ids over several connections', () => {
    const { r, changes } = registry();
    r.register(testChannel('ch1'), reg('c1'));
    r.register(testChannel('ch2'), reg('c1'));
    r.register(testChannel('ch3'), reg('c2'));
    expect(r.clientIds('g')).toEqual(['c1', 'c2']);
    expect(r.get('g')!.connections.size).toBe(3);
    expect(changes).toEqual(['g', 'g', 'g']);
    expect(r.clientIds('none')).toEqual([]);
  });

  it('announces unregister and drops an empty group', () => {
    const { r, changes } = registry();
    const a = testChannel('a');
    const b = testChannel('b');
    r.register(a, reg('c1'));
    r.register(b, reg('c2'));
    changes.length = 0;
    r.unregister('g', a);
    expect(changes).toEqual(['g']);
    expect(r.clientIds('g')).toEqual(['c2']);
    r.unregister('g', a); // not a member any more: nothing
    r.unregister('other', b);
    expect(changes).toEqual(['g']);
    r.unregister('g', b);
    expect(changes).toEqual(['g', 'g']);
    expect(r.get('g')).toBeUndefined();
  });

  it('announces every group a closed channel leaves', () => {
    const { r, changes } = registry();
    const ch = testChannel('ch');
    const other = testChannel('other');
    r.register(ch, reg('c1', [['T', '*', 1]], 'g1'));
    r.register(ch, reg('c1', [['T', '*', 1]], 'g2'));
    r.register(other, reg('c2', [['T', '*', 1]], 'g2'));
    r.register(other, reg('c2', [['T', '*', 1]], 'g3'));
    changes.length = 0;
    r.channelClosed(ch);
    expect(changes.sort()).toEqual(['g1', 'g2']);
    expect(r.get('g1')).toBeUndefined();
    expect(r.clientIds('g2')).toEqual(['c2']);
    expect(r.clientIds('g3')).toEqual(['c2']);
  });

  it('drops connections silent for longer than the timeout and announces it', () => {
    let t = 0;
    const { r, changes } = registry(() => t);
    const old = testChannel('old');
    const fresh = testChannel('fresh');
    r.register(old, reg('c1'));
    t = 100_000;
    r.register(fresh, reg('c2'));
    changes.length = 0;
    t = 120_000; // old: silent exactly 120 s — kept
    expect(r.scanExpired(120_000)).toEqual([]);
    expect(changes).toEqual([]);
    t = 120_001;
    expect(r.scanExpired(120_000)).toEqual([old]);
    expect(changes).toEqual(['g']);
    expect(r.clientIds('g')).toEqual(['c2']);
    t = 300_000;
    expect(r.scanExpired(120_000)).toEqual([fresh]);
    expect(r.get('g')).toBeUndefined();
    expect(changes).toEqual(['g', 'g']);
  });

  it('replaces a subscription only with a newer subVersion', () => {
    const { r } = registry();
    const a = testChannel('a');
    const b = testChannel('b');
    r.register(a, reg('c1', [['T', 'x', 5]]));
    r.register(b, reg('c2', [['T', 'old', 3]]));
    expect(r.findSubscription('g', 'T')!.subString).toBe('x');
    r.register(b, reg('c2', [['T', 'y || z', 6]]));
    expect(r.findSubscription('g', 'T')).toMatchObject({ subString: 'y || z', tagsSet: ['y', 'z'], subVersion: 6 });
    expect(r.findSubscription('g', 'U')).toBeUndefined();
    expect(r.findSubscription('nope', 'T')).toBeUndefined();
  });

  it('forgets topics a lone member no longer subscribes to', () => {
    const { r } = registry();
    const a = testChannel('a');
    r.register(
      a,
      reg('c1', [
        ['T', '*', 1],
        ['U', '*', 1],
      ]),
    );
    expect(r.groupsOfTopic('U')).toEqual(['g']);
    r.register(a, reg('c1', [['T', '*', 2]]));
    expect(r.findSubscription('g', 'U')).toBeUndefined();
    expect(r.findSubscription('g', 'T')).toBeDefined();
  });

  it('keeps topics another member still subscribes to when a second member joins with fewer', () => {
    const { r } = registry();
    r.register(
      testChannel('a'),
      reg('c1', [
        ['T', '*', 1],
        ['U', '*', 1],
      ]),
    );
    r.register(testChannel('b'), reg('c2', [['T', '*', 2]]));
    expect(r.findSubscription('g', 'U')).toBeDefined();
    expect(r.groupsOfTopic('U')).toEqual(['g']);
  });
});
