/**
 * Operating TLS against real server processes: `openssl s_client` (and a client trusting another
 * CA refused), HTTPS metrics, mutual TLS required (mosquitto and mqtt.js without a certificate
 * refused), a silent TLS client closed at the handshake deadline, certificates replaced without
 * a restart (SIGHUP and a file change: new connections get the new certificate on every TLS
 * listener, an open connection stays up, a bad replacement keeps the old one), and bad files at
 * start (exit code, the file named, no stack trace).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { makeCa, makeCert } from '@apogee/tls/testing';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerProcess, freePorts, killAllStarted, tempDataDir } from './server-process.js';
import { type TestPki, type TlsServer, makePki, pem, removeDir, startTlsServer } from './tls-fixtures.js';

const CI = process.env['CI'] === 'true';
const hasMosquitto = fs.existsSync('/usr/bin/mosquitto_pub');
if (CI && !hasMosquitto) throw new Error('CI=true but mosquitto-clients is missing: .ci/run installs it');

const dirs: string[] = [];
afterAll(async () => {
  await killAllStarted();
  for (const d of dirs) removeDir(d);
});

async function tlsServer(extra: string[] = [], pki?: TestPki): Promise<TlsServer> {
  const s = await startTlsServer(extra, pki);
  dirs.push(s.dataDir);
  return s;
}

/** Runs a command; resolves with its exit code and output instead of throwing. */
async function exec(file: string, args: string[], input = ''): Promise<{ code: number; output: string }> {
  const child = execFile(file, args, { timeout: 20_000 });
  child.stdin?.end(input);
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const code = await new Promise<number>((resolve) => child.on('exit', (c) => resolve(c ?? -1)));
  return { code, output };
}

/** The issuer CN of the certificate a TLS port presents (the port speaks TLS from the first byte). */
function issuerAt(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      resolve(String(s.getPeerCertificate().issuer.CN));
      s.destroy();
    });
    s.once('error', reject);
  });
}

/** The issuer CN of the certificate the plain AMQP port presents after AMQP's TLS header. */
function issuerAfterAmqpHeader(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const raw = net.connect({ host: '127.0.0.1', port }, () => raw.write(Buffer.from([0x41, 0x4d, 0x51, 0x50, 2, 1, 0, 0])));
    raw.once('error', reject);
    raw.once('data', () => {
      raw.pause();
      const s = tls.connect({ socket: raw, servername: 'localhost', rejectUnauthorized: false }, () => {
        resolve(String(s.getPeerCertificate().issuer.CN));
        s.destroy();
      });
      s.once('error', reject);
    });
  });
}

/** GET over HTTPS; resolves with the status and body. */
function httpsGet(url: string, options: https.RequestOptions): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, options, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .once('error', reject);
  });
}

