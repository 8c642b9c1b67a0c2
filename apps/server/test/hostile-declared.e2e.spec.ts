/**
 * Declared counts and names checked before anything is allocated, against a real server process,
 * byte for byte: the request is refused with an error naming the limit, or the connection is
 * closed; every endpoint keeps answering (issue 13, items 1 and 4).
 */
import fs from 'node:fs';
import { RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import { encodeBatchBody } from '@apogee/message';
import mqtt from 'mqtt';
import rhea from 'rhea';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedByServer, everyEndpointAnswers, openSocket } from './hostile-helpers.js';
import { RawRemoting } from './raw-remoting.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';

let server: ServerProcess;
let dataDir: string;
beforeAll(async () => {
  dataDir = tempDataDir('apg-declared-');
  server = await ServerProcess.start(dataDir);
});
afterAll(async () => {
  await killAllStarted();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('remoting', () => {
  it('UPDATE_CONSUMER_OFFSET on a 300-character topic: INVALID_PARAMETER naming the limit (was SYSTEM_ERROR from the store)', async () => {
    const raw = await RawRemoting.connect(server.brokerAddr);
    const res = await raw.request(
      makeRequest(RequestCode.UPDATE_CONSUMER_OFFSET, { extFields: { consumerGroup: 'g', topic: 'a'.repeat(300), queueId: '0', commitOffset: '1' } }),
    );
    expect(res.code).toBe(ResponseCode.INVALID_PARAMETER);
    expect(res.remark).toBe('topic name is 300 characters; the limit is 127');
    raw.close();
  });

  it('a batch body of 10,001 empty messages: MESSAGE_ILLEGAL naming the limit', async () => {
    const raw = await RawRemoting.connect(server.brokerAddr);
    const body = encodeBatchBody(Array.from({ length: 10_001 }, () => ({ flag: 0, body: Buffer.alloc(0), properties: '' })));
    const res = await raw.request(
      makeRequest(RequestCode.SEND_BATCH_MESSAGE, {
        extFields: { a: 'g', b: 'batch-t', c: 'TBW102', d: '4', e: '0', f: '0', g: String(Date.now()), h: '0', i: '', j: '0', k: 'false', m: 'true' },
        body,
      }),
    );
    expect(res.code).toBe(ResponseCode.MESSAGE_ILLEGAL);
    expect(res.remark).toMatch(/more than 10000 messages/);
    raw.close();
  });

  it('a frame announcing a 2 MiB header is closed on its first 8 bytes', async () => {
    const s = await openSocket(server.ports.brokerPort);
    const head = Buffer.alloc(8);
    head.writeInt32BE(4 + 2 * 1024 * 1024, 0);
    head.writeUInt32BE(2 * 1024 * 1024, 4);
    s.write(head);
    await closedByServer(s);
  });
});

describe('MQTT', () => {
  it('a SUBSCRIBE of 1,001 filters closes the connection', async () => {
    const c = await mqtt.connectAsync(server.mqttUrl, { clientId: 'many-filters', reconnectPeriod: 0 });
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.subscribe(Array.from({ length: 1001 }, (_, i) => `f/${i}`));
    await closed;
    c.end(true);
  });

  it('a v5 PUBLISH with 101 user properties closes the connection', async () => {
    const c = await mqtt.connectAsync(server.mqttUrl, { clientId: 'many-props', protocolVersion: 5, reconnectPeriod: 0 });
    const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.publish('p/x', 'x', { qos: 1, properties: { userProperties: { k: Array.from({ length: 101 }, (_, i) => String(i)) } } });
    await closed;
    c.end(true);
  });
});

describe('AMQP', () => {
  function attach(containerId: string, linkName: string, address: string): Promise<{ condition?: string; description?: string }> {
    return new Promise((resolve) => {
      const conn = rhea.create_container({ id: containerId }).connect({ host: '127.0.0.1', port: server.amqpPort, reconnect: false });
      const r = conn.open_receiver({ name: linkName, source: { address, durable: 2, expiry_policy: 'never' } });
      const plain = (e: unknown) => {
        const { condition, description } = (e ?? {}) as { condition?: string; description?: string };
        return { condition, description };
      };
      r.on('receiver_close', (ctx) => {
        resolve(plain(ctx.receiver?.error));
        conn.close();
      });
      conn.on('connection_close', (ctx) => resolve(plain(ctx.connection.error)));
      conn.on('connection_error', () => {});
      conn.on('disconnected', () => {});
    });
  }

  it('a durable subscription whose link name holds NUL is refused with amqp:invalid-field', async () => {
    expect(await attach('c-ok', 'l\u0000x', 'topic/a/b')).toEqual({
      condition: 'amqp:invalid-field',
      description: 'link name contains the control character U+0000 at 1',
    });
  });

  it('a container id with a control character closes the connection with amqp:invalid-field (was accepted, and its pipelined attach crashed the handler)', async () => {
    expect(await attach('c\u0001x', 'l1', 'topic/a/b')).toEqual({
      condition: 'amqp:invalid-field',
      description: 'container-id has the control character U+0001 at 1',
    });
  });

  it('an address with NUL is refused with amqp:invalid-field', async () => {
    expect(await attach('c-ok2', 'l2', 'q\u0000x')).toEqual({
      condition: 'amqp:invalid-field',
      description: 'address contains the control character U+0000 at 1',
    });
  });
});

it('every endpoint still answers', async () => {
  await everyEndpointAnswers(server, 'declared');
});
