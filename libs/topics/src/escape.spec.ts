import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  escapeLmqLevel,
  escapeRocketName,
  fitRocketName,
  HASH_HEX_DIGITS,
  nameHash,
  ROCKET_HASH_MARKER,
  unescapeLmqLevel,
  unescapeRocketName,
} from './escape.js';
import { anyLevel, anyText } from './test-arbitraries.js';

describe('escapeRocketName', () => {
  it('keeps [A-Za-z0-9-], maps / to | and hex-escapes every other UTF-8 byte', () => {
    expect(escapeRocketName('Sensor-42')).toBe('Sensor-42');
    expect(escapeRocketName('a/b')).toBe('a|b');
    expect(escapeRocketName('a_b')).toBe('a_5Fb');
    expect(escapeRocketName('a|b')).toBe('a_7Cb');
    expect(escapeRocketName('%RETRY%')).toBe('_25RETRY_25');
    expect(escapeRocketName('$SYS')).toBe('_24SYS');
    expect(escapeRocketName('a.b c')).toBe('a_2Eb_20c');
    expect(escapeRocketName('é')).toBe('_C3_A9');
    expect(escapeRocketName('€')).toBe('_E2_82_AC');
    expect(escapeRocketName('😀')).toBe('_F0_9F_98_80');
    expect(escapeRocketName('\u{10FFFF}')).toBe('_F4_8F_BF_BF');
    expect(escapeRocketName('')).toBe('');
  });

  it('agrees with the UTF-8 encoder and stays in the charset', () => {
    fc.assert(
      fc.property(anyText(), (s) => {
        const e = escapeRocketName(s);
        expect(e).toMatch(/^[A-Za-z0-9_|-]*$/);
        const viaBuffer = [...Buffer.from(s, 'utf8')]
          .map((b) =>
            /[A-Za-z0-9-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : b === 0x2f ? '|' : `_${b.toString(16).toUpperCase().padStart(2, '0')}`,
          )
          .join('');
        expect(e).toBe(viaBuffer);
      }),
      { numRuns: 500, seed: 31 },
    );
  });

  it('is inverted by unescapeRocketName, hence injective', () => {
    fc.assert(
      fc.property(anyText({ maxLength: 20 }), (s) => {
        expect(unescapeRocketName(escapeRocketName(s))).toBe(s);
      }),
      { numRuns: 1000, seed: 32 },
    );
    fc.assert(
      fc.property(anyText(), anyText(), (a, b) => {
        fc.pre(a !== b);
        expect(escapeRocketName(a)).not.toBe(escapeRocketName(b));
      }),
      { numRuns: 1000, seed: 33 },
    );
  });

  it('unescapeRocketName refuses what the escape never produces', () => {
    for (const bad of ['_61', '_2f', '_2F', '_', '_5', '_C3', '_C3_28', '%', 'a.b', '_C0_80', 'x_Habc']) expect(unescapeRocketName(bad)).toBeUndefined();
    expect(unescapeRocketName('_EF_BB_BFx')).toBe('\uFEFFx');
  });
});

describe('fitRocketName', () => {
  it('keeps names that fit and hash-shortens the rest to at most maxLength', () => {
    expect(fitRocketName('P_', 'abc', 5)).toBe('P_abc');
    const fits = 'x'.repeat(125);
    expect(fitRocketName('MQ', fits, 127)).toBe(`MQ${fits}`);
    const long = 'x'.repeat(126);
    const short = fitRocketName('MQ', long, 127);
    expect(short).toHaveLength(127);
    expect(short).toBe(`MQ${'x'.repeat(127 - 2 - 2 - HASH_HEX_DIGITS)}${ROCKET_HASH_MARKER}${nameHash(long)}`);
    expect(fitRocketName('MQ', long, 127)).toBe(short);
  });

  it('never splits an escape and gives distinct names to long strings with one prefix', () => {
    fc.assert(
      fc.property(
        anyText({ minLength: 40, maxLength: 80 }),
        anyText({ maxLength: 4 }),
        anyText({ maxLength: 4 }),
        fc.integer({ min: 50, max: 90 }),
        (stem, a, b, max) => {
          const x = fitRocketName('G', stem + a, max);
          const y = fitRocketName('G', stem + b, max);
          for (const n of [x, y]) {
            expect(n.length).toBeLessThanOrEqual(max);
            const marker = n.indexOf(ROCKET_HASH_MARKER, 1);
            if (marker >= 0) expect(n.slice(1, marker)).toMatch(/^([A-Za-z0-9|-]|_[0-9A-F]{2})*$/);
          }
          expect(x === y).toBe(a === b);
        },
      ),
      { numRuns: 500, seed: 34 },
    );
  });
});

describe('nameHash', () => {
  it('is SHA-256 of the UTF-8, first 32 lowercase hex digits (stable across restarts)', () => {
    expect(nameHash('')).toBe('e3b0c44298fc1c149afbf4c8996fb924');
    expect(nameHash('abc')).toBe('ba7816bf8f01cfea414140de5dae2223');
  });
});

describe('escapeLmqLevel', () => {
  it("escapes only '%', '~', ',' and control characters, as ~XX", () => {
    expect(escapeLmqLevel('plain level é 😀 $+#|_')).toBe('plain level é 😀 $+#|_');
    expect(escapeLmqLevel('50%')).toBe('50~25');
    expect(escapeLmqLevel('~user')).toBe('~7Euser');
    expect(escapeLmqLevel('a,b')).toBe('a~2Cb');
    expect(escapeLmqLevel('\u0001\u001f\u007f')).toBe('~01~1F~7F');
    expect(escapeLmqLevel('\u0085')).toBe('\u0085');
    expect(escapeLmqLevel('')).toBe('');
  });

  it('is inverted by unescapeLmqLevel, hence injective', () => {
    fc.assert(
      fc.property(anyLevel(20), (s) => {
        const e = escapeLmqLevel(s);
        expect(e).not.toMatch(/[%,\u0000-\u001f\u007f]/);
        expect(unescapeLmqLevel(e)).toBe(s);
      }),
      { numRuns: 1000, seed: 35 },
    );
  });

  it('unescapeLmqLevel refuses what the escape never produces', () => {
    for (const bad of ['~', '~2', '~7e', '~61', '~2F', 'a%b', 'a,b', '\u0001', '~H12']) expect(unescapeLmqLevel(bad)).toBeUndefined();
  });
});
