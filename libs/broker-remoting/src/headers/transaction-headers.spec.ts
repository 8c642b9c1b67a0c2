import { HeaderFieldError } from '@apogee/remoting';
import { describe, expect, it } from 'vitest';
import { checkTransactionStateHeader, readEndTransactionHeader } from './transaction-headers.js';

const base = { producerGroup: 'pg', tranStateTableOffset: '3', commitLogOffset: '4096', commitOrRollback: '8', msgId: 'U1' };

describe('END_TRANSACTION header', () => {
  it('reads the Java client fields; 5.x extras are ignored', () => {
    expect(readEndTransactionHeader({ ...base, fromTransactionCheck: 'true', transactionId: 'T1', bname: 'b', oway: 'true' }, 'boom')).toEqual({
      producerGroup: 'pg',
      tranStateTableOffset: 3,
      commitLogOffset: 4096,
      resolution: 'COMMIT',
      fromTransactionCheck: true,
      msgId: 'U1',
      transactionId: 'T1',
      remark: 'boom',
    });
    expect(readEndTransactionHeader({ ...base, commitOrRollback: '12' }).resolution).toBe('ROLLBACK');
    expect(readEndTransactionHeader({ ...base, commitOrRollback: '0' })).toMatchObject({ resolution: 'UNKNOWN', fromTransactionCheck: false });
  });

  it.each([
    ['commitOrRollback', '4'],
    ['commitOrRollback', 'x'],
    ['tranStateTableOffset', 'abc'],
    ['commitLogOffset', '99999999999999999999'],
  ])('refuses %s=%s with a HeaderFieldError naming the field', (field, value) => {
    expect(() => readEndTransactionHeader({ ...base, [field]: value })).toThrow(HeaderFieldError);
    expect(() => readEndTransactionHeader({ ...base, [field]: value })).toThrow(new RegExp(field));
  });

  it.each(['producerGroup', 'tranStateTableOffset', 'commitLogOffset', 'commitOrRollback', 'msgId'])('requires %s', (field) => {
    const e: Record<string, string> = { ...base };
    delete e[field];
    expect(() => readEndTransactionHeader(e)).toThrow(HeaderFieldError);
  });
});

describe('CHECK_TRANSACTION_STATE header', () => {
  it('carries the fields the Java client reads, numbers in decimal', () => {
    expect(
      checkTransactionStateHeader({
        topic: 'RMQ_SYS_TRANS_HALF_TOPIC',
        tranStateTableOffset: 5,
        commitLogOffset: 123,
        msgId: 'U',
        transactionId: 'U',
        offsetMsgId: 'ABC',
        brokerName: 'broker-a',
        body: Buffer.alloc(0),
      }),
    ).toEqual({
      topic: 'RMQ_SYS_TRANS_HALF_TOPIC',
      tranStateTableOffset: '5',
      commitLogOffset: '123',
      msgId: 'U',
      transactionId: 'U',
      offsetMsgId: 'ABC',
      bname: 'broker-a',
    });
  });
});
