import { BrokerError, type BrokerErrorKind } from '@apogee/broker';
import { ApiError, type ApiErrorCode } from './api-error.js';

/** How the engine's refusals answer over HTTP. */
const BY_KIND: Record<BrokerErrorKind, ApiErrorCode> = {
  TOPIC_NOT_EXIST: 'NOT_FOUND',
  NO_PERMISSION: 'FORBIDDEN',
  INVALID_PARAMETER: 'BAD_REQUEST',
  MESSAGE_ILLEGAL: 'BAD_REQUEST',
  SYSTEM_BUSY: 'UNAVAILABLE',
  SERVICE_NOT_AVAILABLE: 'UNAVAILABLE',
  SUBSCRIPTION_GROUP_NOT_EXIST: 'NOT_FOUND',
  SUBSCRIPTION_PARSE_FAILED: 'BAD_REQUEST',
  SUBSCRIPTION_NOT_EXIST: 'NOT_FOUND',
  NOT_SUPPORTED: 'BAD_REQUEST',
  NOT_FOUND: 'NOT_FOUND',
  ILLEGAL_OPERATION: 'CONFLICT',
  SYSTEM_ERROR: 'INTERNAL',
};

/** An engine refusal as an ApiError (its reason as the message); other errors pass unchanged. */
export function apiErrorOf(err: unknown): unknown {
  if (err instanceof BrokerError) return new ApiError(BY_KIND[err.kind], err.reason);
  return err;
}
