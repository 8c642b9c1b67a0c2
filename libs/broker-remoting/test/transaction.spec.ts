import { PropertyKey, decodeOffsetMessageId, decodeRecord, encodeProperties } from '@apogee/message';
import { RemotingClient, RequestCode, ResponseCode, makeRequest, type RemotingCommand } from '@apogee/remoting';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Harness } from './harness.js';

let h: Harness;

beforeEach(async () => {
  h = await Harness.start({ transactionTimeOut: 100, transactionCheckInterval: 200, transactionCheckMax: 15 });
});

afterEach(async () => {
  await h.close();
});

/** SEND_MESSAGE_V2 of a half message, as the Java client sends it (TRAN_MSG, PGROUP, sysFlag 0x4). */
function sendHalf(client: RemotingClient, body: string, uniq: string): Promise<RemotingCommand> {
  const props = { TRAN_MSG: 'true', PGROUP: 'pg', UNIQ_KEY: uniq, WAIT: 'true' };
  return client.invoke(
    h.brokerAddr,
    makeRequest(RequestCode.SEND_MESSAGE_V2, {
      extFields: { a: 'pg', b: 'Tx', c: 'TBW102', d: '4', e: '1', f: '4', g: String(Date.now()), h: '0', i: encodeProperties(props), j: '0', k: 'false' },
      body: Buffer.from(body),
    }),
  );
}

function endTransaction(client: RemotingClient, sent: RemotingCommand, commitOrRollback: number, extra: Record<string, string> = {}, oneway = false) {
  const cmd = makeRequest(RequestCode.END_TRANSACTION, {
    oneway,
    extFields: {
      producerGroup: 'pg',
      tranStateTableOffset: sent.extFields['queueOffset']!,
      commitLogOffset: String(decodeOffsetMessageId(sent.extFields['msgId']!).commitLogOffset),
      commitOrRollback: String(commitOrRollback),
      msgId: sent.extFields['transactionId']!,
      transactionId: sent.extFields['transactionId']!,
      ...extra,
    },
  });
  return oneway ? client.oneway(h.brokerAddr, cmd) : client.invoke(h.brokerAddr, cmd);
}

describe('transactions over remoting', () => {
  it('answers a half send like RocketMQ and commits it with a two-way END_TRANSACTION', async () => {
    const sent = await sendHalf(h.client, 'hello', 'U1');
    expect(sent.code).toBe(ResponseCode.SUCCESS);
    expect(sent.extFields).toMatchObject({ queueId: '1', queueOffset: '0', transactionId: 'U1' });
    expect(h.store.getMaxOffset('Tx', 1)).toBe(0);
    const res = (await endTransaction(h.client, sent, 8)) as RemotingCommand;
    expect(res.code).toBe(ResponseCode.SUCCESS);
    expect(h.store.getMaxOffset('Tx', 1)).toBe(1);
    const again = (await endTransaction(h.client, sent, 8)) as RemotingCommand;
    expect(again.code).toBe(ResponseCode.SUCCESS);
    expect(h.store.getMaxOffset('Tx', 1)).toBe(1);
  });

  it('checks a producer of the group back over its connection; its oneway answer commits', async () => {
    const producer = new RemotingClient();
    const checks: RemotingCommand[] = [];
    producer.register(RequestCode.CHECK_TRANSACTION_STATE, (req, conn) => {
      checks.push(req);
      const m = decodeRecord(req.body!);
      // Answer as the Java client does: oneway, fromTransactionCheck, offsets from the header.
      conn.send(
        makeRequest(RequestCode.END_TRANSACTION, {
          oneway: true,
          extFields: {
            producerGroup: m.properties.get(PropertyKey.PRODUCER_GROUP)!,
            tranStateTableOffset: req.extFields['tranStateTableOffset']!,
            commitLogOffset: req.extFields['commitLogOffset']!,
            commitOrRollback: '8',
            fromTransactionCheck: 'true',
            msgId: m.properties.get(PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX)!,
            topic: req.extFields['topic']!,
          },
        }),
      );
      return null;
    });
    try {
      const hb = await producer.invoke(
        h.brokerAddr,
        makeRequest(RequestCode.HEART_BEAT, {
          body: Buffer.from(JSON.stringify({ clientID: 'c1', producerDataSet: [{ groupName: 'pg' }], consumerDataSet: [] })),
        }),
      );
      expect(hb.code).toBe(ResponseCode.SUCCESS);
      const sent = await sendHalf(producer, 'later', 'U2');
      await endTransaction(producer, sent, 0, {}, true);
      for (let i = 0; i < 200 && h.store.getMaxOffset('Tx', 1) === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(h.store.getMaxOffset('Tx', 1)).toBe(1);
      expect(checks).toHaveLength(1);
      expect(checks[0]!.extFields).toMatchObject({ topic: 'RMQ_SYS_TRANS_HALF_TOPIC', msgId: 'U2', transactionId: 'U2', offsetMsgId: sent.extFields['msgId'] });
      expect(decodeRecord(checks[0]!.body!)).toMatchObject({ topic: 'Tx', queueId: 1 });
      const list = await h.call(RequestCode.APOGEE_LIST_OPEN_TRANSACTIONS);
      expect(JSON.parse(list.body!.toString())).toEqual({ transactions: [] });
    } finally {
      producer.close();
    }
  });
});
