import { BROKER_ERROR_KINDS, BrokerError } from '@apogee/broker';
import { ApogeeError } from '@apogee/message';
import { HeaderFieldError, RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import { describe, expect, it } from 'vitest';
import { RESPONSE_CODE_OF, errorResponse } from './errors-to-response.js';

const KNOWN_CODES = new Set<number>(Object.values(ResponseCode));
const req = () => makeRequest(RequestCode.SEND_MESSAGE);

describe('BrokerError kind → ResponseCode', () => {
  it('maps every kind, and only the kinds, onto a RocketMQ response code', () => {
    expect(Object.keys(RESPONSE_CODE_OF).sort()).toEqual([...BROKER_ERROR_KINDS].sort());
    for (const kind of BROKER_ERROR_KINDS) {
      expect(KNOWN_CODES.has(RESPONSE_CODE_OF[kind]), kind).toBe(true);
      expect(RESPONSE_CODE_OF[kind], kind).not.toBe(ResponseCode.SUCCESS);
    }
  });

  it('keeps the codes RocketMQ clients act on', () => {
    expect(RESPONSE_CODE_OF).toEqual({
      TOPIC_NOT_EXIST: ResponseCode.TOPIC_NOT_EXIST,
      NO_PERMISSION: ResponseCode.NO_PERMISSION,
      INVALID_PARAMETER: ResponseCode.INVALID_PARAMETER,
      MESSAGE_ILLEGAL: ResponseCode.MESSAGE_ILLEGAL,
      SYSTEM_BUSY: ResponseCode.SYSTEM_BUSY,
      SERVICE_NOT_AVAILABLE: ResponseCode.SERVICE_NOT_AVAILABLE,
      SUBSCRIPTION_GROUP_NOT_EXIST: ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
      SUBSCRIPTION_PARSE_FAILED: ResponseCode.SUBSCRIPTION_PARSE_FAILED,
      SUBSCRIPTION_NOT_EXIST: ResponseCode.SUBSCRIPTION_NOT_EXIST,
      NOT_SUPPORTED: ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
      NOT_FOUND: ResponseCode.SYSTEM_ERROR,
      ILLEGAL_OPERATION: ResponseCode.ILLEGAL_OPERATION,
      SYSTEM_ERROR: ResponseCode.SYSTEM_ERROR,
    });
  });

  it('answers a BrokerError with its code and its message, without the error code, as remark', () => {
    for (const kind of BROKER_ERROR_KINDS) {
      const res = errorResponse(req(), new BrokerError(kind, `why ${kind}`));
      expect(res.code, kind).toBe(RESPONSE_CODE_OF[kind]);
      expect(res.remark, kind).toBe(`why ${kind}`);
    }
  });

  it('answers a malformed header and anything else with SYSTEM_ERROR naming the request', () => {
    const bad = errorResponse(req(), new HeaderFieldError('topic', 'missing', 'the header field topic is missing'));
    expect(bad).toMatchObject({ code: ResponseCode.SYSTEM_ERROR, remark: 'SEND_MESSAGE: the header field topic is missing' });
    expect(errorResponse(req(), new Error('boom'))).toMatchObject({ code: ResponseCode.SYSTEM_ERROR, remark: 'SEND_MESSAGE: boom' });
    const plain = new ApogeeError('APG_X', 'plain text', { codeInMessage: false });
    expect(errorResponse(req(), plain)).toMatchObject({ code: ResponseCode.SYSTEM_ERROR, remark: 'SEND_MESSAGE: APG_X: plain text' });
  });
});
