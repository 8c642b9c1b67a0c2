/**
 * MQTT over TLS and secure WebSocket against a real server process, with independent clients:
 * mosquitto_pub/mosquitto_sub (--cafile, --cert/--key), python3-paho-mqtt (tls_set) and mqtt.js
 * (mqtts://, wss://); mutual TLS and useIdentityAsUsername (the certificate's CN picks the ACL).
 * Locally the Debian clients skip when missing; under CI=true they must run.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { hashPassword } from '@apogee/broker';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllStarted, tempDataDir } from './server-process.js';
import { type TestPki, type TlsServer, makePki, pem, removeDir, startTlsServer } from './tls-fixtures.js';

const run = promisify(execFile);
const CI = process.env['CI'] === 'true';
const hasMosquitto = fs.existsSync('/usr/bin/mosquitto_pub') && fs.existsSync('/usr/bin/mosquitto_sub');
const PYTHON = '/usr/bin/python3';
const hasPaho = fs.existsSync(PYTHON) && fs.existsSync('/usr/lib/python3/dist-packages/paho/mqtt/client.py');
if (CI && (!hasMosquitto || !hasPaho)) throw new Error('CI=true but mosquitto-clients or python3-paho-mqtt is missing: .ci/run installs them');

let open: TlsServer;
let identity: TlsServer;
let pki: TestPki;
const dirs: string[] = [];

beforeAll(async () => {
  // One set of certificates for both servers: the client certificate's CN is alice.
  const certDir = tempDataDir('apg-tls-mqtt-pki-');
  dirs.push(certDir);
  pki = makePki(certDir, 'alice');
  open = await startTlsServer(['--tls-client-auth', 'optional', '--log-level', 'debug'], pki);
  dirs.push(open.dataDir);
  // Users alice and bob, nobody anonymous; on TLS the certificate's CN is the user.
  const idDir = tempDataDir('apg-tls-mqtt-id-');
  dirs.push(idDir);
  const password = await hashPassword('bob-secret', 1024);
  const config = path.join(idDir, 'config.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      mqtt: { useIdentityAsUsername: true },
      auth: {
        allowAnonymous: false,
        users: [
          { username: 'alice', password, publish: { allow: ['alice/#'] }, subscribe: { allow: ['alice/#'] } },
          { username: 'bob', password, publish: { allow: ['bob/#'] }, subscribe: { allow: ['bob/#'] } },
        ],
      },
    }),
  );
  identity = await startTlsServer(['--tls-client-auth', 'optional', '--config', config], pki, path.join(idDir, 'data'));
});

afterAll(async () => {
  await killAllStarted();
  for (const d of dirs) removeDir(d);
});

/** mosquitto_sub waiting for `count` messages; `ready` once it printed its SUBACK (-d). */
function mosquittoSub(port: number, args: string[]): { ready: Promise<void>; done: Promise<string[]> } {
  // Line-buffered: over TLS mosquitto_sub's -d lines otherwise sit in its stdout buffer until it exits.
  const p = spawn('/usr/bin/stdbuf', ['-oL', '/usr/bin/mosquitto_sub', '-h', '127.0.0.1', '-p', String(port), '-v', '-W', '20', '-d', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (err += d));
  const done = new Promise<string[]>((resolve, reject) =>
    p.on('exit', (code) =>
      code === 0
        ? resolve(
            out
              .trim()
              .split('\n')
              .filter((l) => !/^(Client |Subscribed )/.test(l)),
          )
        : reject(new Error(`mosquitto_sub exited ${code}: ${out} ${err}`)),
    ),
  );
  const ready = new Promise<void>((resolve, reject) => {
    const deadline = Date.now() + 15_000;
    const check = () => {
      if (out.includes('SUBACK') || err.includes('SUBACK')) resolve();
      else if (p.exitCode !== null || Date.now() > deadline) reject(new Error(`mosquitto_sub never subscribed: ${out} ${err}`));
      else setTimeout(check, 20);
    };
    check();
  });
  return { ready, done };
}

/** mosquitto_pub; resolves with its exit code and output (a refused connection is a non-zero code). */
async function mosquittoPub(port: number, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('/usr/bin/mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 20_000 });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe.skipIf(!hasMosquitto)('mosquitto-clients over TLS', () => {
  it('mosquitto_pub → mosquitto_sub on the MQTT-over-TLS port with --cafile; a client trusting another CA is refused', async () => {
    const port = open.tlsPorts.mqttsPort;
    const sub = mosquittoSub(port, ['--cafile', pki.ca.cert, '-t', 'tls/mosquitto/#', '-q', '1', '-C', '2']);
    await sub.ready;
    expect((await mosquittoPub(port, ['--cafile', pki.ca.cert, '-t', 'tls/mosquitto/a', '-m', 'one', '-q', '1'])).code).toBe(0);
    // mTLS: a client certificate of the configured CA is accepted (client certificates optional).
    const withCert = await mosquittoPub(port, [
      '--cafile',
      pki.ca.cert,
      '--cert',
      pki.client.cert,
      '--key',
      pki.client.key,
      '-t',
      'tls/mosquitto/b',
      '-m',
      'two',
      '-q',
      '1',
    ]);
    expect(withCert.code).toBe(0);
    expect((await sub.done).sort()).toEqual(['tls/mosquitto/a one', 'tls/mosquitto/b two']);
    const wrongCa = await mosquittoPub(port, ['--cafile', pki.otherCa.cert, '-t', 'tls/mosquitto/c', '-m', 'x']);
    expect(wrongCa.code).not.toBe(0);
    expect(wrongCa.output).toMatch(/TLS|certificate|SSL/i);
  });

  it('useIdentityAsUsername: the CN is the user (its ACL applies, the CONNECT username is ignored); no certificate is refused', async () => {
    const port = identity.tlsPorts.mqttsPort;
    const tlsArgs = ['--cafile', pki.ca.cert, '--cert', pki.client.cert, '--key', pki.client.key];
    const sub = mosquittoSub(port, [...tlsArgs, '-t', 'alice/#', '-q', '1', '-C', '1']);
    await sub.ready;
    // Claims to be bob with bob's password: the certificate says alice, so bob/# is not alice's to publish.
    expect((await mosquittoPub(port, [...tlsArgs, '-u', 'bob', '-P', 'bob-secret', '-t', 'alice/in', '-m', 'from-cert', '-q', '1'])).code).toBe(0);
    expect(await sub.done).toEqual(['alice/in from-cert']);
    // Without a certificate the client is anonymous, and anonymous access is off: CONNACK not authorised.
    const anonymous = await mosquittoPub(port, ['--cafile', pki.ca.cert, '-u', 'bob', '-P', 'bob-secret', '-t', 'bob/x', '-m', 'x', '-q', '1']);
    expect(anonymous.code).not.toBe(0);
    expect(anonymous.output).toMatch(/not authori[sz]ed/i);
  });
});

const PAHO_TLS = `
import sys, threading, ssl
import paho.mqtt.client as mqtt
port = int(sys.argv[1]); ca = sys.argv[2]
got = []; subscribed = threading.Event(); done = threading.Event()
def on_message(c, u, m):
    got.append((m.topic, m.payload.decode()))
    done.set()
sub = mqtt.Client(client_id='paho-tls-sub', protocol=mqtt.MQTTv311)
sub.tls_set(ca_certs=ca, cert_reqs=ssl.CERT_REQUIRED)
sub.on_message = on_message
sub.on_subscribe = lambda *a: subscribed.set()
sub.connect('127.0.0.1', port); sub.loop_start()
sub.subscribe('tls/paho/#', qos=1)
assert subscribed.wait(10), 'no SUBACK'
pub = mqtt.Client(client_id='paho-tls-pub', protocol=mqtt.MQTTv311)
pub.tls_set(ca_certs=ca, cert_reqs=ssl.CERT_REQUIRED)
pub.connect('127.0.0.1', port); pub.loop_start()
pub.publish('tls/paho/x', 'over-tls', qos=1).wait_for_publish(10)
assert done.wait(10), 'nothing received'
print(got, sub._ssl is not None)
pub.loop_stop(); sub.loop_stop(); pub.disconnect(); sub.disconnect()
`;

describe.skipIf(!hasPaho)('python3-paho-mqtt over TLS', () => {
  it('paho with tls_set publishes and subscribes on the MQTT-over-TLS port', async () => {
    const script = path.join(open.dataDir, 'paho-tls.py');
    fs.writeFileSync(script, PAHO_TLS);
    const { stdout } = await run(PYTHON, [script, String(open.tlsPorts.mqttsPort), pki.ca.cert], { timeout: 60_000 });
    expect(stdout.trim()).toBe("[('tls/paho/x', 'over-tls')] True");
  });
});

describe('mqtt.js over TLS', () => {
  it('mqtts:// and wss:// reach the same engine; a client without the CA is refused', async () => {
    const ca = pem(pki.ca.cert);
    const sub = await mqtt.connectAsync(`mqtts://127.0.0.1:${open.tlsPorts.mqttsPort}`, { ca, reconnectPeriod: 0, protocolVersion: 5 });
    const pub = await mqtt.connectAsync(`wss://127.0.0.1:${open.tlsPorts.mqttWssPort}/mqtt`, { ca, reconnectPeriod: 0, protocolVersion: 4 });
    try {
      const got = new Promise<string>((resolve) => sub.on('message', (t, p) => resolve(`${t} ${p.toString()}`)));
      await sub.subscribeAsync('tls/mqttjs/#', { qos: 1 });
      await pub.publishAsync('tls/mqttjs/wss', 'secure-ws', { qos: 1 });
      expect(await got).toBe('tls/mqttjs/wss secure-ws');
    } finally {
      await sub.endAsync();
      await pub.endAsync();
    }
    await expect(mqtt.connectAsync(`mqtts://127.0.0.1:${open.tlsPorts.mqttsPort}`, { reconnectPeriod: 0, connectTimeout: 5000 })).rejects.toThrow(
      /self-signed|certificate/i,
    );
  });

  it('useIdentityAsUsername over wss:// too: alice by certificate may subscribe alice/# but not bob/#', async () => {
    const c = await mqtt.connectAsync(`wss://127.0.0.1:${identity.tlsPorts.mqttWssPort}/mqtt`, {
      ca: pem(pki.ca.cert),
      cert: pem(pki.client.cert),
      key: pem(pki.client.key),
      reconnectPeriod: 0,
      protocolVersion: 4,
    });
    try {
      const granted = await c.subscribeAsync('alice/#', { qos: 1 });
      expect(granted.map((g) => [g.topic, g.qos])).toEqual([['alice/#', 1]]);
      // SUBACK 0x80 for bob/#: mqtt.js turns a refused filter into an error with its code.
      await expect(c.subscribeAsync('bob/#', { qos: 1 })).rejects.toMatchObject({ packet: { granted: [128] } });
    } finally {
      await c.endAsync();
    }
    // The plain port still authenticates by password: anonymous is refused there.
    await expect(mqtt.connectAsync(identity.server.mqttUrl, { reconnectPeriod: 0, connectTimeout: 5000 })).rejects.toThrow(/Not authorized|not authori/i);
  });
});
