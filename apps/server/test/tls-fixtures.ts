/**
 * What the TLS e2e tests share: certificates made with openssl in a temp dir (a CA, a server
 * certificate for 127.0.0.1/localhost, a client certificate with a common name, an unrelated CA
 * and a client certificate of it), and a server process with every TLS listener on a free port.
 */
import fs from 'node:fs';
import path from 'node:path';
import { type TestPki, makeTestPki } from '@apogee/tls/testing';
import { ServerProcess, freePort, freePorts, tempDataDir } from './server-process.js';

export type { TestPki } from '@apogee/tls/testing';

/** The TLS listeners' ports of a TlsServer. */
export interface TlsPorts {
  mqttsPort: number;
  mqttWssPort: number;
  amqpsPort: number;
}

/** A server process with TLS, its certificates and its TLS ports. */
export interface TlsServer {
  server: ServerProcess;
  pki: TestPki;
  tlsPorts: TlsPorts;
  dataDir: string;
}

/** Makes the test certificates in `<dir>/pki`. */
export function makePki(dir: string, clientCn = 'alice'): TestPki {
  return makeTestPki(path.join(dir, 'pki'), clientCn);
}

/**
 * Starts a server with --tls-cert/--tls-key/--tls-ca of `pki` (made fresh unless given) and
 * the TLS listeners on free ports; `extra` flags are appended (e.g. --tls-client-auth required).
 */
export async function startTlsServer(extra: string[] = [], pki?: TestPki, dataDir = tempDataDir('apg-tls-')): Promise<TlsServer> {
  const certs = pki ?? makePki(dataDir);
  const ports = await freePorts();
  const taken = new Set(Object.values(ports));
  const another = async () => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  const tlsPorts: TlsPorts = { mqttsPort: await another(), mqttWssPort: await another(), amqpsPort: await another() };
  const server = await ServerProcess.start(dataDir, ports, [
    '--tls-cert',
    certs.server.cert,
    '--tls-key',
    certs.server.key,
    '--tls-ca',
    certs.ca.cert,
    '--mqtts-port',
    String(tlsPorts.mqttsPort),
    '--mqtt-wss-port',
    String(tlsPorts.mqttWssPort),
    '--amqps-port',
    String(tlsPorts.amqpsPort),
    ...extra,
  ]);
  return { server, pki: certs, tlsPorts, dataDir };
}

/** Reads a PEM file of the test certificates. */
export function pem(file: string): Buffer {
  return fs.readFileSync(file);
}

/** Removes a TLS test's data dir (certificates included). */
export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
