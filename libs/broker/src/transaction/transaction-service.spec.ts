import {
  PropertyKey,
  SysFlag,
  TIMER_TOPIC,
  TRANS_CHECK_MAX_TIME_TOPIC,
  TRANS_HALF_TOPIC,
  TRANS_OP_HALF_TOPIC,
  TRANS_SYS_CONSUMER_GROUP,
  decodeOffsetMessageId,
  decodeRecord,
  transactionType,
} from '@apogee/message';
import { TopicProperty } from '@apogee/topics';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientChannel } from '../client/client-channel.js';
import { BrokerHarness, brokerError, props, sendRequest } from '../test-support.js';
import { topicConfigOf } from '../topic/topic-manager.js';
import { OP_DECISION_PROPERTY, commitPutOf } from './half-message.js';
import type { EndTransactionRequest, TransactionCheck } from './transaction-types.js';

let h: BrokerHarness | undefined;
let clock = 1_000_000;
const now = () => clock;

async function harness(config: Record<string, number | boolean> = {}): Promise<BrokerHarness> {
  clock = Date.now();
  h = await BrokerHarness.create({ now, config: { transactionTimeOut: 6000, transactionCheckInterval: 60_000, transactionCheckMax: 3, ...config } });
  await h.broker.topics.createOrUpdate(topicConfigOf('T', 4));
  return h;
}

afterEach(async () => {
  await h?.dispose();
  h = undefined;
});

/** Sends a half message as the Java client does (TRAN_MSG, PGROUP, the PREPARED sysFlag). */
async function sendHalf(body: string, extra: Record<string, string> = {}, queueId = 2) {
  const r = await h!.broker.send(
    sendRequest('T', body, {
      queueId,
      producerGroup: 'PG',
      sysFlag: SysFlag.TRANSACTION_PREPARED_TYPE,
      properties: props({ TRAN_MSG: 'true', PGROUP: 'PG', UNIQ_KEY: `U-${body}`, TAGS: 'tg', DELAY: '3', ...extra }),
    }),
  );
  // The store stamps real time: the fake clock starts from there.
  clock = Math.max(clock, Date.now());
  return r;
}

function endOf(
  r: Awaited<ReturnType<typeof sendHalf>>,
  resolution: EndTransactionRequest['resolution'],
  over: Partial<EndTransactionRequest> = {},
): EndTransactionRequest {
  return {
    producerGroup: 'PG',
    tranStateTableOffset: r.queueOffset,
    commitLogOffset: decodeOffsetMessageId(r.msgIds[0]!).commitLogOffset,
    resolution,
    fromTransactionCheck: false,
    ...over,
  };
}

/** A producer channel recording the checks it is sent. */
function producerChannel(id: string): ClientChannel & { checks: TransactionCheck[] } {
  const checks: TransactionCheck[] = [];
  return { id, remoteAddress: '127.0.0.1:1', checks, checkTransactionState: (c) => checks.push(c) };
}

