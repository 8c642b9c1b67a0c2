/**
 * Transactional messages against a real server process with short check settings: the
 * TransactionProducer's commit, rollback and check-back paths, a producer replaced by a new one of
 * its group, the give-up into TRANS_CHECK_MAX_TIME_TOPIC, and Java-client-shaped raw frames
 * (PREPARED sysFlag, oneway END_TRANSACTION, check immunity 604, a check answered by hand).
 */
import path from 'node:path';
import { type LocalTransactionState, TransactionProducer, type TransactionListener } from '@apogee/client';
import { PropertyKey, decodeOffsetMessageId, decodeRecord, encodeProperties } from '@apogee/message';
import { RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RawRemoting } from './raw-remoting.js';
import { createTopic } from './remoting-helpers.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';
import { openTransactions, readQueue, readTopic, transactionConfig, until } from './transaction-helpers.js';

const CHECK_MAX = 8;
let server: ServerProcess;
const closers: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  const dir = tempDataDir('apg-tx-');
  const cfg = transactionConfig(dir, { transactionTimeOut: 400, transactionCheckInterval: 400, transactionCheckMax: CHECK_MAX });
  server = await ServerProcess.start(path.join(dir, 'data'), undefined, ['--config', cfg]);
  for (const t of ['TxCommit', 'TxRollback', 'TxCheck', 'TxRestart', 'TxMax', 'TxRaw']) await createTopic(server.brokerAddr, server.namesrvAddr, t, 2);
});

afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c().catch(() => {});
});

afterAll(killAllStarted);

async function producer(group: string, listener: TransactionListener<string>, topics: string[] = []): Promise<TransactionProducer<string>> {
  const p = new TransactionProducer<string>({ nameServer: server.namesrvAddr, group, listener, topics, heartbeatMs: 500 });
  p.on('error', () => {});
  await p.start();
  closers.push(() => p.shutdown());
  return p;
}

const always = (execute: LocalTransactionState, check: LocalTransactionState = execute): TransactionListener<string> => ({
  executeLocalTransaction: () => execute,
  checkLocalTransaction: () => check,
});

const REAL_ONLY = [PropertyKey.REAL_TOPIC, PropertyKey.REAL_QUEUE_ID, PropertyKey.TRANSACTION_PREPARED];

