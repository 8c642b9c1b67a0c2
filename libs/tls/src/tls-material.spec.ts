import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestPki, makeTestPki } from './testing/make-certs.js';
import { loadTlsMaterial } from './tls-material.js';
import { resolveTlsSettings } from './tls-settings.js';

let dir: string;
let pki: TestPki;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apogee-tls-material-'));
  pki = makeTestPki(dir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('loadTlsMaterial', () => {
  it('reads a matching certificate, key and CA and summarises the certificate', () => {
    const m = loadTlsMaterial({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert });
    expect(m.summary.subject).toContain('CN=localhost');
    expect(m.summary.issuer).toContain('CN=ca');
    expect(m.ca).toBeDefined();
  });

  it('names the file and the fault: missing, not PEM, not a certificate, a key of another certificate', () => {
    const missing = path.join(dir, 'nope.pem');
    expect(() => loadTlsMaterial({ cert: missing, key: pki.server.key })).toThrow(`TLS certificate file ${missing}: cannot be read (ENOENT)`);
    const junk = path.join(dir, 'junk.pem');
    fs.writeFileSync(junk, 'hello\n');
    expect(() => loadTlsMaterial({ cert: junk, key: pki.server.key })).toThrow(`TLS certificate file ${junk}: is not PEM`);
    expect(() => loadTlsMaterial({ cert: pki.server.key, key: pki.server.key })).toThrow(`TLS certificate file ${pki.server.key}: holds no PEM certificate`);
    expect(() => loadTlsMaterial({ cert: pki.server.cert, key: pki.client.key })).toThrow(
      `TLS private key file ${pki.client.key} does not belong to the certificate in ${pki.server.cert}`,
    );
    expect(() => loadTlsMaterial({ cert: pki.server.cert, key: pki.server.cert })).toThrow(
      `TLS private key file ${pki.server.cert}: not a usable PEM private key`,
    );
    const broken = path.join(dir, 'broken-ca.pem');
    fs.writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(() => loadTlsMaterial({ cert: pki.server.cert, key: pki.server.key, ca: broken })).toThrow(`TLS CA file ${broken}: certificate 1 cannot be parsed`);
  });
});

describe('resolveTlsSettings', () => {
  it('is null without a certificate and fills in the defaults with one', () => {
    expect(resolveTlsSettings({}, 'flags')).toBeNull();
    expect(resolveTlsSettings({ cert: 'c', key: 'k' }, 'flags')).toEqual({ cert: 'c', key: 'k', clientAuth: 'none', handshakeTimeoutMs: 10_000 });
  });

  it('refuses half a configuration', () => {
    expect(() => resolveTlsSettings({ cert: 'c' }, 'flags')).toThrow('--tls-cert is set but --tls-key is not');
    expect(() => resolveTlsSettings({ key: 'k' }, 'flags')).toThrow('--tls-key is set but --tls-cert is not');
    expect(() => resolveTlsSettings({ cert: 'c', key: 'k', clientAuth: 'required' }, 'flags')).toThrow('verified against --tls-ca, which is not set');
    expect(() => resolveTlsSettings({ ca: 'a' }, 'flags')).toThrow('no certificate');
  });
});
