import fs from 'node:fs';
import path from 'node:path';
import { type MessageExt, decodeRecords } from '@apogee/message';
import { RemotingClient, RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';

/** A config file with short transaction check settings, for tests that wait for check-backs. */
export function transactionConfig(dir: string, broker: Record<string, number | boolean>): string {
  const file = path.join(dir, 'apogee.json');
  fs.writeFileSync(file, JSON.stringify({ broker }));
  return file;
}

/** Every message of a queue, pulled from offset 0 with a throwaway group. */
export async function readQueue(brokerAddr: string, topic: string, queueId: number): Promise<MessageExt[]> {
  const client = new RemotingClient({ requestTimeoutMs: 10_000 });
  const out: MessageExt[] = [];
  try {
    let offset = 0;
    for (;;) {
      const res = await client.invoke(
        brokerAddr,
        makeRequest(RequestCode.PULL_MESSAGE, {
          extFields: {
            consumerGroup: 'tx-check-reader',
            topic,
            queueId: String(queueId),
            queueOffset: String(offset),
            maxMsgNums: '32',
            sysFlag: '4',
            commitOffset: '0',
            suspendTimeoutMillis: '0',
            subscription: '*',
            subVersion: '0',
          },
        }),
      );
      if (res.code !== ResponseCode.SUCCESS) return out;
      out.push(...decodeRecords(res.body!));
      offset = Number(res.extFields['nextBeginOffset']);
    }
  } finally {
    client.close();
  }
}

/** Every message of a topic's queues 0..queues-1. */
export async function readTopic(brokerAddr: string, topic: string, queues: number): Promise<MessageExt[]> {
  const all: MessageExt[] = [];
  for (let q = 0; q < queues; q++) all.push(...(await readQueue(brokerAddr, topic, q)));
  return all;
}

/** The half messages the broker lists as open (APOGEE_LIST_OPEN_TRANSACTIONS). */
export async function openTransactions(brokerAddr: string): Promise<Array<{ transactionId: string; checkTimes: number; topic: string }>> {
  const client = new RemotingClient({ requestTimeoutMs: 10_000 });
  try {
    const res = await client.invoke(brokerAddr, makeRequest(RequestCode.APOGEE_LIST_OPEN_TRANSACTIONS, { extFields: { max: '10000' } }));
    if (res.code !== ResponseCode.SUCCESS) throw new Error(`APOGEE_LIST_OPEN_TRANSACTIONS: ${res.code} ${res.remark}`);
    return (JSON.parse(res.body!.toString('utf8')) as { transactions: Array<{ transactionId: string; checkTimes: number; topic: string }> }).transactions;
  } finally {
    client.close();
  }
}

/** Polls an async condition every 50 ms. */
export async function until(cond: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
