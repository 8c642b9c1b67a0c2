import { BrokerError, type BrokerErrorKind } from '@apogee/broker';
import { ReasonCode } from './reason-codes.js';

/**
 * The MQTT 5 reason code of each broker error that kept a PUBLISH from being stored (its PUBACK or
 * PUBREC) — the one error-to-protocol table of the MQTT endpoint: Quota exceeded when the store is
 * busy or unavailable (the client may retry later), Unspecified error otherwise. 3.1.1 has no
 * negative acknowledgement: the connection closes instead.
 */
export const REASON_CODE_OF: Readonly<Record<BrokerErrorKind, number>> = {
  TOPIC_NOT_EXIST: ReasonCode.UNSPECIFIED_ERROR,
  NO_PERMISSION: ReasonCode.UNSPECIFIED_ERROR,
  INVALID_PARAMETER: ReasonCode.UNSPECIFIED_ERROR,
  MESSAGE_ILLEGAL: ReasonCode.UNSPECIFIED_ERROR,
  SYSTEM_BUSY: ReasonCode.QUOTA_EXCEEDED,
  SERVICE_NOT_AVAILABLE: ReasonCode.QUOTA_EXCEEDED,
  SUBSCRIPTION_GROUP_NOT_EXIST: ReasonCode.UNSPECIFIED_ERROR,
  SUBSCRIPTION_PARSE_FAILED: ReasonCode.UNSPECIFIED_ERROR,
  SUBSCRIPTION_NOT_EXIST: ReasonCode.UNSPECIFIED_ERROR,
  NOT_SUPPORTED: ReasonCode.UNSPECIFIED_ERROR,
  NOT_FOUND: ReasonCode.UNSPECIFIED_ERROR,
  ILLEGAL_OPERATION: ReasonCode.UNSPECIFIED_ERROR,
  SYSTEM_ERROR: ReasonCode.UNSPECIFIED_ERROR,
};

/** The v5 reason code for an error that kept a PUBLISH from being stored (REASON_CODE_OF for a BrokerError). */
export function publishFailureCode(err: unknown): number {
  return err instanceof BrokerError ? REASON_CODE_OF[err.kind] : ReasonCode.UNSPECIFIED_ERROR;
}
