import { describe, expect, it } from 'vitest';
import { parseAuthConfig } from './auth-config.js';
import { Authorizer } from './authorizer.js';
import { hashPassword, verifyPassword } from './password-hash.js';
import { patternCovers, patternMatches, patternOverlaps } from './topic-pattern.js';

describe('password hashes', () => {
  it('verifies the right password only, and refuses malformed hashes', async () => {
    const h = await hashPassword('s3cret', 1024);
    expect(h).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(await verifyPassword('s3cret', h)).toBe(true);
    expect(await verifyPassword('S3cret', h)).toBe(false);
    expect(await verifyPassword('s3cret', 'plain')).toBe(false);
    expect(await hashPassword('s3cret', 1024)).not.toBe(h); // salted
  });
});

describe('topic patterns', () => {
  it('match, cover and overlap with MQTT wildcard rules', () => {
    expect(patternMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(patternMatches('a/#', 'a')).toBe(true);
    expect(patternMatches('#', '$SYS/x')).toBe(true); // '#' alone: everything
    expect(patternMatches('+/#', '$SYS/x')).toBe(false);
    expect(patternMatches('$SYS/#', '$SYS/x')).toBe(true);
    expect(patternCovers('a/#', 'a/+/c')).toBe(true);
    expect(patternCovers('a/+', 'a/#')).toBe(false);
    expect(patternCovers('test/nosubscribe', 'test/nosubscribe')).toBe(true);
    expect(patternOverlaps('a/b', '#')).toBe(true);
    expect(patternOverlaps('a/b', 'a/c')).toBe(false);
    expect(patternOverlaps('a/+', 'a/b/c')).toBe(false);
  });
});

describe('Authorizer', () => {
  it('authenticates users, refuses bad credentials and (when configured) anonymous clients', async () => {
    const pw = await hashPassword('pw', 1024);
    const a = new Authorizer(parseAuthConfig({ allowAnonymous: false, users: [{ username: 'dev', password: pw }] }, 'test'));
    expect((await a.authenticate('dev', Buffer.from('pw'), 'c1')).ok).toBe(true);
    expect(await a.authenticate('dev', Buffer.from('nope'), 'c1')).toEqual({ ok: false, reason: 'BAD_CREDENTIALS' });
    expect(await a.authenticate('ghost', Buffer.from('pw'), 'c1')).toEqual({ ok: false, reason: 'BAD_CREDENTIALS' });
    expect(await a.authenticate(undefined, undefined, 'c1')).toEqual({ ok: false, reason: 'NOT_AUTHORIZED' });
  });

  it('applies allow and deny rules (deny wins), with %u and %c', async () => {
    const pw = await hashPassword('pw', 1024);
    const a = new Authorizer(
      parseAuthConfig(
        {
          users: [{ username: 'dev', password: pw, publish: { allow: ['devices/%u/#'] }, subscribe: { allow: ['#'], deny: ['secret/#', 'test/nosubscribe'] } }],
          anonymous: { publish: { allow: [] }, subscribe: { allow: ['public/#', 'clients/%c'] } },
        },
        'test',
      ),
    );
    const dev = (await a.authenticate('dev', 'pw', 'c1')) as { ok: true; principal: import('./authorizer.js').Principal };
    expect(a.canPublish(dev.principal, 'devices/dev/temp')).toBe(true);
    expect(a.canPublish(dev.principal, 'devices/other/temp')).toBe(false);
    expect(a.canSubscribe(dev.principal, '#')).toBe(true);
    expect(a.canRead(dev.principal, 'secret/x')).toBe(false); // '#' is allowed, but not this topic's messages
    expect(a.canSubscribe(dev.principal, 'secret/+')).toBe(false);
    expect(a.canSubscribe(dev.principal, 'test/nosubscribe')).toBe(false);
    const anon = (await a.authenticate(undefined, undefined, 'c9')) as { ok: true; principal: import('./authorizer.js').Principal };
    expect(a.canPublish(anon.principal, 'public/x')).toBe(false);
    expect(a.canSubscribe(anon.principal, 'public/+')).toBe(true);
    expect(a.canSubscribe(anon.principal, 'clients/c9')).toBe(true);
    expect(a.canSubscribe(anon.principal, 'clients/c8')).toBe(false);
    expect(a.canSubscribe(anon.principal, 'private/x')).toBe(false);
  });

  it('answers repeated publish and read checks the same from its per-principal cache, past its size bound too', async () => {
    const a = new Authorizer(
      parseAuthConfig({ anonymous: { publish: { allow: ['in/%c/#'], deny: ['in/%c/secret'] }, subscribe: { allow: ['out/#'], deny: ['out/x/#'] } } }, 'test'),
    );
    const c1 = (await a.authenticate(undefined, undefined, 'c1')) as { ok: true; principal: import('./authorizer.js').Principal };
    const c2 = (await a.authenticate(undefined, undefined, 'c2')) as { ok: true; principal: import('./authorizer.js').Principal };
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 3000; i++) {
        expect(a.canPublish(c1.principal, `in/c1/t${i}`)).toBe(true);
        expect(a.canRead(c1.principal, `out/${i % 2 ? 'x' : 'y'}/t${i}`)).toBe(i % 2 === 0);
      }
      expect(a.canPublish(c1.principal, 'in/c1/secret')).toBe(false);
      // The same topic for another principal is decided for that principal (%c differs).
      expect(a.canPublish(c2.principal, 'in/c1/t1')).toBe(false);
      expect(a.canPublish(c2.principal, 'in/c2/t1')).toBe(true);
    }
  });

  it('rejects configs with plain-text passwords, duplicates and unknown keys', () => {
    expect(() => parseAuthConfig({ users: [{ username: 'u', password: 'plain' }] }, 'cfg')).toThrow(/scrypt hash/);
    expect(() =>
      parseAuthConfig(
        {
          users: [
            { username: 'u', password: 'scrypt$1$1$1$AA==$AA==' },
            { username: 'u', password: 'scrypt$1$1$1$AA==$AA==' },
          ],
        },
        'cfg',
      ),
    ).toThrow(/twice/);
    expect(() => parseAuthConfig({ allowAnonymus: true }, 'cfg')).toThrow(/unknown auth setting/);
  });
});