describe('half messages', () => {
  it('go to the half queue with REAL_TOPIC/REAL_QID and __transactionId__, invisible in the real queue', async () => {
    const { broker, store } = await harness();
    const r = await sendHalf('a');
    expect(r.queueId).toBe(2);
    expect(r.queueOffset).toBe(0);
    expect(r.uniqKeys).toEqual(['U-a']);
    expect(store.getMaxOffset('T', 2)).toBe(0);
    const [m] = await h!.messages(TRANS_HALF_TOPIC, 0);
    expect(m!.commitLogOffset).toBe(decodeOffsetMessageId(r.msgIds[0]!).commitLogOffset);
    expect(transactionType(m!.sysFlag)).toBe(0);
    expect(m!.properties.get(PropertyKey.REAL_TOPIC)).toBe('T');
    expect(m!.properties.get(PropertyKey.REAL_QUEUE_ID)).toBe('2');
    expect(m!.properties.get(PropertyKey.TRANSACTION_ID)).toBe('U-a');
    expect(m!.properties.get(PropertyKey.PRODUCER_GROUP)).toBe('PG');
    expect(m!.properties.has(PropertyKey.DELAY_TIME_LEVEL)).toBe(false);
    expect(await broker.openTransactions()).toMatchObject([
      { topic: 'T', queueId: 2, halfOffset: 0, transactionId: 'U-a', producerGroup: 'PG', checkTimes: 0 },
    ]);
  });

  it('get a UNIQ_KEY from the broker when the client sent none; a sysFlag alone marks a half', async () => {
    await harness();
    const r = await h!.broker.send(sendRequest('T', 'x', { queueId: 0, producerGroup: 'PG', sysFlag: 0x4 }));
    expect(r.uniqKeys[0]).toMatch(/^[0-9A-F]{32}$/);
    const [m] = await h!.messages(TRANS_HALF_TOPIC, 0);
    expect(m!.properties.get(PropertyKey.TRANSACTION_ID)).toBe(r.uniqKeys[0]);
    expect(m!.properties.get(PropertyKey.PRODUCER_GROUP)).toBe('PG');
  });

  it('cannot be sent to the transaction system topics directly, nor in a batch', async () => {
    await harness();
    for (const t of [TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC, TRANS_CHECK_MAX_TIME_TOPIC])
      await brokerError(() => h!.broker.send(sendRequest(t, 'x')), 'NO_PERMISSION');
    await brokerError(
      () =>
        h!.broker.sendBatch({
          topic: 'T',
          queueId: 0,
          sysFlag: 4,
          properties: props({ TRAN_MSG: 'true' }),
          items: [{ body: Buffer.from('x'), flag: 0, properties: props() }],
        }),
      'MESSAGE_ILLEGAL',
    );
  });
});

