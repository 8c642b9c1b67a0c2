import { BrokerError } from '@apogee/broker';
import { HeaderFieldError, type RemotingCommand, RequestCode, ResponseCode, makeRequest, responseTo } from '@apogee/remoting';
import { describe, expect, it } from 'vitest';
import { RefusalLog, debugEnabled, isExpectedAnswer } from './refusal-log.js';

function recorder() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  const at = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, logger: { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } };
}

const conn = { remote: '10.1.2.3:4567' };
const answer = (code: number, extFields: Record<string, string>, res: number, remark?: string): [RemotingCommand, RemotingCommand] => {
  const req = makeRequest(code, { extFields });
  return [req, responseTo(req, res, remark)];
};

describe('RefusalLog', () => {
  it('warns about a refusal naming the client, the request, its subject and the reason', () => {
    const r = recorder();
    const log = new RefusalLog(r.logger);
    const [req, res] = answer(RequestCode.SEND_MESSAGE_V2, { a: 'PG', b: 'Gone' }, ResponseCode.TOPIC_NOT_EXIST, 'topic Gone does not exist');
    log.notSuccess(req, res, conn, new BrokerError('TOPIC_NOT_EXIST', 'topic Gone does not exist'), 'client-1@host');
    expect(r.lines).toEqual([
      {
        level: 'warn',
        msg: 'broker: request refused',
        obj: {
          remote: '10.1.2.3:4567',
          clientId: 'client-1@host',
          request: 'SEND_MESSAGE_V2',
          requestCode: 310,
          producerGroup: 'PG',
          topic: 'Gone',
          response: 'TOPIC_NOT_EXIST',
          remark: 'topic Gone does not exist',
        },
      },
    ]);
  });

  it('logs an unexpected failure as an error with its stack; a bad header stays a warning', () => {
    const r = recorder();
    const log = new RefusalLog(r.logger);
    const [req, res] = answer(RequestCode.GET_MAX_OFFSET, { topic: 'T' }, ResponseCode.SYSTEM_ERROR, 'GET_MAX_OFFSET: boom');
    log.notSuccess(req, res, conn, new TypeError('boom'), undefined);
    log.notSuccess(req, res, conn, new HeaderFieldError('queueId', 'missing', 'required header field "queueId" is missing'), undefined);
    expect(r.lines.map((l) => [l.level, l.msg])).toEqual([
      ['error', 'broker: request failed unexpectedly'],
      ['warn', 'broker: request refused'],
    ]);
    expect(r.lines[0]!.obj['err']).toMatch(/^TypeError: boom\n/);
  });

  it('keeps expected answers at debug', () => {
    const r = recorder();
    const log = new RefusalLog(r.logger);
    for (const [req, res] of [
      answer(RequestCode.PULL_MESSAGE, { topic: 'T' }, ResponseCode.PULL_NOT_FOUND),
      answer(RequestCode.LITE_PULL_MESSAGE, { topic: 'T' }, ResponseCode.PULL_OFFSET_MOVED),
      answer(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'New' }, ResponseCode.QUERY_NOT_FOUND),
      answer(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { consumerGroup: 'Elsewhere' }, ResponseCode.SYSTEM_ERROR),
    ])
      log.notSuccess(req, res, conn, undefined, undefined);
    expect(r.lines.map((l) => l.level)).toEqual(['debug', 'debug', 'debug', 'debug']);
  });

  it('limits warnings per response code: a flood of one kind does not hide another', () => {
    const r = recorder();
    const log = new RefusalLog(r.logger);
    const [req, res] = answer(9999, {}, ResponseCode.REQUEST_CODE_NOT_SUPPORTED, 'request code 9999 not supported');
    for (let i = 0; i < 50; i++) log.notSuccess(req, res, conn, undefined, undefined);
    const [bad, refused] = answer(RequestCode.PULL_MESSAGE, { topic: 'T' }, ResponseCode.NO_PERMISSION, 'topic T is not readable');
    log.notSuccess(bad, refused, conn, undefined, undefined);
    expect(r.lines.filter((l) => l.obj['response'] === 'REQUEST_CODE_NOT_SUPPORTED')).toHaveLength(10);
    expect(r.lines.at(-1)!.obj['response']).toBe('NO_PERMISSION');
    log.flush();
    expect(r.lines.at(-1)).toEqual({
      level: 'warn',
      msg: 'broker: request refused: suppressed 40 similar warnings in 60 s',
      obj: { key: 'remoting:REQUEST_CODE_NOT_SUPPORTED', suppressed: 40 },
    });
  });
});

describe('debugEnabled', () => {
  it("asks pino's isLevelEnabled, else whether there is a debug method", () => {
    expect(debugEnabled({ debug() {}, isLevelEnabled: (l: string) => l !== 'debug' })).toBe(false);
    expect(debugEnabled({ debug() {}, isLevelEnabled: () => true })).toBe(true);
    expect(debugEnabled({ debug() {} })).toBe(true);
    expect(debugEnabled({})).toBe(false);
  });
});

describe('isExpectedAnswer', () => {
  it('is about the request as well as the code: a pull answer to another request is a refusal', () => {
    expect(isExpectedAnswer(...answer(RequestCode.QUERY_MESSAGE, {}, ResponseCode.QUERY_NOT_FOUND))).toBe(true);
    expect(isExpectedAnswer(...answer(RequestCode.SEND_MESSAGE, {}, ResponseCode.PULL_NOT_FOUND))).toBe(false);
    expect(isExpectedAnswer(...answer(RequestCode.PULL_MESSAGE, {}, ResponseCode.SYSTEM_ERROR))).toBe(false);
    expect(isExpectedAnswer(...answer(RequestCode.GET_CONSUMER_CONNECTION_LIST, {}, ResponseCode.CONSUMER_NOT_ONLINE))).toBe(true);
  });
});
