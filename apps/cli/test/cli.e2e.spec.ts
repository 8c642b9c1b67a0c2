/**
 * The CLI as a user runs it: a child process (`node --import tsx apps/cli/src/main.ts …`) against
 * a real apps/server process on free ports.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TransactionProducer } from '@apogee/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerProcess, freePort, killAllStarted, tempDataDir } from '../../server/test/server-process.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const main = path.join(repoRoot, 'apps/cli/src/main.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: readonly string[]): Promise<Run> {
  const env = { ...process.env };
  delete env['APOGEE_NAMESRV'];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', main, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Parses --json output: one JSON document per line. */
function jsonLines(r: Run): any[] {
  expect(r.stderr.includes('error:'), r.stderr).toBe(false);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l));
}

/** Runs `attempt` until it returns a value, at most `tries` times, 100 ms apart. */
async function eventually<T>(what: string, attempt: () => Promise<T | undefined>, tries = 50): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await attempt();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}`);
}

let server: ServerProcess;
let ns: string[];
const TOPIC = 'CliE2E';
const GROUP = 'cli-e2e-group';

beforeAll(async () => {
  server = await ServerProcess.start(tempDataDir('apg-cli-'));
  ns = ['--namesrv', server.namesrvAddr];
});

afterAll(async () => {
  await killAllStarted();
  if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
});

describe('apogee CLI against a real server', () => {
  const sent: any[] = [];

  it('shows the cluster', async () => {
    const [info] = jsonLines(await cli([...ns, 'cluster', '--json']));
    const brokers = Object.values(info.brokerAddrTable) as Array<{ brokerAddrs: Record<string, string> }>;
    expect(brokers.map((b) => b.brokerAddrs['0'])).toContain(server.brokerAddr);
    const text = await cli(['cluster', ...ns]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(server.brokerAddr);
  });

  it('creates, lists and describes a topic', async () => {
    const [created] = jsonLines(await cli([...ns, '--json', 'topic', 'create', TOPIC, '--queues', '2']));
    expect(created).toMatchObject({ topic: TOPIC, readQueueNums: 2, writeQueueNums: 2, perm: 6, brokers: [server.brokerAddr] });
    await eventually('the topic in the list', async () => {
      const [list] = jsonLines(await cli([...ns, 'topic', 'list', '--json']));
      return list.topics.includes(TOPIC) ? true : undefined;
    });
    const [d] = jsonLines(await cli([...ns, 'topic', 'describe', TOPIC, '--json']));
    expect(d.topic).toBe(TOPIC);
    expect(d.route.queueDatas).toEqual([expect.objectContaining({ readQueueNums: 2, writeQueueNums: 2, perm: 6 })]);
    expect(d.route.brokerDatas[0].brokerAddrs['0']).toBe(server.brokerAddr);
    expect(d.queues).toEqual([
      { brokerName: expect.any(String), queueId: 0, minOffset: 0, maxOffset: 0 },
      { brokerName: expect.any(String), queueId: 1, minOffset: 0, maxOffset: 0 },
    ]);
    const text = await cli([...ns, 'topic', 'describe', TOPIC]);
    expect(text.stdout).toMatch(/MIN_OFFSET\s+MAX_OFFSET/);
  });

  it('sends messages with tags, keys and properties', async () => {
    const a = jsonLines(
      await cli([...ns, 'send', TOPIC, 'body-a', '--tags', 'tagA', '--keys', 'order-1,shared', '--prop', 'origin=e2e', '--count', '2', '--json']),
    );
    const b = jsonLines(await cli([...ns, 'send', TOPIC, 'body-b', '--tags', 'tagB', '--keys', 'order-2,shared', '--json']));
    sent.push(...a, ...b);
    expect(sent.length).toBe(3);
    for (const r of sent) expect(r).toMatchObject({ status: 'SEND_OK', messageQueue: { topic: TOPIC } });
    const text = await cli([...ns, 'send', 'CliE2EText', 'x']);
    expect(text.stdout).toMatch(/^SEND_OK {2}msgId=\w+ {2}offsetMsgId=\w+/);
  });

  it('consumes them, then finds one by offset id, by key and by unique key', async () => {
    const r = await cli([...ns, 'consume', TOPIC, '--group', GROUP, '--count', '3', '--timeout-ms', '30000', '--json']);
    expect(r.code).toBe(0);
    const got = jsonLines(r);
    expect(r.stderr).toContain(`consumed 3 message(s) from ${TOPIC} as group ${GROUP}`);
    expect(got.map((m) => m.offsetMsgId).sort()).toEqual(sent.map((s) => s.offsetMsgId).sort());
    expect(got.map((m) => m.body.text).sort()).toEqual(['body-a', 'body-a', 'body-b']);
    const b = got.find((m) => m.body.text === 'body-b');
    expect(b).toMatchObject({ topic: TOPIC, tags: 'tagB', keys: ['order-2', 'shared'] });
    expect(got.find((m) => m.body.text === 'body-a').properties.origin).toBe('e2e');

    const [viewed] = jsonLines(await cli([...ns, 'message', 'get', sent[2].offsetMsgId, '--json']));
    expect(viewed).toMatchObject({
      topic: TOPIC,
      tags: 'tagB',
      keys: ['order-2', 'shared'],
      msgId: sent[2].msgId,
      offsetMsgId: sent[2].offsetMsgId,
      body: { encoding: 'utf8', text: 'body-b' },
    });
    const text = await cli([...ns, 'message', 'get', sent[2].offsetMsgId]);
    expect(text.stdout).toContain('tags:           tagB');
    expect(text.stdout).toContain('body (6 bytes, utf8):\nbody-b');

    const byKey = await eventually('the key index', async () => {
      const [res] = jsonLines(await cli([...ns, 'message', 'key', TOPIC, 'order-1', '--json']));
      return res.messages.length === 2 ? res.messages : undefined;
    });
    expect(byKey.map((m: any) => m.body.text)).toEqual(['body-a', 'body-a']);
    const [shared] = jsonLines(await cli([...ns, 'message', 'key', TOPIC, 'shared', '--json']));
    expect(shared.messages.length).toBe(3);
    const [uniq] = jsonLines(await cli([...ns, 'message', 'uniq', TOPIC, sent[0].msgId, '--json']));
    expect(uniq.messages.map((m: any) => m.offsetMsgId)).toEqual([sent[0].offsetMsgId]);
  });

  it('shows the group caught up on the queues it consumed', async () => {
    const [p] = jsonLines(await cli([...ns, 'group', 'progress', GROUP, '--json']));
    expect(p.group).toBe(GROUP);
    // consume commits every queue it read; the sends may have used one queue or both.
    const rows = p.queues.filter((q: any) => q.topic === TOPIC);
    for (const s of sent) expect(rows.map((q: any) => q.queueId)).toContain(s.messageQueue.queueId);
    for (const q of rows) expect(q).toMatchObject({ lag: 0, consumerOffset: q.brokerOffset });
    expect(rows.reduce((n: number, q: any) => n + q.brokerOffset, 0)).toBe(3);
    const [byTopic] = jsonLines(await cli([...ns, 'group', 'progress', GROUP, '--topic', TOPIC, '--json']));
    expect(byTopic.queues.filter((q: any) => q.topic === TOPIC).every((q: any) => q.lag === 0)).toBe(true);
    // Nothing left: a second run stops at the timeout with nothing printed.
    const again = await cli([...ns, 'consume', TOPIC, '--group', GROUP, '--timeout-ms', '300', '--json']);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain('consumed 0 message(s)');
    const [consumers] = jsonLines(await cli([...ns, 'group', 'consumers', GROUP, '--json']));
    expect(consumers).toEqual({ group: GROUP, clients: [] });
  });

  it('lists an open transaction with its group, msg id and check count', async () => {
    const p = new TransactionProducer({
      nameServer: server.namesrvAddr,
      group: 'cli-tx',
      listener: { executeLocalTransaction: () => 'UNKNOWN', checkLocalTransaction: () => 'UNKNOWN' },
    });
    await p.start();
    try {
      const r = await p.sendMessageInTransaction({ topic: TOPIC, body: 'pending' }, undefined);
      const [doc] = jsonLines(await cli([...ns, 'transaction', 'list', '--json']));
      expect(doc.transactions).toMatchObject([
        { topic: TOPIC, queueId: r.messageQueue.queueId, offsetMsgId: r.offsetMsgId, transactionId: r.msgId, producerGroup: 'cli-tx', checkTimes: 0 },
      ]);
      const text = await cli([...ns, 'transaction', 'list']);
      expect(text.stdout).toMatch(/^TOPIC\s+QUEUE\s+MSG_ID/);
      expect(text.stdout).toContain(r.msgId);
    } finally {
      await p.shutdown();
    }
  });

  it('exits 2 with the usage for an unknown command', async () => {
    const r = await cli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: unknown command "frobnicate"');
    expect(r.stderr).toContain('usage: apogee');
    expect((await cli([...ns, 'topic', 'list', '--bogus'])).code).toBe(2);
  });

  it('exits 1 with the response code name for a missing topic', async () => {
    const r = await cli([...ns, 'topic', 'describe', 'Nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: TOPIC_NOT_EXIST /);
  });

  it('exits 1 naming an unreachable NameServer', async () => {
    const addr = `127.0.0.1:${await freePort()}`;
    const r = await cli(['--namesrv', addr, 'topic', 'list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: cannot reach the NameServer at ${addr}`);
  });
});