describe('TLS on one server (client certificates not asked for)', () => {
  let s: TlsServer;
  beforeAll(async () => {
    s = await tlsServer(['--tls-handshake-timeout-ms', '1000']);
  });

  it('openssl s_client verifies the server certificate on the TLS ports; with another CA it fails', async () => {
    for (const port of [s.tlsPorts.mqttsPort, s.tlsPorts.amqpsPort, s.tlsPorts.mqttWssPort]) {
      const ok = await exec(
        'openssl',
        ['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', s.pki.ca.cert, '-verify_return_error', '-verify_ip', '127.0.0.1'],
        'Q\n',
      );
      expect(ok.output).toMatch(/Verify return code: 0 \(ok\)/);
      expect(ok.code).toBe(0);
    }
    const wrong = await exec(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${s.tlsPorts.mqttsPort}`, '-CAfile', s.pki.otherCa.cert, '-verify_return_error'],
      'Q\n',
    );
    expect(wrong.code).not.toBe(0);
    expect(wrong.output).toMatch(/verify error|certificate verify failed/i);
  });

  it('serves /metrics over HTTPS on the HTTP port', async () => {
    const res = await httpsGet(`https://${s.server.httpAddr}/metrics`, { ca: pem(s.pki.ca.cert), servername: 'localhost' });
    expect(res.status).toBe(200);
    expect(res.body).toContain('apogee_send_requests_total');
    await expect(httpsGet(`https://${s.server.httpAddr}/metrics`, { ca: pem(s.pki.otherCa.cert), servername: 'localhost' })).rejects.toThrow(
      /certificate|self-signed/i,
    );
  });

  it('closes a TLS client that never starts its handshake at the handshake deadline', async () => {
    for (const port of [s.tlsPorts.mqttsPort, s.tlsPorts.amqpsPort, Number(s.server.brokerAddr.split(':')[1])]) {
      const sock = net.connect({ host: '127.0.0.1', port });
      sock.on('error', () => {});
      // On the broker port (permissive) the first byte decides: a TLS record header, then silence.
      if (port === Number(s.server.brokerAddr.split(':')[1])) sock.write(Buffer.from([0x16, 0x03, 0x01]));
      await new Promise<void>((resolve) => sock.once('close', () => resolve()));
    }
  });
});

describe.skipIf(!hasMosquitto)('mutual TLS required', () => {
  let s: TlsServer;
  beforeAll(async () => {
    s = await tlsServer(['--tls-client-auth', 'required']);
  });

  it('mosquitto_pub with a client certificate of the CA connects; without one, or with another CA’s, it is refused', async () => {
    const base = ['-h', '127.0.0.1', '-p', String(s.tlsPorts.mqttsPort), '--cafile', s.pki.ca.cert, '-t', 'mtls/x', '-m', 'x', '-q', '1'];
    expect((await exec('/usr/bin/mosquitto_pub', [...base, '--cert', s.pki.client.cert, '--key', s.pki.client.key])).code).toBe(0);
    const none = await exec('/usr/bin/mosquitto_pub', base);
    expect(none.code).not.toBe(0);
    const other = await exec('/usr/bin/mosquitto_pub', [...base, '--cert', s.pki.otherClient.cert, '--key', s.pki.otherClient.key]);
    expect(other.code).not.toBe(0);
  });

  it('mqtt.js over wss:// without a certificate is refused; HTTPS metrics want one too', async () => {
    await expect(
      mqtt.connectAsync(`wss://127.0.0.1:${s.tlsPorts.mqttWssPort}/mqtt`, { ca: pem(s.pki.ca.cert), reconnectPeriod: 0, connectTimeout: 5000 }),
    ).rejects.toThrow();
    const ok = await httpsGet(`https://${s.server.httpAddr}/metrics`, {
      ca: pem(s.pki.ca.cert),
      cert: pem(s.pki.client.cert),
      key: pem(s.pki.client.key),
      servername: 'localhost',
    });
    expect(ok.status).toBe(200);
    await expect(httpsGet(`https://${s.server.httpAddr}/metrics`, { ca: pem(s.pki.ca.cert), servername: 'localhost' })).rejects.toThrow();
  });
});

describe('certificates replaced without a restart', () => {
  let s: TlsServer;
  let ports: () => Promise<string[]>;
  beforeAll(async () => {
    const certDir = tempDataDir('apg-tls-reload-pki-');
    dirs.push(certDir);
    s = await tlsServer([], makePki(certDir));
    const brokerPort = Number(s.server.brokerAddr.split(':')[1]);
    const httpPort = Number(s.server.httpAddr.split(':')[1]);
    // The issuer each TLS listener presents to a new connection.
    ports = async () => [
      await issuerAt(s.tlsPorts.mqttsPort),
      await issuerAt(s.tlsPorts.mqttWssPort),
      await issuerAt(s.tlsPorts.amqpsPort),
      await issuerAt(brokerPort),
      await issuerAt(httpPort),
      await issuerAfterAmqpHeader(s.server.amqpPort),
    ];
  });

  /** A server certificate of a new CA `name`, written over the configured files. */
  function replaceWithNewCa(name: string): void {
    const dir = path.join(s.dataDir, name);
    const ca = makeCa(dir, name);
    const next = makeCert(dir, ca, 'server', 'localhost', true);
    fs.copyFileSync(next.key, s.pki.server.key);
    fs.copyFileSync(next.cert, s.pki.server.cert);
  }

  it('SIGHUP re-reads the files: new connections get the new certificate, an open connection stays up', async () => {
    expect(await ports()).toEqual(Array(6).fill('ca'));
    const old = await mqtt.connectAsync(`mqtts://127.0.0.1:${s.tlsPorts.mqttsPort}`, { ca: pem(s.pki.ca.cert), reconnectPeriod: 0 });
    try {
      replaceWithNewCa('sighup-ca');
      s.server.proc.kill('SIGHUP');
      await s.server.waitForLog('"reason":"SIGHUP"');
      expect(s.server.output).toMatch(/"reason":"SIGHUP","subject":"CN=localhost","issuer":"CN=sighup-ca".*tls: certificates reloaded/);
      expect(await ports()).toEqual(Array(6).fill('sighup-ca'));
      // The connection made with the old certificate still works.
      await old.publishAsync('reload/old', 'still-up', { qos: 1 });
      expect(old.connected).toBe(true);
    } finally {
      await old.endAsync();
    }
  });

  it('a changed file is picked up by the watcher without a signal', async () => {
    replaceWithNewCa('watched-ca');
    await s.server.waitForLog('"issuer":"CN=watched-ca"');
    expect(s.server.output).toMatch(/"reason":"file changed: [^"]*\.pem","subject":"CN=localhost","issuer":"CN=watched-ca".*tls: certificates reloaded/);
    expect(await ports()).toEqual(Array(6).fill('watched-ca'));
  });

  it('a bad replacement keeps the certificate in use and logs which file is wrong', async () => {
    fs.writeFileSync(s.pki.server.cert, 'not a certificate\n');
    s.server.proc.kill('SIGHUP');
    await s.server.waitForLog('tls: reload failed; the certificate in use stays');
    expect(s.server.output).toContain(`TLS certificate file ${s.pki.server.cert}: is not PEM`);
    expect(await ports()).toEqual(Array(6).fill('watched-ca'));
    expect(s.server.proc.exitCode).toBe(null);
  });
});

describe('bad TLS files at start', () => {
  let pki: TestPki;
  beforeAll(() => {
    const dir = tempDataDir('apg-tls-bad-');
    dirs.push(dir);
    pki = makePki(dir);
    fs.writeFileSync(path.join(dir, 'garbage.pem'), 'hello\n');
  });

  /** Starts a server with `flags`; resolves with its exit code and output once it exited. */
  async function startFails(flags: string[]): Promise<{ code: number | null; output: string }> {
    const dataDir = tempDataDir('apg-tls-bad-data-');
    dirs.push(dataDir);
    const p = ServerProcess.spawn(dataDir, await freePorts(), flags);
    const code = await p.exited;
    return { code, output: p.output };
  }

  it.each([
    [
      'a missing certificate file',
      () => ['--tls-cert', '/nonexistent/cert.pem', '--tls-key', pki.server.key],
      /TLS certificate file \/nonexistent\/cert\.pem: cannot be read \(ENOENT\)/,
    ],
    [
      'a key of another certificate',
      () => ['--tls-cert', pki.server.cert, '--tls-key', pki.client.key],
      /TLS private key file .*client-key\.pem does not belong to the certificate in .*server\.pem/,
    ],
    [
      'a CA file that is not PEM',
      () => ['--tls-cert', pki.server.cert, '--tls-key', pki.server.key, '--tls-ca', path.join(path.dirname(path.dirname(pki.ca.cert)), 'garbage.pem')],
      /TLS CA file .*garbage\.pem: is not PEM/,
    ],
    ['a key without a certificate', () => ['--tls-key', pki.server.key], /tls-cert/],
  ])('%s: exit code 1 and a message naming the file, no stack trace', async (_what, flags, message) => {
    const r = await startFails(flags());
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBe(null);
    expect(r.output).toMatch(message);
    expect(r.output).not.toMatch(/\n\s+at /);
  });
});
