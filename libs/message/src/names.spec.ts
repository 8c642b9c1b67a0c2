import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApogeeError } from './errors.js';
import { IllegalNameError, isLmqName, MAX_LMQ_NAME_BYTES, MAX_LMQS_PER_MESSAGE, parseMultiDispatch, validateLmqName, validateTopicName } from './names.js';
import { MAX_RETRY_TOPIC_LENGTH, MAX_TOPIC_LENGTH } from './rocketmq-vocabulary.js';

function illegal(fn: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(IllegalNameError);
  expect(caught).toBeInstanceOf(ApogeeError);
  const e = caught as IllegalNameError;
  expect(e.code).toBe('APG_ILLEGAL_NAME');
  expect(e.name).toBe('IllegalNameError');
  expect(e.message).toMatch(/^APG_ILLEGAL_NAME: /);
  expect(e.message).toMatch(message);
}

describe('validateTopicName', () => {
  it('accepts RocketMQ topic names', () => {
    for (const t of [
      'TopicTest',
      'a',
      'A-b_c|d%e',
      '0123456789',
      'T'.repeat(MAX_TOPIC_LENGTH),
      `%RETRY%${'g'.repeat(MAX_RETRY_TOPIC_LENGTH - 7)}`,
      `%DLQ%${'g'.repeat(MAX_RETRY_TOPIC_LENGTH - 5)}`,
      'TBW102',
      'rmq_sys_wheel_timer',
    ]) {
      expect(validateTopicName(t)).toBe(t);
    }
    expect(MAX_TOPIC_LENGTH).toBe(127);
    expect(MAX_RETRY_TOPIC_LENGTH).toBe(255);
  });

  it('accepts any name from the topic charset up to 127 chars', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[%|a-zA-Z0-9_-]{1,127}$/).filter((s) => !s.startsWith('%LMQ%')),
        (t) => {
          expect(validateTopicName(t)).toBe(t);
        },
      ),
      { numRuns: 200, seed: 9 },
    );
  });

  it('refuses empty, too long and out-of-charset names with a clear message', () => {
    illegal(() => validateTopicName(''), /topic name is empty/);
    illegal(() => validateTopicName('T'.repeat(128)), /128 characters; the limit is 127/);
    illegal(() => validateTopicName(`%RETRY%${'g'.repeat(249)}`), /256 characters; the limit is 255/);
    illegal(() => validateTopicName(`%DLQ%${'g'.repeat(251)}`), /the limit is 255/);
    for (const t of ['a b', 'a/b', 'a.b', 'a,b', 'tópico', 'a\u0001b', 'a\nb', 'a\u0000', '主题', 'a+b', 'a#']) {
      illegal(() => validateTopicName(t), /has characters outside \[%\|a-zA-Z0-9_-\]/);
    }
  });

  it('delegates %LMQ% names to the LMQ rules', () => {
    expect(validateTopicName('%LMQ%a/b+#')).toBe('%LMQ%a/b+#');
    illegal(() => validateTopicName('%LMQ%'), /must be %LMQ% followed by a name/);
    illegal(() => validateTopicName('%LMQ%a,b'), /control character or ','/);
  });
});

describe('validateLmqName', () => {
  it('accepts MQTT-style names with a wide charset', () => {
    for (const n of [
      '%LMQ%a',
      '%LMQ%a%b%c%',
      '%LMQ%a%+%c%',
      '%LMQ%a%#',
      '%LMQ%/p2p/client-1/',
      '%LMQ%主题%😀',
      '%LMQ% spaced ',
      `%LMQ%${'x'.repeat(MAX_LMQ_NAME_BYTES - 5)}`,
    ]) {
      expect(validateLmqName(n)).toBe(n);
    }
    expect(isLmqName('%LMQ%x')).toBe(true);
    expect(isLmqName('%lmq%x')).toBe(false);
    expect(isLmqName('x%LMQ%')).toBe(false);
  });

  it('refuses bad names with a clear message', () => {
    illegal(() => validateLmqName(''), /must be %LMQ% followed by a name/);
    illegal(() => validateLmqName('%LMQ%'), /must be %LMQ% followed by a name/);
    illegal(() => validateLmqName('TopicA'), /must be %LMQ% followed by a name/);
    illegal(() => validateLmqName(`%LMQ%${'x'.repeat(MAX_LMQ_NAME_BYTES - 4)}`), /longer than 1024 bytes/);
    // the limit counts UTF-8 bytes: 340 × 3 bytes + 5 > 1024
    illegal(() => validateLmqName(`%LMQ%${'主'.repeat(340)}`), /longer than 1024 bytes/);
    expect(validateLmqName(`%LMQ%${'主'.repeat(339)}`)).toHaveLength(344);
    for (const c of ['\u0000', '\u0001', '\u0002', '\t', '\n', '\u001f', '\u007f', ',']) {
      illegal(() => validateLmqName(`%LMQ%a${c}b`), /contains a control character or ','/);
    }
    illegal(() => validateLmqName('%LMQ%a\ud800b'), /not valid Unicode/);
    illegal(() => validateLmqName('%LMQ%a\udc00'), /not valid Unicode/);
    illegal(() => validateLmqName('%LMQ%a\ud800'), /not valid Unicode/);
  });
});

describe('parseMultiDispatch (INNER_MULTI_DISPATCH)', () => {
  it('splits a comma list of LMQ names, keeping order', () => {
    expect(parseMultiDispatch('%LMQ%a')).toEqual(['%LMQ%a']);
    expect(parseMultiDispatch('%LMQ%b,%LMQ%a,%LMQ%c%d%')).toEqual(['%LMQ%b', '%LMQ%a', '%LMQ%c%d%']);
    const many = Array.from({ length: MAX_LMQS_PER_MESSAGE }, (_, i) => `%LMQ%q${i}`);
    expect(parseMultiDispatch(many.join(','))).toEqual(many);
  });

  it('round-trips any list of distinct valid names', () => {
    const name = fc.string({ unit: fc.constantFrom('a', 'b', '%', '+', '#', '/', '主'), minLength: 1, maxLength: 8 }).map((s) => `%LMQ%${s}`);
    fc.assert(
      fc.property(fc.uniqueArray(name, { minLength: 1, maxLength: 20 }), (names) => {
        expect(parseMultiDispatch(names.join(','))).toEqual(names);
      }),
      { numRuns: 200, seed: 10 },
    );
  });

  it('refuses empty entries, duplicates, non-LMQ names and too many names', () => {
    illegal(() => parseMultiDispatch(''), /has an empty entry/);
    illegal(() => parseMultiDispatch('%LMQ%a,,%LMQ%b'), /has an empty entry/);
    illegal(() => parseMultiDispatch('%LMQ%a,'), /has an empty entry/);
    illegal(() => parseMultiDispatch(',%LMQ%a'), /has an empty entry/);
    illegal(() => parseMultiDispatch('%LMQ%a,%LMQ%b,%LMQ%a'), /names "%LMQ%a" twice/);
    illegal(() => parseMultiDispatch('%LMQ%a,TopicB'), /must be %LMQ% followed by a name/);
    illegal(() => parseMultiDispatch('%LMQ%a,%LMQ%'), /must be %LMQ% followed by a name/);
    illegal(() => parseMultiDispatch('%LMQ%a,%LMQ%b\u0001'), /control character/);
    const tooMany = Array.from({ length: MAX_LMQS_PER_MESSAGE + 1 }, (_, i) => `%LMQ%q${i}`).join(',');
    illegal(() => parseMultiDispatch(tooMany), /at most 1024 LMQs; this one names 1025/);
  });
});
