import { describe, expect, it } from 'vitest';
import { parseAuthConfig } from './auth-config.js';
import { Authorizer } from './authorizer.js';
import { groupResourceOf, topicResourceOf } from './resource-names.js';

const KEYS = { accessKey: 'alice-ak', secretKey: 'alice-secret' };

describe('store topics and groups in user-visible names', () => {
  it('maps every internal name to the name it holds', () => {
    expect(topicResourceOf('orders')).toEqual({ kind: 'names', publish: ['orders'], read: ['orders/#'] });
    expect(topicResourceOf('MQTT__24SYS')).toEqual({ kind: 'names', publish: ['$SYS/#'], read: ['$SYS/#'] });
    expect(topicResourceOf('MQTT_AMQP_5Fbob_7Cinbox')).toEqual({ kind: 'names', publish: ['AMQP_bob|inbox/#'], read: ['AMQP_bob|inbox/#'] });
    expect(topicResourceOf('AMQP_bob|inbox')).toEqual({ kind: 'names', publish: ['bob/inbox'], read: ['bob/inbox'] });
    expect(topicResourceOf('%LMQ%bob%secret%')).toEqual({ kind: 'names', publish: ['bob/secret'], read: ['bob/secret'] });
    expect(topicResourceOf('%LMQ%a%+%#%')).toEqual({ kind: 'names', publish: ['a/+/#'], read: ['a/+/#'] });
    expect(topicResourceOf('%RETRY%g1')).toEqual({ kind: 'group', group: 'g1' });
    expect(topicResourceOf('%DLQ%AMQP_bob|inbox')).toEqual({ kind: 'group', group: 'AMQP_bob|inbox' });
    expect(topicResourceOf('RMQ_SYS_TRACE_TOPIC')).toEqual({ kind: 'trace' });
    for (const t of ['SCHEDULE_TOPIC_XXXX', 'rmq_sys_x', '%OTHER%', 'TBW102', '%LMQ%a~H0123%']) expect(topicResourceOf(t), t).toEqual({ kind: 'reserved' });
    expect(groupResourceOf('AMQP_bob|inbox')).toEqual({ kind: 'names', read: ['bob/inbox'] });
    expect(groupResourceOf('AMQP_topic|a|b')).toEqual({ kind: 'names', read: ['topic/a/b', 'a/b'] });
    expect(groupResourceOf('AMQP_DLQ_bob|inbox')).toEqual({ kind: 'names', read: ['bob/inbox'] });
    for (const g of ['%LMQ%dev-1', '%MQTTSHARE%g1|a', 'AMQP_SUB_x', 'AMQP_TMP_y']) expect(groupResourceOf(g), g).toEqual({ kind: 'reserved' });
    expect(groupResourceOf('orders-consumers')).toEqual({ kind: 'plain', group: 'orders-consumers' });
  });
});

