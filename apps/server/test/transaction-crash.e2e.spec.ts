/**
 * SIGKILL the server during a transactional load — some transactions committed, some rolled
 * back, some left UNKNOWN for the check-back — restart it on the same data directory and let a
 * new producer of the group answer the checks: no committed message is lost or doubled, no
 * rolled-back one is ever visible, and every pending one is resolved.
 */
import path from 'node:path';
import { type LocalTransactionState, TransactionProducer } from '@apogee/client';
import { afterAll, describe, expect, it } from 'vitest';
import { createTopic } from './remoting-helpers.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';
import { openTransactions, readTopic, transactionConfig, until } from './transaction-helpers.js';

const TOPIC = 'TxCrash';
const QUEUES = 4;
const GROUP = 'tx-crash';

afterAll(killAllStarted);

/** The local transaction's fate by sequence number: committed at once, rolled back at once, or left to the check-back. */
function direct(i: number): LocalTransactionState {
  return i % 3 === 0 ? 'COMMIT' : i % 3 === 1 ? 'ROLLBACK' : 'UNKNOWN';
}
/** What the "local database" says when checked: pending ones commit when even. */
function checked(i: number): LocalTransactionState {
  const d = direct(i);
  return d !== 'UNKNOWN' ? d : i % 2 === 0 ? 'COMMIT' : 'ROLLBACK';
}

const seqOf = (body: Buffer): number => Number(body.toString().split('|')[0]);

describe('crash safety of transactions', () => {
  it('keeps commits exactly once and rollbacks invisible across a SIGKILL; pending ones are checked back after the restart', async () => {
    const dir = tempDataDir('apg-tx-crash-');
    const cfg = transactionConfig(dir, { transactionTimeOut: 500, transactionCheckInterval: 500, transactionCheckMax: 30 });
    const dataDir = path.join(dir, 'data');
    let server = await ServerProcess.start(dataDir, undefined, ['--config', cfg]);
    await createTopic(server.brokerAddr, server.namesrvAddr, TOPIC, QUEUES);

    // Before the crash, checks are answered UNKNOWN: only the direct decisions and the restart's checks decide.
    const first = new TransactionProducer<number>({
      nameServer: server.namesrvAddr,
      group: GROUP,
      retryTimes: 0,
      listener: { executeLocalTransaction: (_m, i) => direct(i), checkLocalTransaction: () => 'UNKNOWN' },
    });
    first.on('error', () => {});
    await first.start();
    const acked = new Set<number>();
    let seq = 0;
    let stop = false;
    const load = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const i = seq++;
        try {
          await first.sendMessageInTransaction({ topic: TOPIC, body: `${i}|${'x'.repeat(100)}` }, i);
          acked.add(i);
        } catch {
          if (stop) return;
        }
      }
    });
    await until(async () => acked.size >= 600, '600 acknowledged half messages', 30_000);
    await server.kill();
    stop = true;
    await Promise.all(load);
    await first.shutdown();

    server = await ServerProcess.start(dataDir, server.ports, ['--config', cfg]);
    const second = new TransactionProducer<number>({
      nameServer: server.namesrvAddr,
      group: GROUP,
      topics: [TOPIC],
      heartbeatMs: 500,
      listener: { executeLocalTransaction: () => 'UNKNOWN', checkLocalTransaction: (m) => checked(seqOf(m.body)) },
    });
    second.on('error', () => {});
    await second.start();
    try {
      // The restart found undecided half messages (the UNKNOWN ones at least) to check back.
      expect(server.output).toMatch(/transactional half messages recovered/);
      await until(async () => (await openTransactions(server.brokerAddr)).length === 0, 'every transaction resolved after the restart', 60_000);
      const seen = new Map<number, number>();
      for (const m of await readTopic(server.brokerAddr, TOPIC, QUEUES)) seen.set(seqOf(m.body), (seen.get(seqOf(m.body)) ?? 0) + 1);
      const doubled = [...seen].filter(([, n]) => n > 1).map(([i]) => i);
      expect(doubled).toEqual([]);
      // Never visible: anything the local database rolled back.
      expect([...seen.keys()].filter((i) => checked(i) === 'ROLLBACK')).toEqual([]);
      // Never lost: every acknowledged half whose transaction commits.
      expect([...acked].filter((i) => checked(i) === 'COMMIT' && !seen.has(i))).toEqual([]);
      expect(acked.size).toBeGreaterThanOrEqual(600);
    } finally {
      await second.shutdown();
      await server.stop();
    }
  });
});
