import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeProperties, encodeProperties, findProperty } from './properties.js';
import { LMQ_PREFIX } from './rocketmq-vocabulary.js';
import { KEY_SEPARATOR, MULTI_DISPATCH_SEPARATOR, NAME_VALUE_SEPARATOR, PROPERTY_SEPARATOR, PropertyKey, TRANSIENT_PROPERTY_PREFIX } from './property-keys.js';

const S1 = '\u0001';
const S2 = '\u0002';

/** Text without the two separators. */
const text = (minLength: number, maxLength: number) =>
  fc
    .string({ unit: fc.oneof(fc.constantFrom('a', 'K', '=', ' ', ','), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), minLength, maxLength })
    .filter((s) => !s.includes(S1) && !s.includes(S2));

describe('property keys (MessageConst)', () => {
  it('separators and names', () => {
    expect(NAME_VALUE_SEPARATOR.charCodeAt(0)).toBe(1);
    expect(PROPERTY_SEPARATOR.charCodeAt(0)).toBe(2);
    expect(MULTI_DISPATCH_SEPARATOR).toBe(',');
    expect(KEY_SEPARATOR).toBe(' ');
    expect(LMQ_PREFIX).toBe('%LMQ%');
    expect(TRANSIENT_PROPERTY_PREFIX).toBe('__RMQ.TRANSIENT.');
    expect(PropertyKey).toMatchObject({
      KEYS: 'KEYS',
      TAGS: 'TAGS',
      WAIT_STORE_MSG_OK: 'WAIT',
      DELAY_TIME_LEVEL: 'DELAY',
      RETRY_TOPIC: 'RETRY_TOPIC',
      REAL_TOPIC: 'REAL_TOPIC',
      REAL_QUEUE_ID: 'REAL_QID',
      TRANSACTION_PREPARED: 'TRAN_MSG',
      PRODUCER_GROUP: 'PGROUP',
      UNIQ_CLIENT_MESSAGE_ID_KEYIDX: 'UNIQ_KEY',
      RECONSUME_TIME: 'RECONSUME_TIME',
      MAX_RECONSUME_TIMES: 'MAX_RECONSUME_TIMES',
      ORIGIN_MESSAGE_ID: 'ORIGIN_MESSAGE_ID',
      INNER_MULTI_DISPATCH: 'INNER_MULTI_DISPATCH',
      INNER_MULTI_QUEUE_OFFSET: 'INNER_MULTI_QUEUE_OFFSET',
      SHARDING_KEY: '__SHARDINGKEY',
      TRANSACTION_ID: '__transactionId__',
      CLUSTER: 'CLUSTER',
      MSG_REGION: 'MSG_REGION',
      TRACE_SWITCH: 'TRACE_ON',
      CRC32: '__CRC32#',
      TIMER_DELIVER_MS: 'TIMER_DELIVER_MS',
      TIMER_DELAY_SEC: 'TIMER_DELAY_SEC',
      TIMER_DELAY_MS: 'TIMER_DELAY_MS',
      DLQ_ORIGIN_TOPIC: 'DLQ_ORIGIN_TOPIC',
      DLQ_ORIGIN_MESSAGE_ID: 'DLQ_ORIGIN_MESSAGE_ID',
      MIN_OFFSET: 'MIN_OFFSET',
      MAX_OFFSET: 'MAX_OFFSET',
    });
  });
});

describe('encodeProperties', () => {
  it('key U+0001 value U+0002 per pair, trailing separator included, insertion order', () => {
    expect(
      encodeProperties(
        new Map([
          ['TAGS', 'TagA'],
          ['KEYS', 'k1 k2'],
        ]),
      ),
    ).toBe(`TAGS${S1}TagA${S2}KEYS${S1}k1 k2${S2}`);
    expect(encodeProperties({ b: '2', a: '1' })).toBe(`b${S1}2${S2}a${S1}1${S2}`);
    expect(encodeProperties(new Map())).toBe('');
    expect(encodeProperties({})).toBe('');
  });

  it('skips null and undefined values, keeps empty strings', () => {
    expect(encodeProperties({ a: null, b: undefined, c: '', d: 'x' })).toBe(`c${S1}${S2}d${S1}x${S2}`);
    expect(
      encodeProperties(
        new Map<string, string | null>([
          ['a', null],
          ['b', 'y'],
        ]),
      ),
    ).toBe(`b${S1}y${S2}`);
  });
});

