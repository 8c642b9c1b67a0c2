import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type RemotingCommand, ResponseCode, SerializeType, encodeFrame } from '../index.js';
import { RemotingClient } from './client.js';
import { RemotingConnectionError, RemotingTimeoutError } from './errors.js';
import { responseTo } from './responses.js';
import { RemotingServer, type RemotingServerOptions } from './server.js';

const servers: RemotingServer[] = [];
const clients: RemotingClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

function request(code: number, extFields: Record<string, string> = {}, body?: Buffer): RemotingCommand {
  const cmd: RemotingCommand = { code, language: 'JAVA', version: 401, opaque: 0, flag: 0, extFields };
  if (body) cmd.body = body;
  return cmd;
}

async function start(
  setup: (s: RemotingServer) => void,
  opts: RemotingServerOptions = {},
): Promise<{ server: RemotingServer; addr: string; client: RemotingClient }> {
  const server = new RemotingServer(opts);
  setup(server);
  const { port } = await server.listen(0);
  servers.push(server);
  const client = new RemotingClient({ requestTimeoutMs: 5000 });
  clients.push(client);
  return { server, addr: `127.0.0.1:${port}`, client };
}

const ECHO = 1000;
const SLOW = 1001;
const THROWS = 1002;
const ONEWAY = 1003;
const NEVER = 1004;

