/**
 * The tls suite's certificates, made with the openssl command in the suite's temp dir: a CA and a
 * server certificate for localhost / 127.0.0.1 (RSA 2048, what a deployment typically has). The
 * files are world-readable, and the temp root traversable, so mosquitto (which drops root to its
 * own user before it loads certificates) can read them.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface BenchCerts {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The CA's PEM text (what the load generators trust). */
  caPem: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Makes the CA and the server certificate in `dir`. */
export function makeBenchCerts(dir: string): BenchCerts {
  const caFile = path.join(dir, 'ca.pem');
  const caKey = path.join(dir, 'ca-key.pem');
  const certFile = path.join(dir, 'server.pem');
  const keyFile = path.join(dir, 'server-key.pem');
  const csr = path.join(dir, 'server.csr');
  const ext = path.join(dir, 'server.ext');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', '/CN=bench-ca'], dir);
  writeFileSync(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', '/CN=localhost'], dir);
  openssl(['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-out', certFile, '-days', '2', '-extfile', ext], dir);
  for (const f of [caFile, certFile, keyFile]) chmodSync(f, 0o644);
  chmodSync(dir, 0o755);
  chmodSync(path.dirname(dir), 0o711);
  return { caFile, certFile, keyFile, caPem: readFileSync(caFile, 'utf8') };
}

/** The server flags that turn Apogee's TLS on with `certs`. */
export function apogeeTlsArgs(certs: BenchCerts): string[] {
  return ['--tls-cert', certs.certFile, '--tls-key', certs.keyFile, '--remoting-tls', 'disabled', '--mqtt-wss-port', 'off'];
}
