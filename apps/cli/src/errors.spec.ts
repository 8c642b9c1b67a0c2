import { ClientError, ClientErrorCode } from '@apogee/client';
import { describe, expect, it } from 'vitest';
import { describeError, nameServerList } from './errors.js';

describe('describeError', () => {
  it('names the response code of a broker or NameServer answer', () => {
    const err = new ClientError(ClientErrorCode.NO_ROUTE, 'no route', { responseCode: 17, remark: 'No topic route info for Nope' });
    expect(describeError(err, [])).toBe('error: TOPIC_NOT_EXIST No topic route info for Nope');
    expect(describeError(new ClientError(ClientErrorCode.BROKER, 'x', { responseCode: 9999 }), [])).toBe('error: UNKNOWN(9999)');
  });

  it('says which NameServer could not be reached', () => {
    const err = new ClientError(ClientErrorCode.NETWORK, 'request 106 to 127.0.0.1:1: refused', {
      addr: '127.0.0.1:1',
      cause: new Error('connect ECONNREFUSED 127.0.0.1:1'),
    });
    expect(describeError(err, ['127.0.0.1:1'])).toBe('error: cannot reach the NameServer at 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1');
    expect(describeError(err, ['127.0.0.1:9876'])).toBe('error: cannot reach 127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1');
  });

  it('falls back to the message', () => {
    expect(describeError(new Error('boom'), [])).toBe('error: boom');
    expect(describeError('odd', [])).toBe('error: odd');
  });

  it('splits a NameServer list', () => {
    expect(nameServerList('a:1; b:2;')).toEqual(['a:1', 'b:2']);
    expect(nameServerList(' ')).toEqual([]);
  });
});
