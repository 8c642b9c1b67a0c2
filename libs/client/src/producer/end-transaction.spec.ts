import { decodeOffsetMessageId } from '@apogee/message';
import { RequestCode, isOneway } from '@apogee/remoting';
import { describe, expect, it } from 'vitest';
import { commitLogOffsetOf, endTransactionRequest } from './end-transaction.js';

describe('END_TRANSACTION request', () => {
  it('is oneway with the Java field names and commitOrRollback codes', () => {
    const req = endTransactionRequest({
      producerGroup: 'pg',
      tranStateTableOffset: 7,
      commitLogOffset: 4096,
      msgId: 'U',
      transactionId: 'U',
      topic: 'T',
      brokerName: 'b',
      fromTransactionCheck: false,
      state: 'COMMIT',
    });
    expect(req.code).toBe(RequestCode.END_TRANSACTION);
    expect(isOneway(req)).toBe(true);
    expect(req.extFields).toEqual({
      producerGroup: 'pg',
      tranStateTableOffset: '7',
      commitLogOffset: '4096',
      commitOrRollback: '8',
      fromTransactionCheck: 'false',
      msgId: 'U',
      transactionId: 'U',
      topic: 'T',
      bname: 'b',
    });
    const unknown = endTransactionRequest({
      producerGroup: 'pg',
      tranStateTableOffset: 0,
      commitLogOffset: 0,
      msgId: 'U',
      fromTransactionCheck: true,
      state: 'UNKNOWN',
      remark: 'boom',
    });
    expect(unknown.extFields['commitOrRollback']).toBe('0');
    expect(unknown.remark).toBe('boom');
    expect(
      endTransactionRequest({ producerGroup: 'pg', tranStateTableOffset: 0, commitLogOffset: 0, msgId: 'U', fromTransactionCheck: true, state: 'ROLLBACK' })
        .extFields['commitOrRollback'],
    ).toBe('12');
  });

  it('decodes the commit-log offset from an offset msgId', () => {
    expect(commitLogOffsetOf('7F00000100002A9F0000000000001000')).toBe(4096);
    // IPv6 store host (56 hex digits), and the full decoder's answer for any offset
    expect(commitLogOffsetOf('00000000000000000000000000000001000027110000000000ABCDEF')).toBe(0xabcdef);
    expect(commitLogOffsetOf('7F00000100002A9F001FFFFFFFFFFFFF')).toBe(Number.MAX_SAFE_INTEGER);
    expect(commitLogOffsetOf('7F00000100002A9F0020000000000000')).toBe(decodeOffsetMessageId('7F00000100002A9F0020000000000000').commitLogOffset);
    expect(() => commitLogOffsetOf('nope')).toThrow(/offset message id/);
  });
});
