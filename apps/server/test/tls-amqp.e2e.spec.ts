/**
 * AMQP 1.0 over TLS against a real server process: Qpid Proton (python3-qpid-proton, amqps://)
 * and rhea on the AMQP-over-TLS port, rhea through AMQP's TLS protocol header (spec 5.2.1) on the
 * plain AMQP port, and a server without a certificate answering that header with the one it
 * supports and closing. Locally proton skips when missing; under CI=true it must run.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import type * as Rhea from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';
import { type TlsServer, pem, removeDir, startTlsServer } from './tls-fixtures.js';

const rhea = createRequire(import.meta.url)('rhea') as typeof Rhea;
const run = promisify(execFile);
const CI = process.env['CI'] === 'true';
const PYTHON = '/usr/bin/python3';
const hasProton = fs.existsSync(PYTHON) && fs.existsSync('/usr/lib/python3/dist-packages/proton/__init__.py');
if (CI && !hasProton) throw new Error('CI=true but python3-qpid-proton is missing: .ci/run installs it');

/** AMQP's TLS protocol header: "AMQP", protocol id 2, version 1.0.0. */
const TLS_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 2, 1, 0, 0]);

let s: TlsServer;

beforeAll(async () => {
  s = await startTlsServer();
});

afterAll(async () => {
  await killAllStarted();
  removeDir(s.dataDir);
});

/** Opens a rhea connection; `connect` replaces rhea's socket factory. */
function rheaConnect(options: Rhea.ConnectionOptions): Promise<Rhea.Connection> {
  const c = rhea.create_container({ id: `tls-${Math.random().toString(36).slice(2)}` }).connect({ reconnect: false, ...options });
  c.on('error', () => {});
  c.on('disconnected', () => {});
  return new Promise((resolve, reject) => {
    c.once('connection_open', () => resolve(c));
    c.once('connection_error', () => reject(new Error('connection error')));
    c.once('disconnected', (ctx) => reject(ctx.error ?? new Error('disconnected')));
  });
}

/** Sends `body` to `address` and receives it back on the same connection. */
async function roundTrip(c: Rhea.Connection, address: string, body: string): Promise<string> {
  const got = new Promise<string>((resolve) => {
    const r = c.open_receiver({ source: { address }, credit_window: 10 });
    r.on('message', (ctx) => resolve(String(ctx.message!.body)));
    r.once('receiver_open', () => {
      const snd = c.open_sender({ target: { address } });
      snd.once('sendable', () => snd.send({ body }));
    });
  });
  return got;
}

/** Opens a socket, exchanges AMQP's TLS header, and starts TLS on that socket; resolves with the secure socket. */
function tlsThroughHeader(port: number, ca: Buffer): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const raw = net.connect({ host: '127.0.0.1', port }, () => raw.write(TLS_HEADER));
    raw.once('error', reject);
    let head = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      head = Buffer.concat([head, d]);
      if (head.length < 8) return;
      raw.off('data', onData);
      raw.pause();
      if (!head.subarray(0, 8).equals(TLS_HEADER)) return reject(new Error(`server answered ${head.toString('hex')}`));
      const secure = tls.connect({ socket: raw, ca, servername: 'localhost' }, () => resolve(secure));
      secure.once('error', reject);
    };
    raw.on('data', onData);
  });
}

