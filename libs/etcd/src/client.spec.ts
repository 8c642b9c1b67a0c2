// The client against real etcd processes (test-etcd.ts): one member for the calls, three for
// failover. Waits are bounded polls on observed state, never wall-clock assertions.
import http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EtcdClient } from './client.js';
import { EtcdClosedError, EtcdError, EtcdProtocolError, EtcdUnavailableError } from './errors.js';
import { type TestEtcd, skipWithoutEtcd, startEtcd, startEtcdCluster } from './test-etcd.js';
import type { WatchEvent } from './watch.js';

const clients: EtcdClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
const client = (endpoints: string, timeoutMs?: number) => {
  const c = new EtcdClient({ endpoints, ...(timeoutMs ? { timeoutMs } : {}) });
  clients.push(c);
  return c;
};

async function until(what: string, ok: () => boolean | Promise<boolean>, bound = 400): Promise<void> {
  for (let i = 0; i < bound; i++) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const brief = (events: WatchEvent[]) => events.map((e) => `${e.type} ${e.kv.key.toString()}${e.type === 'put' ? `=${e.kv.value.toString()}` : ''}`);

describe.skipIf(skipWithoutEtcd)('EtcdClient on one member', () => {
  let etcd: TestEtcd;
  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  it('puts, gets, ranges over a prefix and deletes, with strings and Buffers', async () => {
    const c = client(etcd.endpoints);
    const put = await c.put('/kv/a', 'one');
    await c.put(Buffer.from('/kv/b'), Buffer.from([0, 1, 255]));
    await c.put('/kw', 'outside');
    const a = await c.get('/kv/a');
    expect(a?.value.toString()).toBe('one');
    expect(a?.version).toBe(1);
    expect(a?.createRevision).toBe(put.header.revision);
    const all = await c.range('/kv/', { prefix: true });
    expect(all.kvs.map((kv) => kv.key.toString())).toEqual(['/kv/a', '/kv/b']);
    expect(all.kvs[1]!.value).toEqual(Buffer.from([0, 1, 255]));
    expect(await c.get('/kv/none')).toBeNull();
    const prev = await c.put('/kv/a', 'two', { prevKv: true });
    expect(prev.prevKv?.value.toString()).toBe('one');
    const del = await c.delete('/kv/', { prefix: true, prevKv: true });
    expect(del.deleted).toBe(2);
    expect(del.prevKvs.map((kv) => kv.value.toString())).toEqual(['two', '\u0000\u0001\ufffd']);
    expect((await c.range('/kv/', { prefix: true })).count).toBe(0);
    expect((await c.get('/kw'))?.value.toString()).toBe('outside');
  });

  it('runs a txn: the success branch when every compare holds, the failure branch otherwise', async () => {
    const c = client(etcd.endpoints);
    // CREATE 0 = absent: the first txn creates, the second sees it present.
    const create = {
      compare: [{ key: '/txn/k', target: 'CREATE', createRevision: 0 }],
      success: [{ put: { key: '/txn/k', value: 'v1' } }],
      failure: [{ range: { key: '/txn/k' } }],
    } as const;
    const first = await c.txn(create);
    expect(first.succeeded).toBe(true);
    expect(first.responses).toEqual([{ kind: 'put' }]);
    const second = await c.txn(create);
    expect(second.succeeded).toBe(false);
    expect(second.responses[0]).toMatchObject({ kind: 'range', count: 1 });
    const kv = (await c.get('/txn/k'))!;
    // MOD and VERSION and VALUE compares; all must hold.
    const ok = await c.txn({
      compare: [
        { key: '/txn/k', target: 'MOD', modRevision: kv.modRevision },
        { key: '/txn/k', target: 'VERSION', version: 1 },
        { key: '/txn/k', target: 'VALUE', value: 'v1' },
        { key: '/txn/k', target: 'VERSION', version: 0, result: 'GREATER' },
      ],
      success: [{ put: { key: '/txn/k', value: 'v2' } }, { delete: { key: '/txn/other' } }],
    });
    expect(ok.succeeded).toBe(true);
    expect(ok.responses).toEqual([{ kind: 'put' }, { kind: 'delete', deleted: 0 }]);
    const stale = await c.txn({ compare: [{ key: '/txn/k', target: 'MOD', modRevision: kv.modRevision }], success: [{ put: { key: '/txn/k', value: 'v3' } }] });
    expect(stale.succeeded).toBe(false);
    const wrongValue = await c.txn({ compare: [{ key: '/txn/k', target: 'VALUE', value: 'v1' }], success: [{ put: { key: '/txn/k', value: 'v3' } }] });
    expect(wrongValue.succeeded).toBe(false);
    expect((await c.get('/txn/k'))?.value.toString()).toBe('v2');
  });

  it('grants a lease, keeps it alive, and a key attached to it goes when it expires', async () => {
    const c = client(etcd.endpoints);
    const lease = await c.leaseGrant(2);
    expect(lease.ttl).toBe(2);
    expect(BigInt(lease.id) > 0n).toBe(true);
    await c.put('/lease/k', 'v', { lease: lease.id });
    expect((await c.get('/lease/k'))?.lease).toBe(lease.id);
    expect(await c.leaseKeepAliveOnce(lease.id)).toBe(2);
    const ttl = await c.leaseTimeToLive(lease.id, { keys: true });
    expect(ttl.grantedTtl).toBe(2);
    expect(ttl.keys.map(String)).toEqual(['/lease/k']);
    // No more keepalives: etcd expires the lease and deletes the key.
    await until('the leased key to go', async () => (await c.get('/lease/k')) === null);
    expect(await c.leaseKeepAliveOnce(lease.id)).toBe(0);
    expect((await c.leaseTimeToLive(lease.id)).ttl).toBe(-1);
  });

  it('revokes a lease (its keys go at once); a second revoke and a put on it say not found', async () => {
    const c = client(etcd.endpoints);
    const lease = await c.leaseGrant(30);
    await c.put('/revoke/k', 'v', { lease: lease.id });
    expect(await c.leaseRevoke(lease.id)).toBe(true);
    expect(await c.get('/revoke/k')).toBeNull();
    expect(await c.leaseRevoke(lease.id)).toBe(false);
    const e = await c.put('/revoke/k', 'v', { lease: lease.id }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EtcdError);
    expect((e as EtcdError).code).toBe(5);
    expect((e as EtcdError).message).toContain('lease not found');
  });

  it('watches a prefix: puts and deletes in order, from a past revision, until cancelled', async () => {
    const c = client(etcd.endpoints);
    const start = (await c.put('/w1/a', '1')).header.revision;
    await c.put('/w1/b', '2');
    await c.delete('/w1/a');
    const events: WatchEvent[] = [];
    const w = c.watch('/w1/', { prefix: true, fromRevision: start }, (e) => events.push(e));
    await until('three events', () => events.length === 3);
    await c.txn({ compare: [], success: [{ put: { key: '/w1/c', value: '3' } }, { delete: { key: '/w1/b' } }] });
    await until('five events', () => events.length === 5);
    expect(brief(events)).toEqual(['put /w1/a=1', 'put /w1/b=2', 'delete /w1/a', 'put /w1/c=3', 'delete /w1/b']);
    expect(events.map((e) => e.kv.modRevision)).toEqual([start, start + 1, start + 2, start + 3, start + 3]);
    w.cancel();
    await c.put('/w1/d', '4');
    await c.put('/w1/sync', 'x'); // a later write done: the cancelled watch saw nothing of /w1/d
    expect(events.length).toBe(5);
    expect(w.active).toBe(false);
  });

  it('says when the revision it must start from is compacted, and stops', async () => {
    const c = client(etcd.endpoints);
    const first = (await c.put('/cmp/k', '1')).header.revision;
    const last = (await c.put('/cmp/k', '2')).header.revision;
    await c.compact(last);
    let compacted = 0;
    const w = c.watch('/cmp/k', { fromRevision: first }, { onEvent: () => {}, onCompacted: (r) => (compacted = r) });
    await until('the compaction', () => compacted > 0);
    expect(compacted).toBe(last);
    expect(w.active).toBe(false);
  });

  it('gives EtcdUnavailableError when the member does not answer in time (SIGSTOP), and recovers after SIGCONT', async () => {
    const c = client(etcd.endpoints, 300);
    await c.put('/stop/k', 'v');
    try {
      await etcd.members[0]!.pause();
      const e = await c.get('/stop/k').catch((x: unknown) => x);
      expect(e).toBeInstanceOf(EtcdUnavailableError);
      expect((e as EtcdUnavailableError).causes).toEqual([
        { endpoint: etcd.members[0]!.endpoint, error: expect.objectContaining({ message: 'timed out after 300 ms' }) },
      ]);
      const short = await c.get('/stop/k', { timeoutMs: 50 }).catch((x: unknown) => x);
      expect((short as EtcdUnavailableError).causes[0]!.error.message).toBe('timed out after 50 ms');
    } finally {
      etcd.members[0]!.resume();
    }
    expect((await c.get('/stop/k'))?.value.toString()).toBe('v');
  });

  it('gives EtcdUnavailableError when no endpoint accepts a connection', async () => {
    const port = await closedPort();
    const c = client(`etcd://127.0.0.1:${port},localhost:${port}`);
    const e = await c.get('k').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(EtcdUnavailableError);
    expect((e as EtcdUnavailableError).causes.map((x) => x.error.message)).toEqual(['ECONNREFUSED', 'ECONNREFUSED']);
  });

  it('fails calls in flight and cancels watches at close()', async () => {
    const c = new EtcdClient({ endpoints: etcd.endpoints });
    const w = c.watch('/close/', { prefix: true }, () => {});
    try {
      await etcd.members[0]!.pause();
      const pending = c.get('/close/k', { timeoutMs: 5000 }).catch((x: unknown) => x);
      await new Promise((r) => setTimeout(r, 50));
      c.close();
      expect(await pending).toBeInstanceOf(EtcdClosedError);
    } finally {
      etcd.members[0]!.resume();
    }
    expect(w.active).toBe(false);
    await expect(c.get('k')).rejects.toBeInstanceOf(EtcdClosedError);
  });

  it('resumes a watch after the member restarts, from the revision after the last it delivered', async () => {
    const c = client(etcd.endpoints);
    const events: WatchEvent[] = [];
    const connected: string[] = [];
    c.watch('/w2/', { prefix: true }, { onEvent: (e) => events.push(e), onConnected: (ep) => connected.push(ep) });
    await until('the watch', () => connected.length === 1);
    await c.put('/w2/a', '1');
    await until('the first event', () => events.length === 1);
    await etcd.members[0]!.stop();
    await etcd.members[0]!.start();
    await until('the watch to reconnect', () => connected.length === 2);
    await c.put('/w2/b', '2');
    await c.delete('/w2/a');
    await until('three events', () => events.length === 3);
    expect(brief(events)).toEqual(['put /w2/a=1', 'put /w2/b=2', 'delete /w2/a']);
  });
});

describe.skipIf(skipWithoutEtcd)('EtcdClient on a 3-member cluster', () => {
  let etcd: TestEtcd;
  beforeAll(async () => {
    etcd = await startEtcdCluster(3);
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  it('moves to the next endpoint when a member is SIGKILLed; its watch follows', async () => {
    const c = client(etcd.endpoints);
    await c.put('/fo/a', '1');
    const events: WatchEvent[] = [];
    const connected: string[] = [];
    c.watch('/fo/', { prefix: true }, { onEvent: (e) => events.push(e), onConnected: (ep) => connected.push(ep) });
    await until('the watch', () => connected.length === 1);
    expect(connected[0]).toBe(etcd.members[0]!.endpoint);
    etcd.members[0]!.signal('SIGKILL');
    await etcd.members[0]!.exited();
    // The cluster may be electing a new leader (m0 may have led): the call fails over and, while there
    // is no leader, may say unavailable — then it is tried again.
    await until('a put through another member', () =>
      c.put('/fo/b', '2').then(
        () => true,
        (e: unknown) => !(e instanceof EtcdUnavailableError) && Promise.reject(e),
      ),
    );
    expect((await c.get('/fo/b'))?.value.toString()).toBe('2');
    await until('the watch on another member', () => connected.length >= 2);
    expect(connected.at(-1)).not.toBe(etcd.members[0]!.endpoint);
    await until('the event', () => events.length === 1);
    expect(brief(events)).toEqual(['put /fo/b=2']);
    await etcd.members[0]!.start();
  });
});

describe('EtcdClient against a server that is not etcd', () => {
  it('gives EtcdProtocolError for an answer that is not JSON, not an object, or too large', async () => {
    const bodies = ['<html>oops</html>', '[1,2]', JSON.stringify({ kvs: 'x'.repeat(5000) }), JSON.stringify({ kvs: [{ key: 42 }] })];
    let i = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(i === 0 ? 502 : 200, { 'content-type': 'application/json' }).end(bodies[i++]);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const c = new EtcdClient({ endpoints: `etcd://127.0.0.1:${(server.address() as net.AddressInfo).port}`, maxResponseBytes: 1000 });
      clients.push(c);
      for (const why of ['HTTP 502: an answer that is not JSON', 'not a JSON object', 'an answer larger than 1000 bytes', 'field key: not a string']) {
        const e = await c.range('k').catch((x: unknown) => x);
        expect(e).toBeInstanceOf(EtcdProtocolError);
        expect((e as Error).message).toContain(why);
      }
    } finally {
      server.close();
    }
  });
});

describe('a watch against a server that is not etcd', () => {
  it('reports a line that is not JSON or too long, reconnects with back-off, and stops when cancelled', async () => {
    let connections = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      connections++;
      res.writeHead(200, { 'content-type': 'application/json' });
      if (connections % 2 === 1) res.write('<html>\n');
      else res.write('{"result":"' + 'x'.repeat(300));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const c = client(`etcd://127.0.0.1:${(server.address() as net.AddressInfo).port}`);
      const errors: string[] = [];
      const w = c.watch('k', { maxLineBytes: 200, retryMinMs: 10, retryMaxMs: 40 }, { onEvent: () => {}, onError: (e) => errors.push(e.message) });
      await until('four failed connections', () => errors.length >= 4);
      expect(errors[0]).toContain('JSON');
      expect(errors[1]).toContain('longer than 200 bytes');
      w.cancel();
      const seen = connections;
      await new Promise((r) => setTimeout(r, 100));
      expect(connections).toBe(seen);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}