describe('transactions (TransactionProducer)', () => {
  it('commits: the message shows up once, in its real topic and queue, with clean properties', async () => {
    const p = await producer('tx-commit', always('COMMIT'));
    const r = await p.sendMessageInTransaction({ topic: 'TxCommit', body: 'paid', tags: 'order', delayLevel: 3 }, 'arg');
    expect(r).toMatchObject({ status: 'SEND_OK', localTransactionState: 'COMMIT', transactionId: r.msgId });
    const q = r.messageQueue.queueId;
    await until(async () => (await readQueue(server.brokerAddr, 'TxCommit', q)).length > 0, 'the committed message');
    await new Promise((res) => setTimeout(res, 1000)); // past a check interval: nothing more arrives
    const got = await readTopic(server.brokerAddr, 'TxCommit', 2);
    expect(got).toHaveLength(1);
    const m = got[0]!;
    expect(m).toMatchObject({ topic: 'TxCommit', queueId: q });
    expect(m.body.toString()).toBe('paid');
    expect(m.properties.get(PropertyKey.TAGS)).toBe('order');
    expect(m.properties.get(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX)).toBe(r.msgId);
    for (const k of [...REAL_ONLY, PropertyKey.DELAY_TIME_LEVEL]) expect(m.properties.has(k)).toBe(false);
    expect(await openTransactions(server.brokerAddr)).toEqual([]);
  });

  it('rolls back: the message is never visible', async () => {
    const p = await producer('tx-rollback', always('ROLLBACK', 'COMMIT'));
    const r = await p.sendMessageInTransaction({ topic: 'TxRollback', body: 'cancelled' }, 'arg');
    expect(r.localTransactionState).toBe('ROLLBACK');
    await new Promise((res) => setTimeout(res, 1500)); // several check rounds: a check would commit it
    expect(await readTopic(server.brokerAddr, 'TxRollback', 2)).toEqual([]);
    expect(await openTransactions(server.brokerAddr)).toEqual([]);
  });

  it('checks an UNKNOWN transaction back and commits on the answer; a throwing local transaction is UNKNOWN too', async () => {
    const checked: string[] = [];
    const p = await producer('tx-check', {
      executeLocalTransaction: (msg) => {
        if (msg.body === 'throws') throw new Error('db down');
        return 'UNKNOWN';
      },
      checkLocalTransaction: (msg) => {
        checked.push(msg.body.toString());
        expect(msg.topic).toBe('TxCheck');
        return 'COMMIT';
      },
    });
    const a = await p.sendMessageInTransaction({ topic: 'TxCheck', body: 'later' }, 'x');
    const b = await p.sendMessageInTransaction({ topic: 'TxCheck', body: 'throws' }, 'x');
    expect([a.localTransactionState, b.localTransactionState]).toEqual(['UNKNOWN', 'UNKNOWN']);
    await until(async () => (await readTopic(server.brokerAddr, 'TxCheck', 2)).length === 2, 'both messages committed by check-back');
    expect(checked.sort()).toEqual(['later', 'throws']);
    expect(await openTransactions(server.brokerAddr)).toEqual([]);
  });

  it('lets a new producer of the group answer the checks of a stopped one', async () => {
    const first = await producer('tx-restart', always('UNKNOWN'));
    await first.sendMessageInTransaction({ topic: 'TxRestart', body: 'orphan' }, 'x');
    await first.shutdown();
    const open = await openTransactions(server.brokerAddr);
    expect(open.filter((o) => o.topic === 'TxRestart')).toHaveLength(1);
    await producer('tx-restart', always('UNKNOWN', 'COMMIT'), ['TxRestart']);
    await until(async () => (await readTopic(server.brokerAddr, 'TxRestart', 2)).length === 1, 'the orphan committed by the new producer');
  });

  it(`gives a transaction up into TRANS_CHECK_MAX_TIME_TOPIC after ${CHECK_MAX} checks`, async () => {
    let checks = 0;
    await producer('tx-max', { executeLocalTransaction: () => 'UNKNOWN', checkLocalTransaction: () => (checks++, 'UNKNOWN') }).then((p) =>
      p.sendMessageInTransaction({ topic: 'TxMax', body: 'undecided' }, 'x'),
    );
    await until(
      async () => (await readQueue(server.brokerAddr, 'TRANS_CHECK_MAX_TIME_TOPIC', 0)).some((m) => m.body.toString() === 'undecided'),
      'the give-up',
    );
    // The broker counts every round; the producer saw each one it was online and registered for.
    expect(checks).toBeGreaterThanOrEqual(CHECK_MAX - 1);
    expect(checks).toBeLessThanOrEqual(CHECK_MAX);
    const [given] = (await readQueue(server.brokerAddr, 'TRANS_CHECK_MAX_TIME_TOPIC', 0)).filter((m) => m.body.toString() === 'undecided');
    expect(given!.properties.get(PropertyKey.REAL_TOPIC)).toBe('TxMax');
    expect(given!.properties.get(PropertyKey.TRANSACTION_CHECK_TIMES)).toBe(String(CHECK_MAX));
    expect(await readTopic(server.brokerAddr, 'TxMax', 2)).toEqual([]);
  });
});

