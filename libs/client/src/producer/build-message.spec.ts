import { SysFlag, UniqueIdGenerator, decodeProperties } from '@apogee/message';
import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildOutgoing } from './build-message.js';

const opts = { ids: new UniqueIdGenerator(), compressOverBytes: 10, maxMessageSize: 100 };

describe('buildOutgoing', () => {
  it('sets UNIQ_KEY, TAGS, KEYS, DELAY, WAIT and user properties', () => {
    const out = buildOutgoing({ topic: 'T', body: 'short', tags: 't', keys: 'one', properties: { p: 'v' }, delayLevel: 2, waitStoreMsgOK: false }, opts);
    const props = decodeProperties(out.properties);
    expect(Object.fromEntries(props)).toEqual({ p: 'v', TAGS: 't', KEYS: 'one', DELAY: '2', WAIT: 'false', UNIQ_KEY: out.uniqId });
    expect(out.sysFlag).toBe(0);
  });

  it('sets the timer properties of deliverTimeMs and delayMs', () => {
    const out = buildOutgoing({ topic: 'T', body: 'x', deliverTimeMs: 1_700_000_000_123.7, delayMs: 1500 }, opts);
    const props = decodeProperties(out.properties);
    expect(props.get('TIMER_DELIVER_MS')).toBe('1700000000123');
    expect(props.get('TIMER_DELAY_MS')).toBe('1500');
  });

  it('compresses at the threshold', () => {
    const out = buildOutgoing({ topic: 'T', body: Buffer.alloc(10, 'a') }, opts);
    expect(out.sysFlag & SysFlag.COMPRESSED).toBe(SysFlag.COMPRESSED);
    expect(zlib.inflateSync(out.body).toString()).toBe('aaaaaaaaaa');
  });

  it('sets the PREPARED sysFlag on a transactional half message (TRAN_MSG=true)', () => {
    const out = buildOutgoing({ topic: 'T', body: 'x' }, { ...opts, extraProperties: { TRAN_MSG: 'true', PGROUP: 'pg' } });
    expect(out.sysFlag & SysFlag.TRANSACTION_MASK).toBe(SysFlag.TRANSACTION_PREPARED_TYPE);
    expect(decodeProperties(out.properties).get('PGROUP')).toBe('pg');
  });

  it('rejects bad input', () => {
    expect(() => buildOutgoing({ topic: 'T', body: Buffer.alloc(101) }, opts)).toThrow(/limit/);
    expect(() => buildOutgoing({ topic: 'T', body: 'x', properties: { 'a\u0001': 'b' } }, opts)).toThrow(/U\+0001/);
    expect(() => buildOutgoing({ topic: 'T T', body: 'x' }, opts)).toThrow(/topic/);
    expect(() => buildOutgoing({ topic: 'T', body: 42 as unknown as string }, opts)).toThrow(/Buffer/);
  });
});
