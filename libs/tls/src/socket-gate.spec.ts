import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ServerTlsContext } from './server-context.js';
import { AMQP_TLS_HEADER, type SocketGate, amqpTlsHeaderGate, remotingTlsGate } from './socket-gate.js';
import { type TestPki, makeTestPki } from './testing/make-certs.js';

const quiet = { info() {}, error() {} };
let dir: string;
let pki: TestPki;
const servers: net.Server[] = [];
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apogee-tls-gate-'));
  pki = makeTestPki(dir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function context(clientAuth: 'none' | 'required' = 'none', handshakeTimeoutMs = 10_000): ServerTlsContext {
  return new ServerTlsContext({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca.cert, clientAuth, handshakeTimeoutMs }, quiet);
}

/** An echo server behind `gate`: it answers each chunk with "tls:" or "plain:" and the chunk. */
async function echoBehind(gate: SocketGate): Promise<number> {
  const server = net.createServer(
    gate((s) => {
      s.on('data', (d: Buffer) => s.write(`${s instanceof tls.TLSSocket ? 'tls' : 'plain'}:${d.toString()}`));
      s.on('error', () => {});
    }),
  );
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

function firstReply(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    socket.once('data', (d: Buffer) => resolve(d.toString()));
    socket.once('close', () => resolve('<closed>'));
    socket.on('error', () => {});
  });
}

function tlsConnect(port: number, extra: tls.ConnectionOptions = {}): tls.TLSSocket {
  return tls.connect({ host: '127.0.0.1', port, ca: fs.readFileSync(pki.ca.cert), ...extra });
}

describe('remotingTlsGate', () => {
  it('permissive serves TLS and plain on one port, told apart by the first byte', async () => {
    const port = await echoBehind(remotingTlsGate('permissive', context(), 'test')!);
    const plain = net.connect(port, '127.0.0.1', () => plain.write('hello'));
    expect(await firstReply(plain)).toBe('plain:hello');
    plain.destroy();
    const secure = tlsConnect(port);
    secure.once('secureConnect', () => secure.write('hello'));
    expect(await firstReply(secure)).toBe('tls:hello');
    secure.destroy();
  });

  it('enforcing closes a plain client and serves TLS', async () => {
    const refused: string[] = [];
    const port = await echoBehind(remotingTlsGate('enforcing', context(), 'test', (_s, why) => refused.push(why))!);
    const plain = net.connect(port, '127.0.0.1', () => plain.write('hello'));
    expect(await firstReply(plain)).toBe('<closed>');
    expect(refused).toEqual(['a plain connection while remoting TLS is enforcing']);
    const secure = tlsConnect(port);
    secure.once('secureConnect', () => secure.write('x'));
    expect(await firstReply(secure)).toBe('tls:x');
    secure.destroy();
  });

  it('disabled has no gate, and a mode with TLS needs a certificate', () => {
    expect(remotingTlsGate('disabled', null, 'test')).toBeUndefined();
    expect(() => remotingTlsGate('enforcing', null, 'test')).toThrow('needs a certificate');
  });

  it('required client certificates: a client without one, or with one of another CA, is closed', async () => {
    const refused: string[] = [];
    const port = await echoBehind(remotingTlsGate('enforcing', context('required'), 'test', (_s, why) => refused.push(why))!);
    const none = tlsConnect(port);
    none.once('secureConnect', () => none.write('x'));
    expect(await firstReply(none)).toBe('<closed>');
    const other = tlsConnect(port, { cert: fs.readFileSync(pki.otherClient.cert), key: fs.readFileSync(pki.otherClient.key) });
    other.once('secureConnect', () => other.write('x'));
    expect(await firstReply(other)).toBe('<closed>');
    const good = tlsConnect(port, { cert: fs.readFileSync(pki.client.cert), key: fs.readFileSync(pki.client.key) });
    good.once('secureConnect', () => good.write('x'));
    expect(await firstReply(good)).toBe('tls:x');
    good.destroy();
    expect(refused.length).toBe(2);
  });

  it('a client that starts a TLS handshake and goes silent is closed at the handshake deadline', async () => {
    const refused: string[] = [];
    const port = await echoBehind(remotingTlsGate('enforcing', context('none', 200), 'test', (_s, why) => refused.push(why))!);
    const silent = net.connect(port, '127.0.0.1', () => silent.write(Buffer.from([0x16, 0x03, 0x01])));
    expect(await firstReply(silent)).toBe('<closed>');
    expect(refused).toEqual(['TLS handshake timeout']);
  });
});

describe('amqpTlsHeaderGate', () => {
  it('answers the TLS protocol header with itself and runs TLS on the same socket; other starts pass through', async () => {
    const port = await echoBehind(amqpTlsHeaderGate(context(), 'test'));
    const plain = net.connect(port, '127.0.0.1', () => plain.write('AMQP\x00\x01\x00\x00'));
    expect(await firstReply(plain)).toBe('plain:AMQP\x00\x01\x00\x00');
    plain.destroy();
    const raw = net.connect(port, '127.0.0.1', () => raw.write(AMQP_TLS_HEADER));
    const header = await new Promise<Buffer>((resolve) => raw.once('data', resolve));
    expect(header).toEqual(AMQP_TLS_HEADER);
    const secure = tls.connect({ socket: raw, servername: 'localhost', ca: fs.readFileSync(pki.ca.cert) });
    secure.once('secureConnect', () => secure.write('AMQP\x03\x01\x00\x00'));
    expect(await firstReply(secure)).toBe('tls:AMQP\x03\x01\x00\x00');
    secure.destroy();
  });
});
