import { BROKER_ERROR_KINDS, BrokerError } from '@apogee/broker';
import { describe, expect, it } from 'vitest';
import { REASON_CODE_OF, publishFailureCode } from './errors.js';
import { ReasonCode } from './reason-codes.js';

describe('the MQTT error table', () => {
  it('has a failure reason code (≥ 0x80) for every broker error kind', () => {
    for (const kind of BROKER_ERROR_KINDS) {
      expect(REASON_CODE_OF[kind], kind).toBeGreaterThanOrEqual(0x80);
      expect(publishFailureCode(new BrokerError(kind, 'x'))).toBe(REASON_CODE_OF[kind]);
    }
    expect(Object.keys(REASON_CODE_OF).sort()).toEqual([...BROKER_ERROR_KINDS].sort());
  });

  it('tells a client to come back later only when the store is busy or unavailable', () => {
    const later = BROKER_ERROR_KINDS.filter((k) => REASON_CODE_OF[k] === ReasonCode.QUOTA_EXCEEDED);
    expect(later.sort()).toEqual(['SERVICE_NOT_AVAILABLE', 'SYSTEM_BUSY']);
  });
});
