import { Authorizer, hashPassword, parseAuthConfig } from '@apogee/broker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpHarness, openReceiver, openSender, refusedAttach, sendAndWait } from './harness.js';
import { RawAmqp, dataMessage } from './raw-amqp.js';
import { AmqpRefusalCounters } from '../src/refusal-counters.js';

let h: AmqpHarness;
beforeAll(async () => {
  h = await AmqpHarness.start({ maxFrameSize: 4096, maxSessionsPerConnection: 4, idleTimeoutMs: 300 });
});
afterAll(async () => {
  await h.close();
});

/** A rhea connection that stays usable (proves only the bad connection was closed). */
async function stillServing(): Promise<void> {
  const c = await h.connect();
  const s = await openSender(c, 'q-alive');
  expect((await sendAndWait(s, { body: 'ok' })).outcome).toBe('accepted');
  c.close();
}

describe('bad input closes only that connection', () => {
  it('answers a wrong protocol header with its own header and closes', async () => {
    const raw = await RawAmqp.connect(h.port);
    raw.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    await raw.done;
    expect(raw.header?.toString('latin1', 0, 4)).toBe('AMQP');
    await stillServing();
  });

  it('closes with framing-error on a frame larger than max-frame-size', async () => {
    const raw = await RawAmqp.connect(h.port);
    raw.open();
    await raw.waitFor((f) => f.code === 0x10, 'open');
    const big = Buffer.alloc(16);
    big.writeUInt32BE(1_000_000, 0);
    raw.write(big);
    const close = await raw.waitFor((f) => f.code === 0x18, 'close');
    expect(RawAmqp.errorOf(close).condition).toBe('amqp:connection:framing-error');
    expect(h.gateway.stats().refusals.protocol.frame_size).toBe(1);
    await raw.done;
    await stillServing();
  });

  it('closes with an error on garbage bytes inside a frame', async () => {
    const raw = await RawAmqp.connect(h.port);
    raw.open();
    await raw.waitFor((f) => f.code === 0x10, 'open');
    const junk = Buffer.alloc(40, 0xff);
    junk.writeUInt32BE(40, 0);
    junk[4] = 2;
    junk[5] = 0;
    junk.writeUInt16BE(0, 6);
    raw.write(junk);
    const close = await raw.waitFor((f) => f.code === 0x18, 'close');
    expect(RawAmqp.errorOf(close).condition).toMatch(/^amqp:/);
    await raw.done;
    await stillServing();
  });

  it('closes with framing-error on a channel above channel-max', async () => {
    const raw = await RawAmqp.connect(h.port);
    raw.open();
    const open = await raw.waitFor((f) => f.code === 0x10, 'open');
    expect(open.body.length).toBeGreaterThan(0);
    raw.begin(9);
    const close = await raw.waitFor((f) => f.code === 0x18, 'close');
    expect(RawAmqp.errorOf(close)).toMatchObject({ condition: 'amqp:connection:framing-error' });
    expect(RawAmqp.errorOf(close).description).toContain('channel-max');
    expect(h.gateway.stats().refusals.protocol).toMatchObject({ frame_size: 1, framing_error: 1 });
  });

  it("announces max-frame-size, channel-max and idle-time-out, sends heartbeats at half the peer's idle-time-out, and drops a silent peer", async () => {
    const c = await h.connect({ idle_time_out: 100 } as never);
    const remote = (c as unknown as { remote: { open: { max_frame_size: number; channel_max: number; idle_time_out: number } } }).remote.open;
    expect(remote).toMatchObject({ max_frame_size: 4096, channel_max: 3, idle_time_out: 300 });
    c.close();
    const raw = await RawAmqp.connect(h.port);
    raw.open({ idleTimeoutMs: 100 });
    // Empty frames keep the raw client's connection alive; then, silent itself, it is dropped.
    await raw.waitFor((f) => f.code === undefined, 'a heartbeat frame');
    const close = await raw.waitFor((f) => f.code === 0x18, 'close for idleness');
    expect(RawAmqp.errorOf(close).condition).toBe('amqp:resource-limit-exceeded');
  });

  it("splits outgoing messages to the peer's max-frame-size and reassembles incoming multi-frame transfers", async () => {
    const c = await h.connect({ max_frame_size: 1024 } as never);
    const s = await openSender(c, 'q-big');
    const body = Buffer.alloc(20_000, 7);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    expect((await sendAndWait(s, { body })).outcome).toBe('accepted');
    const r = await openReceiver(c, 'q-big', {}, 1);
    for (let i = 0; i < 500 && r.got.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
    const got = r.got[0]!.message.body as { content?: Buffer } | Buffer;
    expect(Buffer.compare(Buffer.isBuffer(got) ? got : got.content!, body)).toBe(0);
    c.close();
  });

  it('reassembles continuation frames that repeat the delivery-id and tag', async () => {
    const raw = await RawAmqp.connect(h.port);
    raw.open({ maxFrameSize: 4096 });
    raw.begin(0);
    raw.attachSender(0, 0, 'raw-sender', 'q-cont');
    await raw.waitFor((f) => f.code === 0x13, 'credit');
    const msg = dataMessage(Buffer.from('abcdefghijklmnopqrstuvwxyz'));
    const tag = Buffer.from('t1');
    raw.transfer(0, 0, 0, tag, msg.subarray(0, 10), true);
    raw.transfer(0, 0, 0, tag, msg.subarray(10, 20), true);
    raw.transfer(0, 0, 0, tag, msg.subarray(20), false);
    await raw.waitFor((f) => f.code === 0x15, 'disposition');
    raw.end();
    const c = await h.connect();
    const r = await openReceiver(c, 'q-cont', {}, 1);
    for (let i = 0; i < 500 && r.got.length === 0; i++) await new Promise((res) => setTimeout(res, 10));
    const b = r.got[0]!.message.body as { content: Buffer };
    expect(b.content.toString()).toBe('abcdefghijklmnopqrstuvwxyz');
    c.close();
  });
});

describe('SASL', () => {
  it('accepts ANONYMOUS and PLAIN with a configured user, refuses a bad password', async () => {
    const auth = new Authorizer(
      parseAuthConfig(
        {
          allowAnonymous: false,
          users: [{ username: 'alice', password: await hashPassword('s3cret'), publish: { allow: ['allowed/#', 'ok'] }, subscribe: { allow: ['ok'] } }],
        },
        'test',
      ),
    );
    const a = await AmqpHarness.start({}, auth);
    try {
      const c = await a.connect({ username: 'alice', password: 's3cret' } as never);
      const s = await openSender(c, 'ok');
      expect((await sendAndWait(s, { body: 'x' })).outcome).toBe('accepted');
      const forbidden = await openSender(c, 'secret-queue');
      const r = await sendAndWait(forbidden, { body: 'x' });
      expect(r).toMatchObject({ outcome: 'rejected', error: { condition: 'amqp:unauthorized-access' } });
      expect(await refusedAttach(c, 'receiver', 'secret-queue')).toMatchObject({ attached: true, condition: 'amqp:unauthorized-access' });
      c.close();
      await expect(a.connect({ username: 'alice', password: 'wrong' } as never)).rejects.toThrow();
      await expect(a.connect({ username: 'anonymous' } as never)).rejects.toThrow();
      // Each refusal is a warning naming the connection, the peer and the reason.
      const peer = { conn: expect.stringMatching(/^amqp-\d+$/), remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/) };
      expect(a.logs.filter((l) => l.level === 'warn')).toEqual([
        {
          level: 'warn',
          msg: 'amqp: message rejected',
          obj: {
            ...peer,
            link: expect.any(String),
            address: 'secret-queue',
            condition: 'amqp:unauthorized-access',
            description: 'not authorized to send to secret-queue',
          },
        },
        {
          level: 'warn',
          msg: 'amqp: link refused',
          obj: {
            ...peer,
            containerId: expect.any(String),
            link: expect.any(String),
            condition: 'amqp:unauthorized-access',
            description: 'not authorized to receive from secret-queue',
          },
        },
        { level: 'warn', msg: 'amqp: SASL authentication refused', obj: { ...peer, username: 'alice', reason: 'BAD_CREDENTIALS' } },
      ]);
    } finally {
      await a.close();
    }
    const open = await AmqpHarness.start();
    try {
      const c = await open.connect({ username: 'anyone' } as never); // rhea offers ANONYMOUS without a password
      const s = await openSender(c, 'q');
      expect((await sendAndWait(s, { body: 'x' })).outcome).toBe('accepted');
      c.close();
    } finally {
      await open.close();
    }
  });

  it('counts each refusal under its operation and reason in stats().refusals, every other reason staying at 0', async () => {
    const auth = new Authorizer(
      parseAuthConfig(
        { allowAnonymous: false, users: [{ username: 'bob', password: await hashPassword('pw'), publish: { allow: ['ok'] }, subscribe: { allow: ['ok'] } }] },
        'test',
      ),
    );
    const a = await AmqpHarness.start({ maxFrameSize: 4096 }, auth);
    try {
      await expect(a.connect({ username: 'bob', password: 'wrong' } as never)).rejects.toThrow();
      const c = await a.connect({ username: 'bob', password: 'pw' } as never);
      const forbidden = await openSender(c, 'secret-queue');
      expect((await sendAndWait(forbidden, { body: 'x' })).outcome).toBe('rejected');
      expect(await refusedAttach(c, 'receiver', 'secret-queue')).toMatchObject({ condition: 'amqp:unauthorized-access' });
      c.close();
      const http = await RawAmqp.connect(a.port);
      http.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
      await http.done;
      const expected = new AmqpRefusalCounters();
      expected.count('sasl', 'bad_credentials');
      expected.count('transfer', 'not_authorized');
      expected.count('attach', 'not_authorized');
      expected.count('protocol', 'protocol_header');
      expect(a.gateway.stats().refusals).toEqual(expected.snapshot());
    } finally {
      await a.close();
    }
  });
});