describe('Authorizer.replace', () => {
  const H = 'scrypt$1024$8$1$AA==$AA==';
  const section = (users: unknown[], extra: Record<string, unknown> = {}) => parseAuthConfig({ users, ...extra }, 'test');

  it('gives principals handed out before the rules their name has now, and none to a removed user', () => {
    const a = new Authorizer(section([{ username: 'dev', password: H, publish: { allow: ['a/#'] } }]));
    const dev = a.certificateUser('dev', 'c1');
    const stranger = a.certificateUser('stranger', 'c2');
    const anon = a.principalOfAccessKey(undefined)!;
    if (!dev.ok || !stranger.ok) throw new Error('expected principals');
    expect(a.canPublish(dev.principal, 'a/1')).toBe(true);
    expect(a.canPublish(dev.principal, 'b/1')).toBe(false);
    expect(a.generation).toBe(0);
    let told = 0;
    a.onReplaced(() => told++);

    a.replace(section([{ username: 'dev', password: H, publish: { allow: ['b/#'] }, admin: true }]));
    expect(a.generation).toBe(1);
    expect(told).toBe(1);
    // Cached decisions are dropped with the old rules.
    expect(a.canPublish(dev.principal, 'a/1')).toBe(false);
    expect(a.canPublish(dev.principal, 'b/1')).toBe(true);
    expect(dev.principal.admin).toBe(true);
    expect(a.canSubscribe(stranger.principal, 'x/#')).toBe(true); // anonymous rules still

    a.replace(section([], { allowAnonymous: false }));
    expect(a.canPublish(dev.principal, 'b/1')).toBe(false);
    expect(a.canSubscribe(dev.principal, 'b/#')).toBe(false);
    expect(a.mayUseGroup(dev.principal, 'g')).toBe(false);
    expect(dev.principal.admin).toBe(false);
    expect(a.canSubscribe(stranger.principal, 'x/#')).toBe(false); // anonymous access is off now
    expect(a.mayAccessStoreTopic(anon, 'T', 'publish')).toBe(false);
    expect(a.allowAnonymous).toBe(false);
  });

  it('replaces the access keys and the anonymous principal for new requests', () => {
    const a = new Authorizer(section([{ username: 'svc', accessKey: 'svc-key-1', secretKey: 'secret-1', publish: { allow: ['T'] } }]));
    expect(a.principalOfAccessKey('svc-key-1')).toBeDefined();
    a.replace(section([{ username: 'svc', accessKey: 'svc-key-2', secretKey: 'secret-2', publish: { allow: ['U'] } }]));
    expect(a.principalOfAccessKey('svc-key-1')).toBeUndefined();
    const p = a.principalOfAccessKey('svc-key-2')!;
    expect(a.mayAccessStoreTopic(p, 'U', 'publish')).toBe(true);
    expect(a.mayAccessStoreTopic(p, 'T', 'publish')).toBe(false);
    expect(a.accounts()).toEqual([{ accessKey: 'svc-key-2', secretKey: 'secret-2' }]);
    expect(a.config.users.map((u) => u.username)).toEqual(['svc']);
  });
});
