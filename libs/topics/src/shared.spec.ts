import { describe, expect, it } from 'vitest';
import { InvalidTopicError } from './errors.js';
import { parseSharedSubscription, validateShareName } from './shared.js';

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidTopicError);
    return (e as InvalidTopicError).reason;
  }
  throw new Error('expected an InvalidTopicError');
}

describe('parseSharedSubscription', () => {
  it('splits $share/<group>/<filter>', () => {
    expect(parseSharedSubscription('$share/g/a/b')).toEqual({ group: 'g', filter: 'a/b' });
    expect(parseSharedSubscription('$share/consumer1/sport/tennis/+')).toEqual({ group: 'consumer1', filter: 'sport/tennis/+' });
    expect(parseSharedSubscription('$share/g/#')).toEqual({ group: 'g', filter: '#' });
    expect(parseSharedSubscription('$share/g//')).toEqual({ group: 'g', filter: '/' });
    expect(parseSharedSubscription('$share/g/$SYS/#')).toEqual({ group: 'g', filter: '$SYS/#' });
    expect(parseSharedSubscription('$share/ü 😀/a')).toEqual({ group: 'ü 😀', filter: 'a' });
    expect(parseSharedSubscription('$share/g/$share/h/x')).toEqual({ group: 'g', filter: '$share/h/x' });
  });

  it('returns null for normal filters, after validating them', () => {
    for (const f of ['a/b', '#', '$SYS/#', '$share', '$sharex/g/a', 'share/g/a', '$SHARE/g/a']) expect(parseSharedSubscription(f)).toBeNull();
    expect(reason(() => parseSharedSubscription('a/#/b'))).toBe('misplaced-multi-level-wildcard');
    expect(reason(() => parseSharedSubscription(''))).toBe('empty');
  });

  it('refuses bad ShareNames and missing filters [MQTT-4.8.2-1, MQTT-4.8.2-2]', () => {
    expect(reason(() => parseSharedSubscription('$share/'))).toBe('invalid-share-name');
    expect(reason(() => parseSharedSubscription('$share//a'))).toBe('invalid-share-name');
    expect(reason(() => parseSharedSubscription('$share/+/a'))).toBe('invalid-share-name');
    expect(reason(() => parseSharedSubscription('$share/#'))).toBe('invalid-share-name');
    expect(reason(() => parseSharedSubscription('$share/g+/a'))).toBe('invalid-share-name');
    expect(reason(() => parseSharedSubscription('$share/g#/a'))).toBe('invalid-share-name');
    expect(reason(() => parseSharedSubscription('$share/g'))).toBe('missing-share-filter');
    expect(reason(() => parseSharedSubscription('$share/g/'))).toBe('missing-share-filter');
    expect(reason(() => parseSharedSubscription('$share/g/a/#/b'))).toBe('misplaced-multi-level-wildcard');
    expect(reason(() => parseSharedSubscription('$share/g/a+'))).toBe('misplaced-single-level-wildcard');
    expect(reason(() => parseSharedSubscription('$share/g\u0000/a'))).toBe('invalid-share-name');
  });

  it('applies the limits to the whole string', () => {
    expect(reason(() => parseSharedSubscription('$share/g/a/b', { maxTopicLevels: 3 }))).toBe('too-many-levels');
    expect(reason(() => parseSharedSubscription('$share/g/abc', { maxTopicLength: 11 }))).toBe('too-long');
    expect(parseSharedSubscription('$share/g/ab', { maxTopicLength: 11 })).toEqual({ group: 'g', filter: 'ab' });
  });

  it('refuses non-strings with an InvalidTopicError', () => {
    expect(reason(() => parseSharedSubscription(7 as unknown as string))).toBe('not-a-string');
  });
});

describe('validateShareName', () => {
  it('accepts names without / + # and refuses the rest', () => {
    expect(validateShareName('g-1 ü')).toBe('g-1 ü');
    for (const g of ['', 'a/b', 'a+', '#', 'a\u0000', 'a\ud800']) expect(reason(() => validateShareName(g))).toBe('invalid-share-name');
  });
});
