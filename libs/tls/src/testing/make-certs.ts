import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** PEM files of one certificate authority: its certificate and key. */
export interface TestCa {
  cert: string;
  key: string;
}

/** A certificate and its key signed by a TestCa. */
export interface TestCert {
  cert: string;
  key: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A self-signed CA in `dir` (files `<name>.pem`, `<name>-key.pem`). Needs the openssl command. */
export function makeCa(dir: string, name: string): TestCa {
  fs.mkdirSync(dir, { recursive: true });
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}-key.pem`);
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '3',
      '-subj',
      `/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  return { cert, key };
}

/**
 * A certificate signed by `ca`: a server certificate for 127.0.0.1 and localhost (subjectAltName)
 * when `server` is true, otherwise a client certificate with common name `cn`.
 */
export function makeCert(dir: string, ca: TestCa, name: string, cn: string, server: boolean): TestCert {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}-key.pem`);
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(ext, server ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' : 'extendedKeyUsage=clientAuth\n');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext], dir);
  return { cert, key };
}

/** The usual set for TLS tests: a CA, a server certificate, a client certificate, and an unrelated CA with its own client certificate. */
export interface TestPki {
  ca: TestCa;
  server: TestCert;
  client: TestCert;
  otherCa: TestCa;
  otherClient: TestCert;
}

/** Makes a TestPki in `dir`; the client certificate's common name is `clientCn`. */
export function makeTestPki(dir: string, clientCn = 'alice'): TestPki {
  const ca = makeCa(dir, 'ca');
  const otherCa = makeCa(dir, 'other-ca');
  return {
    ca,
    server: makeCert(dir, ca, 'server', 'localhost', true),
    client: makeCert(dir, ca, 'client', clientCn, false),
    otherCa,
    otherClient: makeCert(dir, otherCa, 'other-client', clientCn, false),
  };
}
