import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerTlsContext } from './server-context.js';
import { type TestPki, makeCa, makeCert, makeTestPki } from './testing/make-certs.js';

let dir: string;
let pki: TestPki;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apogee-tls-context-'));
  pki = makeTestPki(dir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function issuerSeen(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = tls.connect({ host: '127.0.0.1', port, ca: fs.readFileSync(ca) }, () => {
      resolve(String(c.getPeerCertificate().issuer.CN));
      c.destroy();
    });
    c.once('error', reject);
  });
}

describe('ServerTlsContext', () => {
  it('reloads into a tracked tls.Server; a bad file keeps the certificate in use and logs why', async () => {
    const live = path.join(dir, 'live');
    fs.mkdirSync(live);
    const cert = path.join(live, 'cert.pem');
    const key = path.join(live, 'key.pem');
    fs.copyFileSync(pki.server.cert, cert);
    fs.copyFileSync(pki.server.key, key);
    const errors: string[] = [];
    const ctx = new ServerTlsContext(
      { cert, key, clientAuth: 'none', handshakeTimeoutMs: 5000 },
      { info() {}, error: (o) => errors.push((o as { err: string }).err) },
    );
    const server = ctx.track(
      tls.createServer(ctx.serverOptions(), (s) => s.end()),
      'test',
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      expect(await issuerSeen(port, pki.ca.cert)).toBe('ca');
      fs.writeFileSync(key, 'not a key');
      expect(ctx.reload('test')).toBe(false);
      expect(errors[0]).toContain(`TLS private key file ${key}`);
      expect(await issuerSeen(port, pki.ca.cert)).toBe('ca');
      const ca2 = makeCa(path.join(dir, 'second'), 'ca2');
      const next = makeCert(path.join(dir, 'second'), ca2, 'server2', 'localhost', true);
      fs.copyFileSync(next.cert, cert);
      fs.copyFileSync(next.key, key);
      expect(ctx.reload('test')).toBe(true);
      expect(await issuerSeen(port, ca2.cert)).toBe('ca2');
      expect(ctx.summary.issuer).toContain('CN=ca2');
    } finally {
      ctx.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
