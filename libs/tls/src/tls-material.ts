import crypto from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import type { TlsSettings } from './tls-settings.js';

/** The PEM contents of the configured files, checked, and what the log says about the certificate. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  /** Subject, issuer and validity of the server certificate (for the start-up and reload log lines). */
  summary: { subject: string; issuer: string; validTo: string; fingerprint256: string };
}

/**
 * Reads and checks the certificate, key and CA files: each must be readable PEM of its kind and
 * the key must belong to the certificate. Errors name the file and what is wrong with it, so a bad
 * file stops the server at start (or fails a reload) instead of failing the first handshake.
 */
export function loadTlsMaterial(settings: Pick<TlsSettings, 'cert' | 'key' | 'ca'>): TlsMaterial {
  const cert = readPemFile(settings.cert, 'certificate');
  const key = readPemFile(settings.key, 'private key');
  const ca = settings.ca === undefined ? undefined : readPemFile(settings.ca, 'CA');
  const chain = certificatesIn(cert, settings.cert, 'certificate');
  if (ca) certificatesIn(ca, settings.ca!, 'CA');
  let privateKey: crypto.KeyObject;
  try {
    privateKey = crypto.createPrivateKey(key);
  } catch (err) {
    throw new Error(`TLS private key file ${settings.key}: not a usable PEM private key (an encrypted key is not supported): ${(err as Error).message}`);
  }
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(privateKey)) throw new Error(`TLS private key file ${settings.key} does not belong to the certificate in ${settings.cert}`);
  try {
    tls.createSecureContext(ca ? { cert, key, ca } : { cert, key });
  } catch (err) {
    throw new Error(`TLS files ${settings.cert} / ${settings.key}${ca ? ` / ${settings.ca}` : ''}: ${(err as Error).message}`);
  }
  const summary = {
    subject: leaf.subject.replace(/\n/g, ', '),
    issuer: leaf.issuer.replace(/\n/g, ', '),
    validTo: leaf.validTo,
    fingerprint256: leaf.fingerprint256,
  };
  return ca ? { cert, key, ca, summary } : { cert, key, summary };
}

/** The bytes of a PEM file; throws naming the file and `what` it should hold when it cannot be read, is empty or is not PEM. */
export function readPemFile(file: string, what: string): Buffer {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`TLS ${what} file ${file}: cannot be read (${e.code ?? e.message})`);
  }
  if (data.length === 0) throw new Error(`TLS ${what} file ${file}: is empty`);
  if (!data.includes('-----BEGIN ')) throw new Error(`TLS ${what} file ${file}: is not PEM (no "-----BEGIN" line)`);
  return data;
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM file, parsed; at least one. */
function certificatesIn(pem: Buffer, file: string, what: string): crypto.X509Certificate[] {
  const blocks = pem.toString('latin1').match(CERT_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error(`TLS ${what} file ${file}: holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`);
  return blocks.map((b, i) => {
    try {
      return new crypto.X509Certificate(b);
    } catch (err) {
      throw new Error(`TLS ${what} file ${file}: certificate ${i + 1} cannot be parsed: ${(err as Error).message}`);
    }
  });
}
