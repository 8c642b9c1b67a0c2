import { BrokerError } from '@apogee/broker';
import { ReasonCode } from './reason-codes.js';

/**
 * The v5 reason code for a broker error that kept a PUBLISH from being stored (its PUBACK or
 * PUBREC): 0x97 Quota exceeded when the store is busy or full, 0x80 Unspecified error otherwise.
 */
export function publishFailureCode(err: unknown): number {
  return err instanceof BrokerError && (err.kind === 'SYSTEM_BUSY' || err.kind === 'SERVICE_NOT_AVAILABLE') ? ReasonCode.QUOTA_EXCEEDED : ReasonCode.UNSPECIFIED_ERROR;
}