describe('END_TRANSACTION', () => {
  it('commits once: the real message with clean properties and the COMMIT type; a duplicate is not applied', async () => {
    const { broker, store } = await harness();
    const r = await sendHalf('c');
    expect(await broker.endTransaction(endOf(r, 'COMMIT'))).toBe('committed');
    expect(await broker.endTransaction(endOf(r, 'COMMIT'))).toBe('alreadyDecided');
    expect(await broker.endTransaction(endOf(r, 'COMMIT', { fromTransactionCheck: true }))).toBe('alreadyDecided');
    expect(store.getMaxOffset('T', 2)).toBe(1);
    await broker.transactions.flushDecisions();
    const [m] = await h!.messages('T', 2);
    expect(m!.body.toString()).toBe('c');
    expect(transactionType(m!.sysFlag)).toBe(SysFlag.TRANSACTION_COMMIT_TYPE);
    expect(m!.preparedTransactionOffset).toBe(decodeOffsetMessageId(r.msgIds[0]!).commitLogOffset);
    for (const k of [PropertyKey.REAL_TOPIC, PropertyKey.REAL_QUEUE_ID, PropertyKey.TRANSACTION_PREPARED]) expect(m!.properties.has(k)).toBe(false);
    expect(m!.properties.get(PropertyKey.TAGS)).toBe('tg');
    expect(m!.properties.get(PropertyKey.TRANSACTION_ID)).toBe('U-c');
    const [op] = await h!.messages(TRANS_OP_HALF_TOPIC, 0);
    expect(op!.body.toString()).toBe(`${r.queueOffset},`);
    expect(op!.properties.get(PropertyKey.TAGS)).toBe('d');
    // a rollback after the commit is refused, not applied
    await brokerError(() => broker.endTransaction(endOf(r, 'ROLLBACK')), 'SYSTEM_ERROR');
  });

  it('routes a commit as a send to its topic: the topic space fans it out to matching filters, timer properties defer it', async () => {
    const { broker, store } = await harness();
    // A subscriber's filter registered after the half was stored still gets the commit.
    const r = await sendHalf('mqtt', { [TopicProperty.TOPIC]: 'dev/1/state' });
    broker.topicFilters.add('dev/+/state');
    await broker.endTransaction(endOf(r, 'COMMIT'));
    const lmq = broker.topicFilters.lmq('dev/+/state');
    expect((await h!.messages(lmq, 0)).map((m) => m.body.toString())).toEqual(['mqtt']);
    expect(store.getMaxOffset('T', 2)).toBe(1);

    const timed = await sendHalf('later', { [PropertyKey.TIMER_DELAY_MS]: '60000' });
    await broker.endTransaction(endOf(timed, 'COMMIT'));
    // Waiting in the timer topic, not yet in its real queue.
    expect(store.getMaxOffset('T', 2)).toBe(1);
    // A timer beyond the maximum is refused at the half send, not at the commit.
    await brokerError(() => sendHalf('too-far', { [PropertyKey.TIMER_DELAY_SEC]: String(4 * 24 * 3600) }), 'MESSAGE_ILLEGAL');
    const [waiting] = await h!.messages(TIMER_TOPIC, 0);
    expect(waiting!.body.toString()).toBe('later');
    expect(waiting!.properties.get(PropertyKey.REAL_TOPIC)).toBe('T');
    expect(waiting!.preparedTransactionOffset).toBe(decodeOffsetMessageId(timed.msgIds[0]!).commitLogOffset);
  });

  it('applies concurrent commits of one half once', async () => {
    const { broker, store } = await harness();
    const r = await sendHalf('cc');
    const outcomes = await Promise.all([0, 1, 2, 3].map(() => broker.endTransaction(endOf(r, 'COMMIT'))));
    expect(outcomes.sort()).toEqual(['alreadyDecided', 'alreadyDecided', 'alreadyDecided', 'committed']);
    expect(store.getMaxOffset('T', 2)).toBe(1);
  });

  it('writes the decisions of one event-loop turn as one op record per kind, read back after a restart', async () => {
    const { broker, store } = await harness();
    const sent = [await sendHalf('b1'), await sendHalf('b2'), await sendHalf('b3'), await sendHalf('b4')];
    await Promise.all([
      broker.endTransaction(endOf(sent[0]!, 'COMMIT')),
      broker.endTransaction(endOf(sent[1]!, 'ROLLBACK')),
      broker.endTransaction(endOf(sent[2]!, 'COMMIT')),
      broker.endTransaction(endOf(sent[3]!, 'ROLLBACK')),
    ]);
    await broker.transactions.flushDecisions();
    const ops = await h!.messages(TRANS_OP_HALF_TOPIC, 0);
    // One record per kind when the decisions land in one turn (they do here: nothing but the store stands between them).
    expect(ops.map((o) => `${o.properties.get(OP_DECISION_PROPERTY)}:${o.body.toString()}`).sort()).toEqual(['COMMIT:0,2,', 'ROLLBACK:1,3,']);
    // Once the check loop has passed them, progress moves over the halves and over their op records.
    await broker.transactions.runOnce();
    expect(store.getConsumerOffset(TRANS_SYS_CONSUMER_GROUP, TRANS_HALF_TOPIC, 0)).toBe(4);
    expect(store.getConsumerOffset(TRANS_SYS_CONSUMER_GROUP, TRANS_OP_HALF_TOPIC, 0)).toBe(store.getMaxOffset(TRANS_OP_HALF_TOPIC, 0));
    await h!.reopen();
    for (const s of sent)
      expect(await h!.broker.endTransaction(endOf(s, 'COMMIT', { fromTransactionCheck: true })).catch(() => 'refused')).not.toBe('committed');
    expect(h!.store.getMaxOffset('T', 2)).toBe(2);
    expect(await h!.broker.openTransactions()).toEqual([]);
  });

  it('rolls back with an op record only; UNKNOWN changes nothing', async () => {
    const { broker, store } = await harness();
    const r = await sendHalf('r');
    expect(await broker.endTransaction(endOf(r, 'UNKNOWN'))).toBe('unchanged');
    expect(store.getMaxOffset(TRANS_OP_HALF_TOPIC, 0)).toBe(0);
    expect(await broker.endTransaction(endOf(r, 'ROLLBACK'))).toBe('rolledBack');
    await broker.transactions.flushDecisions();
    expect(store.getMaxOffset('T', 2)).toBe(0);
    expect(store.getMaxOffset(TRANS_OP_HALF_TOPIC, 0)).toBe(1);
    await broker.transactions.runOnce();
    expect(await broker.openTransactions()).toEqual([]);
    expect(store.getConsumerOffset(TRANS_SYS_CONSUMER_GROUP, TRANS_HALF_TOPIC, 0)).toBe(1);
  });

  it('validates the group and both offsets with RocketMQ remarks', async () => {
    const { broker } = await harness();
    const r = await sendHalf('v');
    expect((await brokerError(() => broker.endTransaction(endOf(r, 'COMMIT', { producerGroup: 'other' })), 'SYSTEM_ERROR')).reason).toBe(
      'The producer group wrong',
    );
    expect((await brokerError(() => broker.endTransaction(endOf(r, 'COMMIT', { tranStateTableOffset: 7 })), 'SYSTEM_ERROR')).reason).toBe(
      'The transaction state table offset wrong',
    );
    expect((await brokerError(() => broker.endTransaction(endOf(r, 'COMMIT', { commitLogOffset: 3 })), 'SYSTEM_ERROR')).reason).toBe(
      'Find prepared transaction message failed',
    );
    expect((await brokerError(() => broker.endTransaction(endOf(r, 'COMMIT', { commitLogOffset: -1 })), 'SYSTEM_ERROR')).reason).toBe(
      'Find prepared transaction message failed',
    );
    for (const commitLogOffset of [1e15, Number.MAX_SAFE_INTEGER, 0.5]) {
      expect((await brokerError(() => broker.endTransaction(endOf(r, 'COMMIT', { commitLogOffset })), 'SYSTEM_ERROR')).reason).toBe(
        'Find prepared transaction message failed',
      );
    }
    // a normal message's offset is not a half message
    const normal = await broker.send(sendRequest('T', 'n', { queueId: 0 }));
    expect((await brokerError(() => broker.endTransaction(endOf(r, 'COMMIT', { commitLogOffset: normal.commitLogOffsets[0]! })), 'SYSTEM_ERROR')).reason).toBe(
      'Find prepared transaction message failed',
    );
    expect(h!.store.getMaxOffset('T', 2)).toBe(0);
  });

  it('refuses a direct decision past the check immunity with ILLEGAL_OPERATION, but takes one from a check', async () => {
    const { broker } = await harness();
    const r = await sendHalf('i', { CHECK_IMMUNITY_TIME_IN_SECONDS: '10' });
    clock += 11_000;
    await brokerError(() => broker.endTransaction(endOf(r, 'COMMIT')), 'ILLEGAL_OPERATION');
    expect(await broker.endTransaction(endOf(r, 'COMMIT', { fromTransactionCheck: true }))).toBe('committed');
  });
});

