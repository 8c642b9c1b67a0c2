import { describe, expect, it } from 'vitest';
import {
  DEFAULT_VERSION,
  FLAG_ONEWAY,
  FLAG_RESPONSE,
  LanguageCode,
  RequestCode,
  ResponseCode,
  SerializeType,
  isOneway,
  isResponse,
  languageCode,
  languageName,
  makeRequest,
  makeResponse,
  requestCodeName,
  responseCodeName,
} from './index.js';

describe('command model', () => {
  it('LanguageCode maps both ways (LanguageCode.java)', () => {
    expect(LanguageCode.JAVA).toBe(0);
    expect(LanguageCode.GO).toBe(9);
    expect(LanguageCode.NODE_JS).toBe(13);
    for (const [name, code] of Object.entries(LanguageCode)) {
      expect(languageName(code)).toBe(name);
      expect(languageCode(name)).toBe(code);
    }
    expect(Object.keys(LanguageCode)).toHaveLength(14);
    expect(languageName(14)).toBeUndefined();
    expect(languageCode('toString')).toBeUndefined();
    expect(languageCode('java')).toBeUndefined();
  });

  it('SerializeType values are the header word top byte', () => {
    expect(SerializeType).toEqual({ JSON: 0, ROCKETMQ: 1 });
  });

  it('makeRequest / makeResponse set flags and echo opaque', () => {
    const req = makeRequest(RequestCode.PULL_MESSAGE, { extFields: { topic: 't' }, opaque: 42 });
    expect(req).toEqual({ code: 11, language: 'JAVA', version: DEFAULT_VERSION, opaque: 42, flag: 0, extFields: { topic: 't' } });
    expect(isResponse(req)).toBe(false);
    expect(isOneway(req)).toBe(false);

    const oneway = makeRequest(RequestCode.UPDATE_CONSUMER_OFFSET, { oneway: true });
    expect(oneway.flag).toBe(FLAG_ONEWAY);
    expect(isOneway(oneway)).toBe(true);

    const a = makeRequest(1);
    const b = makeRequest(1);
    expect(b.opaque).not.toBe(a.opaque);
    expect(a.opaque).toBeGreaterThan(0);

    const body = Buffer.from('x');
    const res = makeResponse(req, ResponseCode.PULL_NOT_FOUND, { remark: 'no msg', body });
    expect(res.opaque).toBe(42);
    expect(res.flag).toBe(FLAG_RESPONSE);
    expect(res.remark).toBe('no msg');
    expect(res.body).toBe(body);
    expect(isResponse(res)).toBe(true);
  });

  it('code tables hold the facts-sheet codes and name them for logs', () => {
    expect(RequestCode.SEND_MESSAGE_V2).toBe(310);
    expect(RequestCode.GET_ROUTEINFO_BY_TOPIC).toBe(105);
    expect(RequestCode.POP_MESSAGE).toBe(200050);
    expect(RequestCode.BATCH_ACK_MESSAGE).toBe(200151);
    expect(RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT).toBe(326);
    expect(requestCodeName(34)).toBe('HEART_BEAT');
    expect(requestCodeName(99999)).toBe('UNKNOWN(99999)');
    expect(ResponseCode.QUERY_NOT_FOUND).toBe(22);
    expect(ResponseCode.GO_AWAY).toBe(1500);
    expect(responseCodeName(17)).toBe('TOPIC_NOT_EXIST');
    expect(responseCodeName(202)).toBe('TRANSACTION_STATE_UNKNOW');
    // Codes are unique inside each table.
    expect(new Set(Object.values(RequestCode)).size).toBe(Object.keys(RequestCode).length);
    expect(new Set(Object.values(ResponseCode)).size).toBe(Object.keys(ResponseCode).length);
  });
});