describe('Authorizer for remoting requests', () => {
  const auth = new Authorizer(
    parseAuthConfig(
      {
        allowAnonymous: false,
        users: [
          { username: 'alice', ...KEYS, publish: { allow: ['alice/#'] }, subscribe: { allow: ['alice/#'] }, groups: { allow: ['alice-g', 'AMQP_never'] } },
          { username: 'ops', accessKey: 'ops-key', secretKey: 'ops-secret', admin: true, subscribe: { allow: ['#'], deny: ['bob/secret'] } },
          {
            username: 'legacy',
            accessKey: 'legacy-ak',
            secretKey: 'legacy-sk',
            defaultTopicPerm: 'SUB',
            topicPerms: ['orders=PUB|SUB', 'vault=DENY'],
            defaultGroupPerm: 'DENY',
            groupPerms: ['legacy-g=SUB'],
          },
        ],
      },
      'test',
    ),
  );
  const alice = auth.principalOfAccessKey('alice-ak')!;
  const ops = auth.principalOfAccessKey('ops-key')!;
  const legacy = auth.principalOfAccessKey('legacy-ak')!;

  it('knows principals by access key, one object each (decisions are cached per principal)', () => {
    expect(alice.username).toBe('alice');
    expect(auth.principalOfAccessKey('alice-ak')).toBe(alice);
    expect(auth.principalOfAccessKey('nobody')).toBeUndefined();
    expect(auth.accounts().map((a) => a.accessKey)).toEqual(['alice-ak', 'ops-key', 'legacy-ak']);
  });

  it('reads a store topic only with rules covering everything stored in it', () => {
    expect(auth.mayAccessStoreTopic(alice, 'alice', 'read')).toBe(true);
    expect(auth.mayAccessStoreTopic(alice, 'alice', 'publish')).toBe(true);
    expect(auth.mayAccessStoreTopic(alice, 'bob', 'read')).toBe(false);
    expect(auth.mayAccessStoreTopic(alice, '%LMQ%bob%secret%', 'read')).toBe(false);
    expect(auth.mayAccessStoreTopic(alice, '%LMQ%alice%x%', 'read')).toBe(true);
    expect(auth.mayAccessStoreTopic(alice, 'AMQP_alice|inbox', 'read')).toBe(true);
    expect(auth.mayAccessStoreTopic(alice, 'AMQP_bob|vault', 'read')).toBe(false);
    // ops may read everything but bob/secret: not the store topic `bob` as a whole.
    expect(auth.mayAccessStoreTopic(ops, 'bob', 'read')).toBe(false);
    expect(auth.mayAccessStoreTopic(ops, 'carol', 'read')).toBe(true);
    expect(auth.mayAccessStoreTopic(ops, 'SCHEDULE_TOPIC_XXXX', 'read')).toBe(true); // reserved: admins only
    expect(auth.mayAccessStoreTopic(alice, 'SCHEDULE_TOPIC_XXXX', 'read')).toBe(false);
    expect(auth.mayAccessStoreTopic(alice, 'RMQ_SYS_TRACE_TOPIC', 'publish')).toBe(true);
  });

  it('decides groups by the group rules, internal groups by the names they read', () => {
    expect(auth.mayUseGroup(alice, 'alice-g')).toBe(true);
    expect(auth.mayUseGroup(alice, 'bob-g')).toBe(false);
    expect(auth.mayAccessStoreTopic(alice, '%RETRY%alice-g', 'publish')).toBe(true);
    expect(auth.mayAccessStoreTopic(alice, '%DLQ%bob-g', 'read')).toBe(false);
    expect(auth.mayUseGroup(alice, 'AMQP_alice|inbox')).toBe(true);
    expect(auth.mayUseGroup(alice, 'AMQP_bob|inbox')).toBe(false);
    expect(auth.mayUseGroup(alice, '%LMQ%bob-phone')).toBe(false);
    expect(auth.mayUseGroup(ops, '%LMQ%bob-phone')).toBe(true);
  });

  it('turns RocketMQ topicPerms / groupPerms into the same rules', () => {
    expect(auth.mayAccessStoreTopic(legacy, 'orders', 'publish')).toBe(true);
    expect(auth.mayAccessStoreTopic(legacy, 'orders', 'read')).toBe(true);
    expect(auth.mayAccessStoreTopic(legacy, 'news', 'read')).toBe(true);
    expect(auth.mayAccessStoreTopic(legacy, 'news', 'publish')).toBe(false);
    expect(auth.mayAccessStoreTopic(legacy, 'vault', 'read')).toBe(false);
    expect(auth.canPublish(legacy, 'orders/eu')).toBe(true);
    expect(auth.canRead(legacy, 'vault/x')).toBe(false);
    expect(auth.mayUseGroup(legacy, 'legacy-g')).toBe(true);
    expect(auth.mayUseGroup(legacy, 'other')).toBe(false);
  });

  it('keeps access-key-only users out of password logins', async () => {
    expect(await auth.authenticate('alice', 'alice-secret', 'c1')).toEqual({ ok: false, reason: 'BAD_CREDENTIALS' });
  });
});

describe('auth config for RocketMQ keys', () => {
  it('refuses half a key pair, short keys, a user without any credential, keys used twice, mixed rule styles', () => {
    const bad = (users: unknown[], msg: RegExp) => expect(() => parseAuthConfig({ users }, 'cfg')).toThrow(msg);
    bad([{ username: 'a', accessKey: 'abcdefg' }], /accessKey and secretKey go together/);
    bad([{ username: 'a', accessKey: 'abc', secretKey: 'abcdefg' }], /at least 7 characters/);
    bad([{ username: 'a' }], /needs a password, an accessKey\/secretKey pair, or both/);
    bad(
      [
        { username: 'a', ...KEYS },
        { username: 'b', ...KEYS },
      ],
      /belongs to another user too/,
    );
    bad([{ username: 'a', ...KEYS, publish: { allow: ['#'] }, topicPerms: ['t=PUB'] }], /not both/);
    bad([{ username: 'a', ...KEYS, topicPerms: ['a/b=PUB'] }], /is not "name=/);
    bad([{ username: 'a', ...KEYS, secret: 'x' }], /unknown user setting "secret"/);
    expect(() => parseAuthConfig({ anonymous: { admin: 'yes' } }, 'cfg')).toThrow(/auth.anonymous.admin must be true or false/);
  });
});