describe('check-back', () => {
  it('checks after transactionTimeOut, then every interval, at most transactionCheckMax times, then gives up into TRANS_CHECK_MAX_TIME_TOPIC', async () => {
    const { broker, store } = await harness();
    const ch = producerChannel('p1');
    broker.producers.register('PG', ch, 'client-1');
    const r = await sendHalf('k');
    await broker.transactions.runOnce();
    expect(ch.checks).toHaveLength(0);
    clock += 6001;
    await broker.transactions.runOnce();
    expect(ch.checks).toHaveLength(1);
    const c = ch.checks[0]!;
    expect(c).toMatchObject({ topic: TRANS_HALF_TOPIC, tranStateTableOffset: 0, msgId: 'U-k', transactionId: 'U-k', offsetMsgId: r.msgIds[0] });
    expect(c.commitLogOffset).toBe(decodeOffsetMessageId(r.msgIds[0]!).commitLogOffset);
    const body = decodeRecord(c.body);
    expect(body).toMatchObject({ topic: 'T', queueId: 2 });
    expect(body.body.toString()).toBe('k');
    expect(body.properties.get(PropertyKey.PRODUCER_GROUP)).toBe('PG');
    clock += 30_000;
    await broker.transactions.runOnce();
    expect(ch.checks).toHaveLength(1);
    clock += 30_001;
    await broker.transactions.runOnce();
    clock += 60_001;
    await broker.transactions.runOnce();
    expect(ch.checks).toHaveLength(3);
    expect(await broker.openTransactions()).toMatchObject([{ checkTimes: 3 }]);
    clock += 60_001;
    await broker.transactions.runOnce();
    expect(ch.checks).toHaveLength(3);
    expect(await broker.openTransactions()).toEqual([]);
    const [given] = await h!.messages(TRANS_CHECK_MAX_TIME_TOPIC, 0);
    expect(given!.body.toString()).toBe('k');
    expect(given!.properties.get(PropertyKey.TRANSACTION_CHECK_TIMES)).toBe('3');
    // given up counts as decided: a late commit changes nothing (the half lies below the progress now)
    expect(await broker.endTransaction(endOf(r, 'COMMIT', { fromTransactionCheck: true }))).toBe('alreadyDecided');
    expect(store.getMaxOffset('T', 2)).toBe(0);
  });

  it('waits for the immunity time before the first check', async () => {
    const { broker } = await harness();
    const ch = producerChannel('p1');
    broker.producers.register('PG', ch, 'client-1');
    await sendHalf('im', { CHECK_IMMUNITY_TIME_IN_SECONDS: '20' });
    clock += 6001;
    await broker.transactions.runOnce();
    expect(ch.checks).toHaveLength(0);
    clock += 14_000;
    await broker.transactions.runOnce();
    expect(ch.checks).toHaveLength(1);
  });

  it('without a producer online checks nobody and tries again next interval; a decided half is never checked', async () => {
    const { broker } = await harness();
    const a = await sendHalf('a');
    await sendHalf('b');
    clock += 6001;
    await broker.transactions.runOnce();
    expect((await broker.openTransactions()).map((o) => o.checkTimes)).toEqual([1, 1]);
    await broker.endTransaction(endOf(a, 'COMMIT', { fromTransactionCheck: true }));
    const ch = producerChannel('p2');
    broker.producers.register('PG', ch, 'client-2');
    clock += 60_001;
    await broker.transactions.runOnce();
    expect(ch.checks.map((c) => c.msgId)).toEqual(['U-b']);
    // progress stays at the oldest open half
    expect(h!.store.getConsumerOffset(TRANS_SYS_CONSUMER_GROUP, TRANS_HALF_TOPIC, 0)).toBe(1);
  });
});

