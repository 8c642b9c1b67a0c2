import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RemotingCommand, ResponseCode } from '../index.js';
import { RemotingClient } from './client.js';
import { responseTo } from './responses.js';
import { RemotingServer } from './server.js';

let dir: string;
let cert: Buffer;
let key: Buffer;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apogee-remoting-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      'key.pem',
      '-out',
      'cert.pem',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { cwd: dir, stdio: 'ignore' },
  );
  cert = fs.readFileSync(path.join(dir, 'cert.pem'));
  key = fs.readFileSync(path.join(dir, 'key.pem'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ECHO = 1000;
function request(): RemotingCommand {
  return { code: ECHO, language: 'JAVA', version: 401, opaque: 0, flag: 0, extFields: { k: 'v' } };
}

describe('remoting over TLS', () => {
  it('the socket gate serves what it hands over and the client connects with its TLS options', async () => {
    // The gate: every accepted socket goes through a TLS handshake first (what the remoting TLS modes do).
    const handOff = tls.createServer({ cert, key });
    const server = new RemotingServer({
      socketGate: (serve) => {
        handOff.on('secureConnection', serve);
        return (socket) => handOff.emit('connection', socket);
      },
    });
    server.register(ECHO, (req) => ({ ...responseTo(req, ResponseCode.SUCCESS), extFields: { tls: String(req.extFields['k']) } }));
    const { port } = await server.listen(0);
    const secure = new RemotingClient({ requestTimeoutMs: 5000, tls: { ca: cert } });
    const plain = new RemotingClient({ requestTimeoutMs: 2000 });
    try {
      const res = await secure.invoke(`127.0.0.1:${port}`, request());
      expect(res.extFields).toEqual({ tls: 'v' });
      expect([...server.connections][0]!.socket).toBeInstanceOf(tls.TLSSocket);
      // A plain client's frame is no TLS handshake: the connection fails instead of being served.
      await expect(plain.invoke(`127.0.0.1:${port}`, request())).rejects.toThrow();
      // A client that does not trust the certificate is refused by its own check.
      const distrustful = new RemotingClient({ requestTimeoutMs: 2000, tls: {} });
      await expect(distrustful.invoke(`127.0.0.1:${port}`, request())).rejects.toThrow(/self-signed|self signed/);
      distrustful.close();
    } finally {
      secure.close();
      plain.close();
      await server.close();
    }
  });
});
