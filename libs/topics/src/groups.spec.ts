import { ApogeeError, MAX_GROUP_LENGTH } from '@apogee/message';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidClientIdError, InvalidTopicError } from './errors.js';
import { nameHash } from './escape.js';
import { sessionGroupOf, sharedLmqGroup } from './groups.js';
import { anyFilter, anyText } from './test-arbitraries.js';

const GROUP = /^[%|a-zA-Z0-9_-]{1,255}$/;

describe('sessionGroupOf', () => {
  it('is %LMQ%<clientId>, escaped into the group charset', () => {
    expect(sessionGroupOf('dev-1')).toBe('%LMQ%dev-1');
    expect(sessionGroupOf('mqttjs_1f2e')).toBe('%LMQ%mqttjs_5F1f2e');
    expect(sessionGroupOf('a/b')).toBe('%LMQ%a|b');
    expect(sessionGroupOf('a|b')).toBe('%LMQ%a_7Cb');
    expect(sessionGroupOf('user@host:1')).toBe('%LMQ%user_40host_3A1');
    expect(sessionGroupOf('%LMQ%x')).toBe('%LMQ%_25LMQ_25x');
  });

  it('hash-shortens past 255 characters', () => {
    const fits = 'c'.repeat(MAX_GROUP_LENGTH - 5);
    expect(sessionGroupOf(fits)).toBe(`%LMQ%${fits}`);
    const over = `${fits}c`;
    expect(sessionGroupOf(over)).toBe(`%LMQ%${'c'.repeat(216)}_H${nameHash(over)}`);
    expect(sessionGroupOf(over)).toHaveLength(255);
    expect(sessionGroupOf('é'.repeat(1000))).toMatch(GROUP);
  });

  it('is a valid, injective group name for any client id', () => {
    const clientId = fc.oneof(anyText({ minLength: 1, maxLength: 30 }), anyText({ minLength: 80, maxLength: 120 }));
    fc.assert(
      fc.property(clientId, clientId, (a, b) => {
        expect(sessionGroupOf(a)).toMatch(GROUP);
        fc.pre(a !== b);
        expect(sessionGroupOf(a)).not.toBe(sessionGroupOf(b));
      }),
      { numRuns: 1000, seed: 61 },
    );
  });

  it('refuses empty and ill-formed client ids', () => {
    for (const c of ['', 'a\ud800', undefined as unknown as string]) {
      expect(() => sessionGroupOf(c)).toThrow(InvalidClientIdError);
      expect(() => sessionGroupOf(c)).toThrow(ApogeeError);
    }
  });
});

describe('sharedLmqGroup', () => {
  it('is %MQTTSHARE% + the escaped ShareName/filter', () => {
    expect(sharedLmqGroup('g1', 'a/+')).toBe('%MQTTSHARE%g1|a|_2B');
    expect(sharedLmqGroup('g1', 'a/#')).toBe('%MQTTSHARE%g1|a|_23');
    expect(sharedLmqGroup('g', '/')).toBe('%MQTTSHARE%g||');
    expect(sharedLmqGroup('my group', 'x')).toBe('%MQTTSHARE%my_20group|x');
  });

  it('hash-shortens past 255 characters', () => {
    const fits = 'f'.repeat(MAX_GROUP_LENGTH - 11 - 2);
    expect(sharedLmqGroup('g', fits)).toHaveLength(255);
    expect(sharedLmqGroup('g', fits)).toBe(`%MQTTSHARE%g|${fits}`);
    const name = sharedLmqGroup('g', `${fits}f`);
    expect(name).toHaveLength(255);
    expect(name.endsWith(`_H${nameHash(`g/${fits}f`)}`)).toBe(true);
  });

  it('is a valid group, injective over (ShareName, filter), apart from session groups', () => {
    const share = anyText({ minLength: 1, maxLength: 8 }).map((s) => s.replace(/[/+#\u0000]/g, '') || 'g');
    fc.assert(
      fc.property(share, anyFilter(), share, anyFilter(), (g1, f1, g2, f2) => {
        const a = sharedLmqGroup(g1, f1);
        expect(a).toMatch(GROUP);
        expect(a.startsWith('%LMQ%')).toBe(false);
        fc.pre(g1 !== g2 || f1 !== f2);
        expect(a).not.toBe(sharedLmqGroup(g2, f2));
      }),
      { numRuns: 1000, seed: 62 },
    );
  });

  it('refuses invalid ShareNames and filters', () => {
    for (const [g, f] of [
      ['', 'a'],
      ['a/b', 'x'],
      ['+', 'x'],
      ['g', ''],
      ['g', 'a/#/b'],
    ] as const)
      expect(() => sharedLmqGroup(g, f)).toThrow(InvalidTopicError);
  });
});