describe('rhea over TLS', () => {
  it('sends and receives on the AMQP-over-TLS port (amqps); a client trusting another CA is refused', async () => {
    const c = await rheaConnect({ host: '127.0.0.1', port: s.tlsPorts.amqpsPort, transport: 'tls', ca: pem(s.pki.ca.cert), servername: 'localhost' } as never);
    try {
      expect((c as unknown as { socket: tls.TLSSocket }).socket.encrypted).toBe(true);
      expect(await roundTrip(c, 'tls-amqps-q', 'over-amqps')).toBe('over-amqps');
    } finally {
      c.close();
    }
    await expect(
      rheaConnect({ host: '127.0.0.1', port: s.tlsPorts.amqpsPort, transport: 'tls', ca: pem(s.pki.otherCa.cert), servername: 'localhost' } as never),
    ).rejects.toThrow(/certificate|self-signed/i);
  });

  it('sends and receives through the TLS protocol header on the plain AMQP port', async () => {
    const secure = await tlsThroughHeader(s.server.amqpPort, pem(s.pki.ca.cert));
    expect(secure.authorized).toBe(true);
    const c = await rheaConnect({
      connect: (_port: number, _host: string, _options: unknown, connected: () => void) => {
        setImmediate(connected);
        return secure;
      },
    } as never);
    try {
      expect(await roundTrip(c, 'tls-header-q', 'via-tls-header')).toBe('via-tls-header');
    } finally {
      c.close();
    }
  });

  it('still serves plain AMQP on the same port', async () => {
    const c = await rheaConnect({ host: '127.0.0.1', port: s.server.amqpPort });
    try {
      expect(await roundTrip(c, 'tls-plain-q', 'plain')).toBe('plain');
    } finally {
      c.close();
    }
  });
});

describe('AMQP TLS header without a certificate', () => {
  it('answers with a header the server supports and closes (spec 2.2)', async () => {
    const dir = tempDataDir('apg-tls-amqp-plain-');
    try {
      const plain = await ServerProcess.start(dir);
      const answer = await new Promise<Buffer>((resolve, reject) => {
        const sock = net.connect({ host: '127.0.0.1', port: plain.amqpPort }, () => sock.write(TLS_HEADER));
        let got = Buffer.alloc(0);
        sock.on('data', (d) => (got = Buffer.concat([got, d])));
        sock.once('error', reject);
        sock.once('close', () => resolve(got));
      });
      expect(answer.subarray(0, 4).toString('latin1')).toBe('AMQP');
      expect(answer[4]).toBe(3); // SASL: what the plain port speaks
      expect([...answer.subarray(5, 8)]).toEqual([1, 0, 0]);
      await plain.stop();
    } finally {
      removeDir(dir);
    }
  });
});

const PROTON_TLS = String.raw`
import sys
from proton import Message, SSLDomain
from proton.handlers import MessagingHandler
from proton.reactor import Container

port, ca, address = sys.argv[1], sys.argv[2], sys.argv[3]

class RoundTrip(MessagingHandler):
    def __init__(self):
        super().__init__()
        self.got = None
        self.sent = False

    def on_start(self, event):
        domain = SSLDomain(SSLDomain.MODE_CLIENT)
        domain.set_trusted_ca_db(ca)
        domain.set_peer_authentication(SSLDomain.VERIFY_PEER_NAME)
        conn = event.container.connect("amqps://localhost:%s" % port, ssl_domain=domain)
        event.container.create_receiver(conn, address)
        self.sender = event.container.create_sender(conn, address)

    def on_sendable(self, event):
        if not self.sent:
            event.sender.send(Message(body="over-proton-tls"))
            self.sent = True

    def on_message(self, event):
        self.got = event.message.body
        event.connection.close()

    def on_transport_error(self, event):
        print("transport error: %s" % (event.transport.condition and event.transport.condition.description))
        event.connection.close()

h = RoundTrip()
Container(h).run()
print("got: %s" % h.got)
`;

describe.skipIf(!hasProton)('python3-qpid-proton over TLS', () => {
  it('sends and receives over amqps:// verifying the server name; another CA is a transport error', async () => {
    const script = path.join(s.dataDir, 'proton-tls.py');
    fs.writeFileSync(script, PROTON_TLS);
    const ok = await run(PYTHON, [script, String(s.tlsPorts.amqpsPort), s.pki.ca.cert, 'tls-proton-q'], { timeout: 60_000 });
    expect(ok.stdout.trim().split('\n').pop()).toBe('got: over-proton-tls');
    const refused = await run(PYTHON, [script, String(s.tlsPorts.amqpsPort), s.pki.otherCa.cert, 'tls-proton-q'], { timeout: 60_000 });
    expect(refused.stdout).toMatch(/transport error: .*certificate/i);
    expect(refused.stdout.trim().split('\n').pop()).toBe('got: None');
  });
});
