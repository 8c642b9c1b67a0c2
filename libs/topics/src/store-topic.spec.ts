import { validateTopicName } from '@apogee/message';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidTopicError } from './errors.js';
import { escapeRocketName, nameHash } from './escape.js';
import { storeTopicOf, storeTopicOfFirstLevel } from './store-topic.js';
import { anyText, anyTopic } from './test-arbitraries.js';

describe('storeTopicOf', () => {
  it('stores under the first level when that is an ordinary RocketMQ topic', () => {
    expect(storeTopicOf('sensors/room1/temp')).toBe('sensors');
    expect(storeTopicOf('sensors')).toBe('sensors');
    expect(storeTopicOf('a/')).toBe('a');
    expect(storeTopicOf('Topic_1-x|y/z')).toBe('Topic_1-x|y');
    expect(storeTopicOf(`${'T'.repeat(127)}/x`)).toBe('T'.repeat(127));
    expect(storeTopicOf('mqtt_x/y')).toBe('mqtt_x');
    expect(storeTopicOf('a%b/c')).toBe('a%b');
  });

  it('escapes everything else under MQTT_', () => {
    expect(storeTopicOf('$SYS/broker/load')).toBe('MQTT__24SYS');
    expect(storeTopicOf('/x/y')).toBe('MQTT_');
    expect(storeTopicOf('/')).toBe('MQTT_');
    expect(storeTopicOf('a.b/c')).toBe('MQTT_a_2Eb');
    expect(storeTopicOf('home kitchen/t')).toBe('MQTT_home_20kitchen');
    expect(storeTopicOf('café/x')).toBe('MQTT_caf_C3_A9');
    expect(storeTopicOf('😀')).toBe('MQTT__F0_9F_98_80');
    // Reserved names, even though they are in the charset.
    expect(storeTopicOf('TBW102/x')).toBe('MQTT_TBW102');
    // The AMQP endpoint's namespace: queue `bob/inbox` is stored as `AMQP_bob|inbox`.
    expect(storeTopicOf('AMQP_bob|inbox/x')).toBe('MQTT_AMQP_5Fbob_7Cinbox');
    expect(storeTopicOf('AMQP_')).toBe('MQTT_AMQP_5F');
    expect(storeTopicOf('AMQPx/y')).toBe('AMQPx');
    expect(storeTopicOf('SCHEDULE_TOPIC_XXXX')).toBe('MQTT_SCHEDULE_5FTOPIC_5FXXXX');
    expect(storeTopicOf('%RETRY%g/x')).toBe('MQTT__25RETRY_25g');
    expect(storeTopicOf('%DLQ%g')).toBe('MQTT__25DLQ_25g');
    expect(storeTopicOf('%LMQ%a')).toBe('MQTT__25LMQ_25a');
    expect(storeTopicOf('%x')).toBe('MQTT__25x');
    expect(storeTopicOf('rmq_sys_wheel_timer')).toBe('MQTT_rmq_5Fsys_5Fwheel_5Ftimer');
    expect(storeTopicOf('RMQ_SYS_TRACE_TOPIC')).toBe('MQTT_RMQ_5FSYS_5FTRACE_5FTOPIC');
    // A literal MQTT_ name must not meet an escaped one.
    expect(storeTopicOf('MQTT__24SYS')).toBe('MQTT_MQTT_5F_5F24SYS');
    expect(storeTopicOf('MQTT_')).toBe('MQTT_MQTT_5F');
  });

  it('hash-shortens escaped names past 127 characters', () => {
    // 'é' escapes to six characters: 20 × 6 + 2 = 122 = 127 - 'MQTT_'.length.
    const fits = `${'é'.repeat(20)}ab`;
    expect(storeTopicOf(fits)).toBe(`MQTT_${escapeRocketName(fits)}`);
    expect(storeTopicOf(fits)).toHaveLength(127);
    const over = `${fits}c`;
    const name = storeTopicOf(`${over}/x`);
    // The cut backs off to the start of an escape, so the name may fall short of 127 by up to two.
    expect(name.length).toBeLessThanOrEqual(127);
    expect(name.length).toBeGreaterThanOrEqual(125);
    expect(name.endsWith(`_H${nameHash(over)}`)).toBe(true);
    expect(name.startsWith('MQTT__C3_A9')).toBe(true);
    // A plain name one character too long is escaped and shortened too.
    const plain = 'T'.repeat(128);
    expect(storeTopicOf(plain)).toBe(`MQTT_${'T'.repeat(88)}_H${nameHash(plain)}`);
  });

  it('always yields a legal, ordinary RocketMQ topic name, deterministically', () => {
    fc.assert(
      fc.property(anyTopic(), (t) => {
        const s = storeTopicOf(t);
        expect(validateTopicName(s)).toBe(s);
        expect(s.length).toBeLessThanOrEqual(127);
        expect(s).not.toMatch(/^(%|rmq_sys_|TBW102$|SCHEDULE_TOPIC_XXXX$)/i);
        expect(storeTopicOf(t)).toBe(s);
        expect(storeTopicOf(`${t}/more`)).toBe(s);
      }),
      { numRuns: 500, seed: 41 },
    );
  });

  it('is injective over first levels', () => {
    const firstLevel = fc
      .oneof(
        anyText({ maxLength: 10 }),
        fc.constantFrom('MQTT_', 'MQTT__24SYS', '$SYS', 'TBW102', 'MQTT_TBW102', '%RETRY%a', 'a_2Eb', 'a.b'),
        anyText({ minLength: 60, maxLength: 70 }),
        fc.stringMatching(/^[%|a-zA-Z0-9_-]{120,130}$/),
      )
      .map((s) => s.replace(/\//g, ''));
    fc.assert(
      fc.property(firstLevel, firstLevel, (a, b) => {
        fc.pre(a !== b);
        expect(storeTopicOfFirstLevel(a)).not.toBe(storeTopicOfFirstLevel(b));
      }),
      { numRuns: 2000, seed: 42 },
    );
    const seen = new Map<string, string>();
    fc.assert(
      fc.property(firstLevel, (a) => {
        const s = storeTopicOfFirstLevel(a);
        const before = seen.get(s);
        if (before !== undefined) expect(before).toBe(a);
        seen.set(s, a);
      }),
      { numRuns: 3000, seed: 43 },
    );
  });

  it('refuses invalid topic names with InvalidTopicError', () => {
    for (const t of ['', 'a/+', '#', 'a\u0000', 'a\ud800']) expect(() => storeTopicOf(t)).toThrow(InvalidTopicError);
  });
});