describe('decodeProperties (Java string2messageProperties rules)', () => {
  it.each([
    ['empty string', '', []],
    ['one pair', `a${S1}b${S2}`, [['a', 'b']]],
    [
      'missing trailing separator tolerated',
      `a${S1}b${S2}cc${S1}dd`,
      [
        ['a', 'b'],
        ['cc', 'dd'],
      ],
    ],
    ['empty key dropped', `${S1}bb${S2}a${S1}b${S2}`, [['a', 'b']]],
    ['empty value dropped', `aa${S1}${S2}a${S1}b${S2}`, [['a', 'b']]],
    ['piece without U+0001 ignored', `abc${S2}a${S1}b${S2}`, [['a', 'b']]],
    ['pieces shorter than 3 chars ignored', `a${S1}${S2}${S1}b${S2}x${S2}${S2}${S2}k${S1}v`, [['k', 'v']]],
    ['value may contain U+0001', `a${S1}b${S1}c${S2}`, [['a', `b${S1}c`]]],
    [
      'last duplicate wins',
      `a${S1}1${S2}b${S1}2${S2}a${S1}3${S2}`,
      [
        ['a', '3'],
        ['b', '2'],
      ],
    ],
    [
      'unicode',
      `ключ${S1}значение${S2}😀${S1}€${S2}`,
      [
        ['ключ', 'значение'],
        ['😀', '€'],
      ],
    ],
    ['only separators', `${S2}${S2}${S1}${S2}`, []],
    ['key alone with separator, no value', `key${S1}`, []],
  ])('%s', (_name, s, expected) => {
    expect([...decodeProperties(s)]).toEqual(expected);
  });

  it('round-trips any map whose keys and values are non-empty and separator-free', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(text(1, 30), text(1, 60)), { maxLength: 20, selector: ([k]) => k }), (pairs) => {
        const s = encodeProperties(new Map(pairs));
        expect([...decodeProperties(s)]).toEqual(pairs);
        // without the trailing separator too
        expect([...decodeProperties(s.endsWith(S2) ? s.slice(0, -1) : s)]).toEqual(pairs);
      }),
      { numRuns: 300, seed: 5 },
    );
  });
});

describe('findProperty', () => {
  const s = `TAGS${S1}TagA${S2}XKEYS${S1}no${S2}KEYS${S1}k1 k2${S2}UNIQ_KEY${S1}ABC`;

  it('finds values by exact key', () => {
    expect(findProperty(s, 'TAGS')).toBe('TagA');
    expect(findProperty(s, 'KEYS')).toBe('k1 k2');
    expect(findProperty(s, 'XKEYS')).toBe('no');
    expect(findProperty(s, 'UNIQ_KEY')).toBe('ABC'); // last piece without separator
    expect(findProperty(s, 'AGS')).toBeUndefined();
    expect(findProperty(s, 'TagA')).toBeUndefined();
    expect(findProperty(s, 'k1')).toBeUndefined();
    expect(findProperty('', 'TAGS')).toBeUndefined();
    expect(findProperty(s, '')).toBeUndefined();
  });

  it('agrees with decodeProperties: empty values are absent, the last duplicate wins', () => {
    expect(findProperty(`a${S1}${S2}`, 'a')).toBeUndefined();
    expect(findProperty(`a${S1}1${S2}a${S1}2${S2}`, 'a')).toBe('2');
    expect(findProperty(`a${S1}1${S2}a${S1}${S2}`, 'a')).toBe('1');
    expect(findProperty(`a${S1}x${S1}y${S2}`, 'a')).toBe(`x${S1}y`);
    expect(findProperty(`a${S1}x${S1}y${S2}`, 'x')).toBeUndefined();
  });

  it('equals decodeProperties(s).get(key) for random property strings', () => {
    const piece = fc.oneof(
      fc.tuple(fc.constantFrom('a', 'b', 'ab', 'TAGS', ''), fc.constantFrom('', 'v', 'a', `x${S1}y`, 'b')).map(([k, v]) => `${k}${S1}${v}`),
      fc.constantFrom('', 'a', 'ab', 'abc', S1, `${S1}a`),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), fc.boolean(), fc.constantFrom('a', 'b', 'ab', 'TAGS', 'x', 'v'), (pieces, trailing, key) => {
        const str = pieces.join(S2) + (trailing ? S2 : '');
        expect(findProperty(str, key)).toBe(decodeProperties(str).get(key));
      }),
      { numRuns: 500, seed: 6 },
    );
  });
});
