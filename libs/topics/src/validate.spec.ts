import { ApogeeError } from '@apogee/message';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidTopicError, type InvalidTopicReason } from './errors.js';
import { anyFilter, anyTopic } from './test-arbitraries.js';
import { MQTT_MAX_TOPIC_BYTES, validateMqttTopicFilter, validateMqttTopicName, type TopicLimits } from './validate.js';

function refused(fn: () => unknown, reason: InvalidTopicReason, message?: RegExp): InvalidTopicError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(InvalidTopicError);
  expect(caught).toBeInstanceOf(ApogeeError);
  const e = caught as InvalidTopicError;
  expect(e.code).toBe('APG_MQTT_INVALID_TOPIC');
  expect(e.name).toBe('InvalidTopicError');
  expect(e.reason).toBe(reason);
  if (message) expect(e.message).toMatch(message);
  return e;
}

describe('validateMqttTopicName', () => {
  it('accepts topic names, empty levels, $ topics, spaces and any Unicode', () => {
    for (const t of ['a', 'a/b/c', '/', '//', '/a', 'a/', 'a//b', '$SYS/broker/load', 'sport/tennis player1', 'ünï/cødé/😀', '\u0001ctl', 'a%b,c~']) {
      expect(validateMqttTopicName(t)).toBe(t);
    }
  });

  it('refuses empty names, wildcards, U+0000 and lone surrogates with a reason', () => {
    refused(() => validateMqttTopicName(''), 'empty', /at least one character/);
    refused(() => validateMqttTopicName('a/+'), 'wildcard-in-topic-name', /'\+'/);
    refused(() => validateMqttTopicName('a/b+'), 'wildcard-in-topic-name');
    refused(() => validateMqttTopicName('#'), 'wildcard-in-topic-name', /'#'/);
    refused(() => validateMqttTopicName('a\u0000b'), 'null-character', /U\+0000/);
    refused(() => validateMqttTopicName('a\ud800'), 'ill-formed-unicode');
    refused(() => validateMqttTopicName('a\udc00b'), 'ill-formed-unicode');
    refused(() => validateMqttTopicName('\ud83d/x'), 'ill-formed-unicode');
    const e = refused(() => validateMqttTopicName('x/+'), 'wildcard-in-topic-name');
    expect(e.kind).toBe('topic name');
  });

  it('refuses non-strings with an InvalidTopicError, not a TypeError', () => {
    for (const v of [undefined, null, 42, {}, ['a']]) refused(() => validateMqttTopicName(v as unknown as string), 'not-a-string');
  });

  it('counts the 65,535-byte limit in UTF-8 bytes', () => {
    expect(validateMqttTopicName('a'.repeat(MQTT_MAX_TOPIC_BYTES))).toHaveLength(MQTT_MAX_TOPIC_BYTES);
    refused(() => validateMqttTopicName('a'.repeat(MQTT_MAX_TOPIC_BYTES + 1)), 'too-long', /65535 UTF-8 bytes/);
    // 'é' is two bytes, '😀' four (two UTF-16 units).
    expect(() => validateMqttTopicName('é'.repeat(MQTT_MAX_TOPIC_BYTES / 2 - 0.5) + 'a')).not.toThrow();
    refused(() => validateMqttTopicName('é'.repeat(32_768)), 'too-long');
    refused(() => validateMqttTopicName('😀'.repeat(16_384)), 'too-long');
    expect(() => validateMqttTopicName('😀'.repeat(16_383) + 'abc')).not.toThrow();
  });

  it('applies maxTopicLength (bytes) and maxTopicLevels', () => {
    const limits: TopicLimits = { maxTopicLength: 8, maxTopicLevels: 3 };
    expect(validateMqttTopicName('a/b/cdef', limits)).toBe('a/b/cdef');
    refused(() => validateMqttTopicName('a/b/cdefg', limits), 'too-long', /longer than 8/);
    refused(() => validateMqttTopicName('ééééé', limits), 'too-long');
    refused(() => validateMqttTopicName('a/b/c/d', limits), 'too-many-levels', /more than 3 levels/);
    refused(() => validateMqttTopicName('///', limits), 'too-many-levels');
    // A larger limit than the protocol allows is capped.
    refused(() => validateMqttTopicName('a'.repeat(MQTT_MAX_TOPIC_BYTES + 1), { maxTopicLength: 1e9 }), 'too-long');
  });

  it('keeps error messages short for huge input', () => {
    const e = refused(() => validateMqttTopicName(`${'x'.repeat(60_000)}+`), 'wildcard-in-topic-name');
    expect(e.message.length).toBeLessThan(400);
  });

  it('accepts every generated topic and never throws anything but InvalidTopicError', () => {
    fc.assert(
      fc.property(anyTopic(), (t) => {
        expect(validateMqttTopicName(t)).toBe(t);
      }),
      { numRuns: 300, seed: 1 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 20 }), fc.string({ maxLength: 20 }), (a, b) => {
        for (const s of [a, b, a + b, `${a}\ud800`]) {
          for (const fn of [validateMqttTopicName, validateMqttTopicFilter]) {
            try {
              fn(s, { maxTopicLevels: 3 });
            } catch (e) {
              expect(e).toBeInstanceOf(InvalidTopicError);
            }
          }
        }
      }),
      { numRuns: 300, seed: 2 },
    );
  });
});

describe('validateMqttTopicFilter', () => {
  it('accepts wildcards as whole levels', () => {
    for (const f of ['#', '+', 'a/#', 'a/+', '+/+', '/+', '+/', 'a/+/c/#', '+/#', '$SYS/#', '$share/g/a/#', 'a//#', '/#']) {
      expect(validateMqttTopicFilter(f)).toBe(f);
    }
  });

  it("refuses '#' anywhere but the whole last level [MQTT-4.7.1-2]", () => {
    for (const f of ['a/#/b', '#/a', 'a#', 'a/b#', '#a', '##', 'a/#/']) {
      const e = refused(() => validateMqttTopicFilter(f), 'misplaced-multi-level-wildcard', /whole last level/);
      expect(e.kind).toBe('topic filter');
    }
  });

  it("refuses '+' that is not a whole level [MQTT-4.7.1-3]", () => {
    for (const f of ['a+', '+a', 'a/b+/c', 'a/++', '++', 'sport+']) refused(() => validateMqttTopicFilter(f), 'misplaced-single-level-wildcard', /whole level/);
  });

  it('shares the topic-name rules and limits', () => {
    refused(() => validateMqttTopicFilter(''), 'empty');
    refused(() => validateMqttTopicFilter('a/\u0000'), 'null-character');
    refused(() => validateMqttTopicFilter('+/\udfff'), 'ill-formed-unicode');
    refused(() => validateMqttTopicFilter('+/+/+/#', { maxTopicLevels: 3 }), 'too-many-levels');
    refused(() => validateMqttTopicFilter('a'.repeat(MQTT_MAX_TOPIC_BYTES + 1)), 'too-long');
  });

  it('accepts every generated filter', () => {
    fc.assert(
      fc.property(anyFilter(), (f) => {
        expect(validateMqttTopicFilter(f)).toBe(f);
      }),
      { numRuns: 300, seed: 3 },
    );
  });
});
