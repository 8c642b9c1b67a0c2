import { BROKER_ERROR_KINDS, BrokerError } from '@apogee/broker';
import { describe, expect, it } from 'vitest';
import { CONDITION_OF, Condition, conditionOfPeerError, conditionOfStoreFailure } from './errors.js';

const CONDITIONS = new Set<string>(Object.values(Condition));

describe('AMQP error conditions', () => {
  it('CONDITION_OF maps every BrokerError kind, and only those, onto a defined condition', () => {
    expect(Object.keys(CONDITION_OF).sort()).toEqual([...BROKER_ERROR_KINDS].sort());
    for (const kind of BROKER_ERROR_KINDS) expect(CONDITIONS.has(CONDITION_OF[kind]), kind).toBe(true);
  });

  it('rejects an unstored message with resource-limit-exceeded when the store is busy or unavailable, internal-error otherwise', () => {
    for (const kind of BROKER_ERROR_KINDS) {
      const expected = kind === 'SYSTEM_BUSY' || kind === 'SERVICE_NOT_AVAILABLE' ? 'amqp:resource-limit-exceeded' : 'amqp:internal-error';
      expect(conditionOfStoreFailure(new BrokerError(kind, 'x')), kind).toBe(expected);
    }
    expect(conditionOfStoreFailure(new Error('disk on fire'))).toBe('amqp:internal-error');
    expect(conditionOfStoreFailure('not an error')).toBe('amqp:internal-error');
  });

  it('closes a connection after a peer error with the condition its error name calls for', () => {
    const named = (name: string) => Object.assign(new Error('m'), { name });
    expect(conditionOfPeerError(named('ProtocolError'))).toBe('amqp:connection:framing-error');
    expect(conditionOfPeerError(new TypeError('t'))).toBe('amqp:decode-error');
    expect(conditionOfPeerError(new RangeError('r'))).toBe('amqp:decode-error');
    expect(conditionOfPeerError(new Error('e'))).toBe('amqp:not-allowed');
    expect(conditionOfPeerError(named('AmqpError'))).toBe('amqp:not-allowed');
  });
});
