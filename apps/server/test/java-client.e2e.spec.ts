/**
 * Requests the official Java client sends that the Node clients do not: QUERY_MESSAGE with
 * Long.MAX_VALUE as the end of its time range (MQAdminImpl.viewMessage / queryMessageByUniqKey)
 * and CHECK_CLIENT_CONFIG (a push consumer's start() with a non-TAG subscription: SQL92 is checked by compiling it). A real server
 * process, raw frames and @apogee/client.
 */
import fs from 'node:fs';
import { Admin, LONG_MAX_VALUE, Producer } from '@apogee/client';
import { decodeRecords } from '@apogee/message';
import { RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawRemoting } from './raw-remoting.js';
import { createTopic } from './remoting-helpers.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';

let server: ServerProcess;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDataDir('apg-java-');
  server = await ServerProcess.start(dataDir);
});

afterAll(async () => {
  await killAllStarted();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const LONG_MAX = '9223372036854775807';
const THREE_DAYS_MS = 3 * 24 * 3600 * 1000;

describe('Java client requests', () => {
  it('QUERY_MESSAGE by unique key with Long.MAX_VALUE as the end time, through a raw frame and through @apogee/client', async () => {
    await createTopic(server.brokerAddr, server.namesrvAddr, 'JavaView');
    const producer = new Producer({ nameServer: server.namesrvAddr, group: 'java-view-pg' });
    await producer.start();
    const admin = new Admin({ nameServer: server.namesrvAddr });
    const raw = await RawRemoting.connect(server.brokerAddr);
    try {
      const sent = await producer.send({ topic: 'JavaView', body: 'look me up' });
      const res = await raw.request(
        makeRequest(RequestCode.QUERY_MESSAGE, {
          extFields: {
            topic: 'JavaView',
            key: sent.msgId,
            maxNum: '32',
            beginTimestamp: String(Date.now() - THREE_DAYS_MS),
            endTimestamp: LONG_MAX,
            _UNIQUE_KEY_QUERY: 'true',
          },
        }),
      );
      expect(res.code, res.remark).toBe(ResponseCode.SUCCESS);
      expect(decodeRecords(res.body!).map((m) => m.body.toString())).toEqual(['look me up']);

      const found = await admin.queryMessageByUniqKey('JavaView', sent.msgId, { begin: Date.now() - THREE_DAYS_MS, end: LONG_MAX_VALUE });
      expect(found.map((m) => [m.msgId, m.body.toString()])).toEqual([[sent.msgId, 'look me up']]);

      // Past the long range is still refused, naming the field.
      const past = await raw.request(
        makeRequest(RequestCode.QUERY_MESSAGE, {
          extFields: { topic: 'JavaView', key: sent.msgId, maxNum: '32', beginTimestamp: '0', endTimestamp: '9223372036854775808' },
        }),
      );
      expect([past.code, past.remark]).toEqual([
        ResponseCode.SYSTEM_ERROR,
        'QUERY_MESSAGE: header field "endTimestamp" is not a valid long: "9223372036854775808"',
      ]);
    } finally {
      raw.close();
      await admin.shutdown();
      await producer.shutdown();
    }
  });

  it('CHECK_CLIENT_CONFIG: TAG and a compiling SQL92 subscription are SUCCESS, a bad SQL92 one SUBSCRIPTION_PARSE_FAILED with its column', async () => {
    const raw = await RawRemoting.connect(server.brokerAddr);
    try {
      const check = (expressionType: string, subString: string) =>
        raw.request(
          makeRequest(RequestCode.CHECK_CLIENT_CONFIG, {
            body: Buffer.from(
              JSON.stringify({
                clientId: '127.0.0.1@java-consumer',
                group: 'java-cg',
                subscriptionData: { classFilterMode: false, topic: 'JavaView', subString, tagsSet: [], codeSet: [], subVersion: Date.now(), expressionType },
              }),
            ),
          }),
        );
      const tag = await check('TAG', 'TagA || TagB');
      expect([tag.code, tag.remark]).toEqual([ResponseCode.SUCCESS, undefined]);
      const sql = await check('SQL92', 'a > 5');
      expect([sql.code, sql.remark]).toEqual([ResponseCode.SUCCESS, undefined]);
      const bad = await check('SQL92', 'a >');
      expect(bad.code).toBe(ResponseCode.SUBSCRIPTION_PARSE_FAILED);
      expect(bad.remark).toMatch(/column 4/);
    } finally {
      raw.close();
    }
  });
});