describe('restart', () => {
  it('rebuilds decisions from the op queue and keeps check counts', async () => {
    const { broker } = await harness();
    const a = await sendHalf('a');
    const b = await sendHalf('b');
    await sendHalf('c');
    await broker.endTransaction(endOf(b, 'COMMIT'));
    clock += 6001;
    await broker.transactions.runOnce();
    await h!.reopen();
    expect(await h!.broker.endTransaction(endOf(b, 'COMMIT'))).toBe('alreadyDecided');
    expect(h!.store.getMaxOffset('T', 2)).toBe(1);
    expect((await h!.broker.openTransactions()).map((o) => [o.transactionId, o.checkTimes])).toEqual([
      ['U-a', 1],
      ['U-c', 1],
    ]);
    expect(await h!.broker.endTransaction(endOf(a, 'ROLLBACK'))).toBe('rolledBack');
    await h!.broker.transactions.runOnce();
    await h!.reopen();
    expect((await h!.broker.openTransactions()).map((o) => o.transactionId)).toEqual(['U-c']);
    expect(await h!.broker.endTransaction(endOf(a, 'ROLLBACK'))).toBe('alreadyDecided');
  });

  it('recognises a commit whose op record a crash took: the real message is not put again', async () => {
    const { broker, store } = await harness();
    const r = await sendHalf('x');
    // What a crash between the real put and the op record leaves: the committed copy, no op record.
    const [half] = await h!.messages(TRANS_HALF_TOPIC, 0);
    await store.put(commitPutOf(half!, { topic: 'T', queueId: 2 }));
    expect(store.getMaxOffset(TRANS_OP_HALF_TOPIC, 0)).toBe(0);
    void broker;
    await h!.reopen();
    expect(await h!.broker.openTransactions()).toEqual([]);
    expect(h!.store.getMaxOffset(TRANS_OP_HALF_TOPIC, 0)).toBe(1);
    expect(await h!.broker.endTransaction(endOf(r, 'COMMIT', { fromTransactionCheck: true }))).toBe('alreadyDecided');
    expect(h!.store.getMaxOffset('T', 2)).toBe(1);
  });
});
