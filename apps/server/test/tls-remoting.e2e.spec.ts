/**
 * @apogee/client over remoting TLS against real server processes, in RocketMQ's three modes:
 * enforcing (TLS only; here with client certificates required, so the broker's own registration
 * with the NameServer presents one too), permissive (TLS and plain on one port) and disabled
 * (plain only: a TLS client is refused).
 */
import { Admin, Producer, PullConsumer, type ClientOptions } from '@apogee/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllStarted, tempDataDir } from './server-process.js';
import { type TestPki, type TlsServer, makePki, pem, removeDir, startTlsServer } from './tls-fixtures.js';

let pki: TestPki;
let certDir: string;
const servers: TlsServer[] = [];
const closers: Array<() => Promise<unknown>> = [];

beforeAll(() => {
  certDir = tempDataDir('apg-tls-remoting-pki-');
  pki = makePki(certDir, 'sdk-client');
});

afterAll(async () => {
  for (const c of closers.reverse()) await c().catch(() => {});
  await killAllStarted();
  for (const s of servers) removeDir(s.dataDir);
  removeDir(certDir);
});

async function start(mode: string, extra: string[] = []): Promise<TlsServer> {
  const s = await startTlsServer(['--remoting-tls', mode, ...extra], pki);
  servers.push(s);
  return s;
}

/** Client options for `s`'s NameServer, over TLS when `tls` is given. */
function opts(s: TlsServer, tls?: ClientOptions['tls']): ClientOptions {
  return { nameServer: s.server.namesrvAddr, requestTimeoutMs: 3000, ...(tls ? { tls } : {}) };
}

/** Creates `topic` and waits until its route is served. */
async function createTopic(o: ClientOptions, topic: string): Promise<void> {
  const admin = new Admin(o);
  closers.push(() => admin.shutdown());
  await admin.createTopic(topic, { readQueueNums: 1, writeQueueNums: 1 });
  for (let i = 0; i < 200 && !(await admin.listTopics()).includes(topic); i++) await new Promise((r) => setTimeout(r, 25));
}

/** Sends `body` with one client and pulls it back with another (their own options each). */
async function sendAndPull(sendOpts: ClientOptions, pullOpts: ClientOptions, topic: string, body: string): Promise<string[]> {
  const producer = new Producer({ ...sendOpts, group: `p-${topic}` });
  await producer.start();
  closers.push(() => producer.shutdown());
  const sent = await producer.send({ topic, body });
  expect(sent.status).toBe('SEND_OK');
  const consumer = new PullConsumer({ ...pullOpts, group: `c-${topic}` });
  await consumer.start();
  closers.push(() => consumer.shutdown());
  const [queue] = await consumer.fetchSubscribeQueues(topic);
  const result = await consumer.pull(queue!, '*', 0, 32);
  return result.messages.map((m) => m.body.toString());
}

describe('remoting TLS enforcing, client certificates required', () => {
  let s: TlsServer;
  beforeAll(async () => {
    s = await start('enforcing', ['--tls-client-auth', 'required']);
  });

  it('a client with the CA and a client certificate sends and pulls through NameServer and broker', async () => {
    const tls = { ca: pem(pki.ca.cert), cert: pem(pki.client.cert), key: pem(pki.client.key) };
    await createTopic(opts(s, tls), 'TlsEnforced');
    expect(await sendAndPull(opts(s, tls), opts(s, tls), 'TlsEnforced', 'enforced')).toEqual(['enforced']);
  });

  it('a plain client is refused; so is a TLS client without a certificate and one trusting another CA', async () => {
    const plain = new Admin(opts(s));
    closers.push(() => plain.shutdown());
    await expect(plain.listTopics()).rejects.toThrow();
    const noCert = new Admin(opts(s, { ca: pem(pki.ca.cert) }));
    closers.push(() => noCert.shutdown());
    await expect(noCert.listTopics()).rejects.toThrow();
    const wrongCa = new Admin(opts(s, { ca: pem(pki.otherCa.cert), cert: pem(pki.client.cert), key: pem(pki.client.key) }));
    closers.push(() => wrongCa.shutdown());
    await expect(wrongCa.listTopics()).rejects.toThrow(/certificate|self-signed/i);
    expect(s.server.output).toMatch(/a plain connection while remoting TLS is enforcing/);
  });
});

describe('remoting TLS permissive', () => {
  it('serves TLS and plain clients on the same ports: a TLS producer, a plain consumer', async () => {
    const s = await start('permissive');
    const tls = { ca: pem(pki.ca.cert) };
    await createTopic(opts(s), 'TlsPermissive');
    expect(await sendAndPull(opts(s, tls), opts(s), 'TlsPermissive', 'mixed')).toEqual(['mixed']);
  });
});

describe('remoting TLS disabled', () => {
  it('serves plain clients and refuses a TLS client (its handshake is not remoting)', async () => {
    const s = await start('disabled');
    await createTopic(opts(s), 'TlsDisabled');
    expect(await sendAndPull(opts(s), opts(s), 'TlsDisabled', 'plain-only')).toEqual(['plain-only']);
    const tlsAdmin = new Admin(opts(s, { ca: pem(pki.ca.cert) }));
    closers.push(() => tlsAdmin.shutdown());
    await expect(tlsAdmin.listTopics()).rejects.toThrow();
  });
});
