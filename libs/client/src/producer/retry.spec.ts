import { ResponseCode } from '@apogee/remoting';
import { describe, expect, it } from 'vitest';
import { ClientError, ClientErrorCode } from '../errors.js';
import { isRetryableSendError } from './retry.js';

const broker = (code: number) => ClientError.fromResponse('send', { code, remark: 'r' });

describe('send retry policy', () => {
  it('retries system error, busy, service unavailable, topic not exist, and network failures', () => {
    for (const code of [ResponseCode.SYSTEM_ERROR, ResponseCode.SYSTEM_BUSY, ResponseCode.SERVICE_NOT_AVAILABLE, ResponseCode.TOPIC_NOT_EXIST])
      expect(isRetryableSendError(broker(code))).toBe(true);
    expect(isRetryableSendError(new ClientError(ClientErrorCode.NETWORK, 'timeout'))).toBe(true);
  });

  it('does not retry other codes or non-client errors', () => {
    for (const code of [ResponseCode.MESSAGE_ILLEGAL, ResponseCode.NO_PERMISSION, ResponseCode.INVALID_PARAMETER])
      expect(isRetryableSendError(broker(code))).toBe(false);
    expect(isRetryableSendError(new ClientError(ClientErrorCode.ILLEGAL_ARGUMENT, 'bad'))).toBe(false);
    expect(isRetryableSendError(new Error('x'))).toBe(false);
  });

  it('fromResponse keeps code and remark', () => {
    const e = broker(ResponseCode.SYSTEM_BUSY);
    expect(e).toMatchObject({ code: ClientErrorCode.BROKER, responseCode: 2, remark: 'r' });
    expect(e.message).toMatch(/SYSTEM_BUSY \(2\)/);
  });
});