describe('transactions (Java-client-shaped raw frames)', () => {
  let raw: RawRemoting;

  beforeAll(async () => {
    raw = await RawRemoting.connect(server.brokerAddr);
  });

  afterAll(() => raw.close());

  function sendHalf(body: string, uniq: string, extra: Record<string, string> = {}, bornTimestamp = Date.now()) {
    const props = { TRAN_MSG: 'true', PGROUP: 'raw-pg', UNIQ_KEY: uniq, WAIT: 'true', ...extra };
    return raw.request(
      makeRequest(RequestCode.SEND_MESSAGE_V2, {
        extFields: {
          a: 'raw-pg',
          b: 'TxRaw',
          c: 'TBW102',
          d: '4',
          e: '1',
          f: '4',
          g: String(bornTimestamp),
          h: '0',
          i: encodeProperties(props),
          j: '0',
          k: 'false',
        },
        body: Buffer.from(body),
      }),
    );
  }

  function endHeader(sent: { extFields: Record<string, string> }, commitOrRollback: number, extra: Record<string, string> = {}): Record<string, string> {
    return {
      producerGroup: 'raw-pg',
      tranStateTableOffset: sent.extFields['queueOffset']!,
      // What the Java client does: decode the commit-log offset from the returned msgId.
      commitLogOffset: String(decodeOffsetMessageId(sent.extFields['msgId']!).commitLogOffset),
      commitOrRollback: String(commitOrRollback),
      msgId: sent.extFields['transactionId']!,
      transactionId: sent.extFields['transactionId']!,
      fromTransactionCheck: 'false',
      ...extra,
    };
  }

  it('takes SEND_MESSAGE_V2 with the PREPARED sysFlag and a oneway END_TRANSACTION commit, answering nothing to it', async () => {
    const sent = await sendHalf('java-shaped', 'RAW-1');
    expect(sent.code).toBe(ResponseCode.SUCCESS);
    expect(sent.extFields).toMatchObject({ queueId: '1', transactionId: 'RAW-1' });
    expect(sent.extFields['msgId']).toMatch(/^[0-9A-F]{32}$/);
    expect(await readQueue(server.brokerAddr, 'TxRaw', 1)).toEqual([]);
    const commit = makeRequest(RequestCode.END_TRANSACTION, { oneway: true, extFields: endHeader(sent, 8) });
    // A oneway request the broker would refuse gets no answer either.
    const refused = makeRequest(RequestCode.END_TRANSACTION, { oneway: true, extFields: endHeader(sent, 8, { producerGroup: 'wrong' }) });
    raw.write(refused);
    raw.write(commit);
    await until(async () => (await readQueue(server.brokerAddr, 'TxRaw', 1)).length === 1, 'the raw commit');
    const probe = await raw.request(makeRequest(RequestCode.GET_MAX_OFFSET, { extFields: { topic: 'TxRaw', queueId: '1' } }));
    expect(probe.code).toBe(ResponseCode.SUCCESS);
    const opaques = raw.responses.map((r) => r.opaque);
    expect(opaques).not.toContain(commit.opaque);
    expect(opaques).not.toContain(refused.opaque);
  });

  it('refuses a late direct decision past the check immunity with ILLEGAL_OPERATION (604); an answer to a check is taken', async () => {
    const sent = await sendHalf('immune', 'RAW-2', { CHECK_IMMUNITY_TIME_IN_SECONDS: '1' }, Date.now() - 60_000);
    expect(sent.code).toBe(ResponseCode.SUCCESS);
    const late = await raw.request(makeRequest(RequestCode.END_TRANSACTION, { extFields: endHeader(sent, 8) }));
    expect(late.code).toBe(ResponseCode.ILLEGAL_OPERATION);
    const bad = await raw.request(makeRequest(RequestCode.END_TRANSACTION, { extFields: endHeader(sent, 8, { tranStateTableOffset: '999999' }) }));
    expect([bad.code, bad.remark]).toEqual([ResponseCode.SYSTEM_ERROR, 'The transaction state table offset wrong']);
    const fromCheck = await raw.request(makeRequest(RequestCode.END_TRANSACTION, { extFields: endHeader(sent, 12, { fromTransactionCheck: 'true' }) }));
    expect(fromCheck.code).toBe(ResponseCode.SUCCESS);
  });

  it('checks back a raw producer that heartbeats its group, with the RocketMQ header and body', async () => {
    const producerConn = await RawRemoting.connect(server.brokerAddr);
    try {
      const hb = await producerConn.request(
        makeRequest(RequestCode.HEART_BEAT, {
          body: Buffer.from(JSON.stringify({ clientID: 'raw@1', producerDataSet: [{ groupName: 'raw-pg' }], consumerDataSet: [] })),
        }),
      );
      expect(hb.code).toBe(ResponseCode.SUCCESS);
      const sent = await sendHalf('checked', 'RAW-3');
      raw.write(makeRequest(RequestCode.END_TRANSACTION, { oneway: true, extFields: endHeader(sent, 0) }));
      await until(
        async () => producerConn.requests.some((r) => r.code === RequestCode.CHECK_TRANSACTION_STATE && r.extFields['msgId'] === 'RAW-3'),
        'the check',
      );
      const check = producerConn.requests.find((r) => r.extFields['msgId'] === 'RAW-3')!;
      expect(check.extFields).toMatchObject({
        topic: 'RMQ_SYS_TRANS_HALF_TOPIC',
        tranStateTableOffset: sent.extFields['queueOffset'],
        commitLogOffset: String(decodeOffsetMessageId(sent.extFields['msgId']!).commitLogOffset),
        transactionId: 'RAW-3',
        offsetMsgId: sent.extFields['msgId'],
      });
      const m = decodeRecord(check.body!);
      expect(m).toMatchObject({ topic: 'TxRaw', queueId: 1 });
      expect(m.properties.get(PropertyKey.PRODUCER_GROUP)).toBe('raw-pg');
      producerConn.write(
        makeRequest(RequestCode.END_TRANSACTION, {
          oneway: true,
          extFields: {
            producerGroup: 'raw-pg',
            tranStateTableOffset: check.extFields['tranStateTableOffset']!,
            commitLogOffset: check.extFields['commitLogOffset']!,
            commitOrRollback: '8',
            fromTransactionCheck: 'true',
            msgId: 'RAW-3',
            transactionId: 'RAW-3',
            topic: check.extFields['topic']!,
          },
        }),
      );
      await until(async () => (await readQueue(server.brokerAddr, 'TxRaw', 1)).some((x) => x.body.toString() === 'checked'), 'the checked commit');
    } finally {
      producerConn.close();
    }
  });
});
