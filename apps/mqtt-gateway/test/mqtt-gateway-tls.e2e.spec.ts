/**
 * The standalone MQTT gateway over TLS: MQTT over TLS and secure WebSocket with certificates made
 * by openssl, a client trusting another CA refused, a bad key file a clear error at start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { makeTestPki } from '@apogee/tls/testing';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const dirs: string[] = [];
const procs: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function start(args: string[]): { proc: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'apps/mqtt-gateway/src/main.ts', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  return { proc, output: () => out, exited: new Promise((r) => proc.on('exit', (c) => r(c))) };
}

afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('apps/mqtt-gateway over TLS', () => {
  it('serves MQTT over TLS and secure WebSocket with the configured certificate; a client of another CA is refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-mqttgw-tls-'));
    dirs.push(dir);
    const pki = makeTestPki(path.join(dir, 'pki'));
    const [port, wsPort, tlsPort, wssPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const gw = start([
      ...['--data-dir', path.join(dir, 'data'), '--mqtt-port', String(port), '--mqtt-ws-port', String(wsPort)],
      ...['--tls-cert', pki.server.cert, '--tls-key', pki.server.key, '--tls-ca', pki.ca.cert],
      ...['--mqtts-port', String(tlsPort), '--mqtt-wss-port', String(wssPort)],
    ]);
    for (let i = 0; i < 300 && !gw.output().includes('mqtt-gateway: ready'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(gw.output()).toContain('mqtt-gateway: ready');
    expect(gw.output()).toContain(`"mqtts":"127.0.0.1:${tlsPort}"`);
    const ca = fs.readFileSync(pki.ca.cert);
    const sub = await mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, { ca, reconnectPeriod: 0 });
    const got: string[] = [];
    sub.on('message', (t, p) => got.push(`${t}=${p}`));
    await sub.subscribeAsync('gw-tls/#', { qos: 1 });
    const pub = await mqtt.connectAsync(`wss://127.0.0.1:${wssPort}/mqtt`, { ca, reconnectPeriod: 0 });
    await pub.publishAsync('gw-tls/secure', 'yes', { qos: 1 });
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual(['gw-tls/secure=yes']);
    await pub.endAsync();
    await sub.endAsync();
    await expect(
      mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, { ca: fs.readFileSync(pki.otherCa.cert), reconnectPeriod: 0, connectTimeout: 5000 }),
    ).rejects.toThrow(/certificate|self.signed/i);
    gw.proc.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
    expect(gw.output()).toContain('stopped cleanly');
  });

  it('a key that is no key stops the start with the file named', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-mqttgw-tls-bad-'));
    dirs.push(dir);
    const pki = makeTestPki(path.join(dir, 'pki'));
    const gw = start([
      '--data-dir',
      path.join(dir, 'data'),
      '--mqtt-port',
      '0',
      '--mqtt-ws-port',
      '0',
      '--tls-cert',
      pki.server.cert,
      '--tls-key',
      pki.ca.cert,
    ]);
    expect(await gw.exited).toBe(1);
    expect(gw.output()).toContain(pki.ca.cert);
    expect(gw.output()).not.toContain('mqtt-gateway: ready');
  });
});