describe('remoting transport', () => {
  it('correlates many concurrent requests with their responses, also when answered out of order', async () => {
    const { addr, client } = await start((s) =>
      s
        .register(ECHO, (req) => responseTo(req, ResponseCode.SUCCESS, undefined, { n: req.extFields['n']! }, req.body))
        .register(SLOW, async (req) => {
          await new Promise((r) => setTimeout(r, Number(req.extFields['delay'])));
          return responseTo(req, ResponseCode.SUCCESS, undefined, { n: req.extFields['n']! });
        }),
    );
    const calls = Array.from({ length: 500 }, (_, i) =>
      i % 5 === 0
        ? client.invoke(addr, request(SLOW, { n: String(i), delay: String(20 - (i % 20)) }))
        : client.invoke(addr, request(ECHO, { n: String(i) }, Buffer.alloc(i * 10, i % 256))),
    );
    const res = await Promise.all(calls);
    res.forEach((r, i) => {
      expect(r.code).toBe(ResponseCode.SUCCESS);
      expect(r.extFields['n']).toBe(String(i));
      if (i % 5 !== 0) expect(r.body ?? Buffer.alloc(0)).toEqual(Buffer.alloc(i * 10, i % 256));
    });
  });

  it('answers unknown request codes with REQUEST_CODE_NOT_SUPPORTED and handler failures with SYSTEM_ERROR', async () => {
    const { addr, client } = await start((s) =>
      s.register(THROWS, () => {
        throw new Error('handler blew up');
      }),
    );
    const unknown = await client.invoke(addr, request(4242));
    expect(unknown.code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    expect(unknown.remark).toMatch(/4242/);
    const failed = await client.invoke(addr, request(THROWS));
    expect(failed.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(failed.remark).toBe('handler blew up');
  });

  it('reports every answer other than SUCCESS to onNotSuccess, also those a oneway request does not get', async () => {
    const REFUSES = 1006;
    const seen: Array<{ req: number; res: number; remark: string | undefined; err: string | undefined; remote: string }> = [];
    const { addr, client } = await start(
      (s) =>
        s
          .register(ECHO, (req) => responseTo(req, ResponseCode.SUCCESS))
          .register(REFUSES, (req) => responseTo(req, ResponseCode.TOPIC_NOT_EXIST, 'no such topic'))
          .register(THROWS, () => Promise.reject(new Error('handler blew up'))),
      {
        onNotSuccess: (req, res, conn, err) =>
          seen.push({ req: req.code, res: res.code, remark: res.remark, err: (err as Error | undefined)?.message, remote: conn.remote }),
      },
    );
    expect((await client.invoke(addr, request(ECHO))).code).toBe(ResponseCode.SUCCESS);
    expect((await client.invoke(addr, request(REFUSES))).code).toBe(ResponseCode.TOPIC_NOT_EXIST);
    expect((await client.invoke(addr, request(THROWS))).code).toBe(ResponseCode.SYSTEM_ERROR);
    expect((await client.invoke(addr, request(4242))).code).toBe(ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    await client.oneway(addr, request(THROWS));
    await client.oneway(addr, request(4243));
    // Answered after the oneway requests ran.
    expect((await client.invoke(addr, request(ECHO))).code).toBe(ResponseCode.SUCCESS);
    for (const s of seen) expect(s.remote).toMatch(/^127\.0\.0\.1:\d+$/);
    const rows = seen.map(({ remote: _, ...rest }) => rest);
    const thrown = { req: THROWS, res: ResponseCode.SYSTEM_ERROR, remark: 'handler blew up', err: 'handler blew up' };
    expect(rows.slice(0, 3)).toEqual([
      { req: REFUSES, res: ResponseCode.TOPIC_NOT_EXIST, remark: 'no such topic', err: undefined },
      thrown,
      { req: 4242, res: ResponseCode.REQUEST_CODE_NOT_SUPPORTED, remark: 'request code 4242 not supported', err: undefined },
    ]);
    // A rejected handler is reported a turn later than an unknown code: the two oneway requests may come in either order.
    const unknownOneway = { req: 4243, res: ResponseCode.REQUEST_CODE_NOT_SUPPORTED, remark: 'request code 4243 not supported', err: undefined };
    expect(rows.slice(3).sort((a, b) => a.req - b.req)).toEqual([thrown, unknownOneway]);
  });

  it('fails an unencodable request on its own promise, and answers an unencodable response with SYSTEM_ERROR', async () => {
    const BAD_RESPONSE = 1005;
    const { addr, client } = await start((s) =>
      s
        .register(ECHO, (req) => responseTo(req, ResponseCode.SUCCESS))
        .register(BAD_RESPONSE, (req) => responseTo(req, ResponseCode.SUCCESS, undefined, { n: 7 as unknown as string })),
    );
    // A first request opens the link, so the next one takes the open-link path.
    expect((await client.invoke(addr, request(ECHO))).code).toBe(ResponseCode.SUCCESS);
    await expect(client.invoke(addr, request(ECHO, { n: 1 as unknown as string }))).rejects.toThrow(/extFields\.n must be a string/);
    const res = await client.invoke(addr, request(BAD_RESPONSE));
    expect(res.code).toBe(ResponseCode.SYSTEM_ERROR);
    expect(res.remark).toMatch(/extFields\.n must be a string/);
    // The connection is still usable.
    expect((await client.invoke(addr, request(ECHO))).code).toBe(ResponseCode.SUCCESS);
  });

  it('runs oneway requests without answering them', async () => {
    const seen: string[] = [];
    const { addr, client } = await start((s) =>
      s
        .register(ONEWAY, (req) => {
          seen.push(req.extFields['v']!);
          return responseTo(req, ResponseCode.SUCCESS);
        })
        .register(ECHO, (req) => responseTo(req, ResponseCode.SUCCESS)),
    );
    await client.oneway(addr, request(ONEWAY, { v: 'a' }));
    await client.oneway(addr, request(ONEWAY, { v: 'b' }));
    // A request after them on the same connection is answered after they ran.
    expect((await client.invoke(addr, request(ECHO))).code).toBe(ResponseCode.SUCCESS);
    expect(seen).toEqual(['a', 'b']);
  });

  it('rejects a request whose response does not come in time, and one whose connection closes', async () => {
    const { addr, client, server } = await start((s) => s.register(NEVER, () => new Promise<never>(() => {})));
    await expect(client.invoke(addr, request(NEVER), 100)).rejects.toThrow(RemotingTimeoutError);
    const pending = client.invoke(addr, request(NEVER), 60_000);
    await new Promise((r) => setTimeout(r, 50));
    for (const c of server.connections) c.close();
    await expect(pending).rejects.toThrow(RemotingConnectionError);
    await expect(client.invoke('127.0.0.1:1', request(ECHO), 1000)).rejects.toThrow(RemotingConnectionError);
  });

  it('closes only the connection that sends a malformed frame', async () => {
    const { addr, client, server } = await start((s) => s.register(ECHO, (req) => responseTo(req, ResponseCode.SUCCESS)));
    expect((await client.invoke(addr, request(ECHO))).code).toBe(ResponseCode.SUCCESS);
    const [host, port] = addr.split(':');
    const bad = [
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]), // negative length
      Buffer.from([0x7f, 0xff, 0xff, 0xff]), // far over the max frame size
      Buffer.concat([Buffer.from([0, 0, 0, 12, 0, 0, 0, 8]), Buffer.from('not json')]), // header is not JSON
      Buffer.concat([Buffer.from([0, 0, 0, 8, 9, 0, 0, 4]), Buffer.from('abcd')]), // unknown serialize type
    ];
    for (const bytes of bad) {
      const closed = await new Promise<boolean>((resolve) => {
        const sock = net.connect(Number(port), host, () => sock.write(bytes));
        sock.on('close', () => resolve(true));
        sock.on('error', () => {});
        setTimeout(() => {
          sock.destroy();
          resolve(false);
        }, 5000).unref();
      });
      expect(closed).toBe(true);
    }
    // The well-behaved client's connection is still there and working.
    expect((await client.invoke(addr, request(ECHO))).code).toBe(ResponseCode.SUCCESS);
    expect(server.connections.size).toBe(1);
  });

  it('lets the server call a connected client and await its answer', async () => {
    const { addr, client, server } = await start((s) => s.register(ECHO, (req) => responseTo(req, ResponseCode.SUCCESS)));
    client.register(307, (req) => responseTo(req, ResponseCode.SUCCESS, 'running fine', { clientId: 'c1' }));
    await client.invoke(addr, request(ECHO));
    const [conn] = [...server.connections];
    const res = await server.invoke(conn!, request(307), 2000);
    expect(res).toMatchObject({ code: ResponseCode.SUCCESS, remark: 'running fine', extFields: { clientId: 'c1' } });
  });

  it('speaks the ROCKETMQ binary header when configured', async () => {
    const server = new RemotingServer({ serializeType: SerializeType.ROCKETMQ });
    server.register(ECHO, (req) => responseTo(req, ResponseCode.SUCCESS, 'ok', { a: req.extFields['a']! }));
    const { port } = await server.listen(0);
    servers.push(server);
    const client = new RemotingClient({ serializeType: SerializeType.ROCKETMQ });
    clients.push(client);
    const res = await client.invoke(`127.0.0.1:${port}`, request(ECHO, { a: 'é' }));
    expect(res).toMatchObject({ code: 0, remark: 'ok', extFields: { a: 'é' } });
    expect(encodeFrame(res, SerializeType.ROCKETMQ).readUInt8(4)).toBe(1);
  });
});

describe('idle connections', () => {
  it('closes a connection silent for idleTimeoutMs and keeps one that talks', async () => {
    const { addr, client } = await start((s) => s.register(ECHO, (req) => responseTo(req, ResponseCode.SUCCESS, 'ok')), { idleTimeoutMs: 1500 });
    const [host, port] = addr.split(':');
    const silent = net.connect(Number(port), host);
    silent.on('error', () => {});
    const closed = new Promise<void>((r) => silent.once('close', () => r()));
    // The talking client sends every 100 ms, well inside the idle time, while the silent one is cut off.
    let talking = true;
    const talk = (async () => {
      while (talking) {
        expect((await client.invoke(addr, request(ECHO))).code).toBe(ResponseCode.SUCCESS);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await closed;
    talking = false;
    await talk;
    expect((await client.invoke(addr, request(ECHO))).code).toBe(ResponseCode.SUCCESS); // same connection, never dropped
  });
});

describe('the partial-frame budget', () => {
  it('closes the connection holding the most unfinished-frame bytes once all of them together pass the budget; others carry on', async () => {
    const { server, addr, client } = await start((s) => s.register(ECHO, (req) => responseTo(req, ResponseCode.SUCCESS, 'ok')), {
      partialFrameBudgetBytes: 1024 * 1024,
    });
    const [host, port] = addr.split(':');
    const hold = async (bytes: number): Promise<net.Socket> => {
      const s = net.connect(Number(port), host);
      s.on('error', () => {});
      await new Promise((r) => s.once('connect', r));
      // A frame announcing 16 MiB - 1 (under the frame limit), of which only `bytes` arrive.
      const head = Buffer.alloc(8);
      head.writeInt32BE(16 * 1024 * 1024 - 1, 0);
      head.writeInt32BE(64, 4); // JSON header of 64 bytes
      s.write(Buffer.concat([head, Buffer.alloc(bytes, 0x20)]));
      return s;
    };
    const a = await hold(300 * 1024);
    const aClosed = new Promise<void>((r) => a.once('close', () => r()));
    await eventuallyTrue(() => server.partialFrameBytes >= 300 * 1024);
    const b = await hold(600 * 1024);
    const bClosed = new Promise<void>((r) => b.once('close', () => r()));
    await eventuallyTrue(() => server.partialFrameBytes >= 900 * 1024);
    const c = await hold(200 * 1024); // 1.1 MiB in all: b, holding the most, goes
    await bClosed;
    expect(a.destroyed).toBe(false);
    expect((await client.invoke(addr, request(ECHO))).code).toBe(ResponseCode.SUCCESS);
    a.destroy();
    c.destroy();
    await aClosed;
  });
});

async function eventuallyTrue(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(pred()).toBe(true);
}

describe('the first-frame deadline', () => {
  it('closes a connection that completes no frame in firstFrameTimeoutMs; one that sent a frame stays, however quiet afterwards', async () => {
    const { server, addr, client } = await start((s) => s.register(ECHO, (req) => responseTo(req, ResponseCode.SUCCESS, 'ok')), { firstFrameTimeoutMs: 300 });
    expect((await client.invoke(addr, request(ECHO))).code).toBe(ResponseCode.SUCCESS);
    const [host, port] = addr.split(':');
    const silent = net.connect(Number(port), host);
    silent.on('error', () => {});
    await new Promise((r) => silent.once('connect', r));
    silent.write(Buffer.from([0, 0])); // half a length prefix, then nothing
    await new Promise<void>((r) => silent.once('close', () => r()));
    // The client's connection sent its frame long before the deadline and has been quiet since.
    expect(server.connections.size).toBe(1);
    expect((await client.invoke(addr, request(ECHO))).code).toBe(ResponseCode.SUCCESS);
  });
});
