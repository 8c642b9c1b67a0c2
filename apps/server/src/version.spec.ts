import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { APOGEE_VERSION } from './version.js';

describe('APOGEE_VERSION', () => {
  it('is the version in the root package.json', () => {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(APOGEE_VERSION).toBe(pkg.version);
  });
});
