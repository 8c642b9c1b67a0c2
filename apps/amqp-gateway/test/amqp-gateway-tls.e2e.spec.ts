/**
 * The standalone AMQP gateway over TLS: a round trip on the AMQP-over-TLS port with certificates
 * made by openssl, the plain port still plain, a client of another CA refused, a bad certificate
 * file a clear error at start.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { makeTestPki } from '@apogee/tls/testing';
import type * as Rhea from 'rhea';
import { afterAll, describe, expect, it } from 'vitest';

const rhea = createRequire(import.meta.url)('rhea') as typeof Rhea;
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
  const proc = spawn(process.execPath, ['--import', 'tsx', 'apps/amqp-gateway/src/main.ts', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  return { proc, output: () => out, exited: new Promise((r) => proc.on('exit', (c) => r(c))) };
}

/** Sends one message to `queue` and receives it back; `tls` connects over TLS with these options. */
function roundTrip(port: number, queue: string, tls?: { ca: Buffer }): Promise<string> {
  return new Promise((resolve, reject) => {
    const plain = { host: '127.0.0.1', port, reconnect: false };
    const options = (tls ? { ...plain, transport: 'tls', ca: tls.ca, servername: 'localhost' } : plain) as Rhea.ConnectionOptions;
    const conn = rhea.create_container({ id: `rt-${queue}` }).connect(options);
    const t = setTimeout(() => reject(new Error('no AMQP round trip within 10 s')), 10_000);
    conn.on('error', (e) => reject(e as Error));
    conn.on('disconnected', (ctx) => reject(ctx.error ?? new Error('disconnected')));
    conn.open_receiver(queue).on('message', (ctx) => {
      clearTimeout(t);
      resolve(String(ctx.message?.body));
      conn.close();
    });
    conn.open_sender(queue).on('sendable', (ctx) => {
      ctx.sender?.send({ body: 'secure' });
      ctx.sender?.close();
    });
  });
}

afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('apps/amqp-gateway over TLS', () => {
  it('serves AMQP over TLS on --amqps-port and plain AMQP on --amqp-port; a client of another CA is refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-amqpgw-tls-'));
    dirs.push(dir);
    const pki = makeTestPki(path.join(dir, 'pki'));
    const [port, tlsPort] = [await freePort(), await freePort()];
    const gw = start([
      ...['--data-dir', path.join(dir, 'data'), '--amqp-port', String(port), '--amqps-port', String(tlsPort)],
      ...['--tls-cert', pki.server.cert, '--tls-key', pki.server.key],
    ]);
    for (let i = 0; i < 300 && !gw.output().includes('amqp-gateway: ready'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(gw.output()).toContain('amqp-gateway: ready');
    expect(await roundTrip(tlsPort, 'q-tls', { ca: fs.readFileSync(pki.ca.cert) })).toBe('secure');
    expect(await roundTrip(port, 'q-plain')).toBe('secure');
    await expect(roundTrip(tlsPort, 'q-other', { ca: fs.readFileSync(pki.otherCa.cert) })).rejects.toThrow(/certificate|self.signed/i);
    gw.proc.kill('SIGTERM');
    expect(await gw.exited).toBe(0);
    expect(gw.output()).toContain('stopped cleanly');
  });

  it('a certificate file that is no certificate stops the start with the file named', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-amqpgw-tls-bad-'));
    dirs.push(dir);
    const pki = makeTestPki(path.join(dir, 'pki'));
    const gw = start(['--data-dir', path.join(dir, 'data'), '--amqp-port', '0', '--tls-cert', pki.server.key, '--tls-key', pki.server.key]);
    expect(await gw.exited).toBe(1);
    expect(gw.output()).toContain(pki.server.key);
    expect(gw.output()).not.toContain('amqp-gateway: ready');
  });
});
