import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError, parseOptions } from './args.js';
import { TLS_OPTIONS, tlsFromArgs } from './tls-options.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-cli-tls-'));
const pemFile = path.join(dir, 'a.pem');
fs.writeFileSync(pemFile, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
const junk = path.join(dir, 'junk.txt');
fs.writeFileSync(junk, 'hello');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const tlsOf = (argv: string[], env: Record<string, string> = {}) => tlsFromArgs(parseOptions(argv, TLS_OPTIONS), env, []);

describe('tlsFromArgs', () => {
  it('is plain TCP without a TLS option or variable', () => {
    expect(tlsOf([])).toBeUndefined();
  });

  it('turns TLS on with --tls, APOGEE_TLS, a CA or a certificate', () => {
    expect(tlsOf(['--tls'])).toEqual({});
    expect(tlsOf([], { APOGEE_TLS: 'true' })).toEqual({});
    expect(tlsOf(['--tls-ca', pemFile])?.ca?.toString()).toContain('BEGIN CERTIFICATE');
    const mtls = tlsOf([], { APOGEE_TLS_CERT: pemFile, APOGEE_TLS_KEY: pemFile });
    expect(mtls?.cert).toBeInstanceOf(Buffer);
    expect(mtls?.key).toBeInstanceOf(Buffer);
    expect(tlsOf(['--tls-insecure', '--tls-servername', 'broker.example'])).toEqual({ rejectUnauthorized: false, servername: 'broker.example' });
  });

  it('refuses a certificate without its key, and a key without TLS', () => {
    expect(() => tlsOf(['--tls-cert', pemFile])).toThrow(UsageError);
    expect(() => tlsOf(['--tls-key', pemFile])).toThrow(/need TLS/);
  });

  it('names a file that cannot be read or is not PEM', () => {
    expect(() => tlsOf(['--tls-ca', path.join(dir, 'missing.pem')])).toThrow(/TLS CA file .*missing\.pem: cannot be read \(ENOENT\)/);
    expect(() => tlsOf(['--tls-ca', junk])).toThrow(/TLS CA file .*junk\.txt: is not PEM/);
  });
});
