import { BrokerError, type BrokerErrorKind } from '@apogee/broker';

/** AMQP 1.0 error conditions the endpoint answers with (spec 2.8.15–2.8.18). */
export const Condition = {
  INTERNAL_ERROR: 'amqp:internal-error',
  NOT_FOUND: 'amqp:not-found',
  UNAUTHORIZED_ACCESS: 'amqp:unauthorized-access',
  DECODE_ERROR: 'amqp:decode-error',
  RESOURCE_LIMIT_EXCEEDED: 'amqp:resource-limit-exceeded',
  NOT_ALLOWED: 'amqp:not-allowed',
  INVALID_FIELD: 'amqp:invalid-field',
  NOT_IMPLEMENTED: 'amqp:not-implemented',
  FRAMING_ERROR: 'amqp:connection:framing-error',
  MESSAGE_SIZE_EXCEEDED: 'amqp:link:message-size-exceeded',
  DETACH_FORCED: 'amqp:link:detach-forced',
  CONNECTION_FORCED: 'amqp:connection:forced',
} as const;

/** An AMQP error as rhea sends it in detach, close and rejected outcomes. */
export interface AmqpErrorValue {
  condition: string;
  description: string;
}

/** The AMQP error condition names, `amqp:…`. */
export type ConditionName = (typeof Condition)[keyof typeof Condition];

/**
 * The one table from the engine's refusals to the condition a message refused for that reason is
 * rejected with: the store being busy or unavailable is a resource limit the sender may retry
 * later; anything else is an internal error.
 */
export const CONDITION_OF: Readonly<Record<BrokerErrorKind, ConditionName>> = {
  TOPIC_NOT_EXIST: Condition.INTERNAL_ERROR,
  NO_PERMISSION: Condition.INTERNAL_ERROR,
  INVALID_PARAMETER: Condition.INTERNAL_ERROR,
  MESSAGE_ILLEGAL: Condition.INTERNAL_ERROR,
  SYSTEM_BUSY: Condition.RESOURCE_LIMIT_EXCEEDED,
  SERVICE_NOT_AVAILABLE: Condition.RESOURCE_LIMIT_EXCEEDED,
  SUBSCRIPTION_GROUP_NOT_EXIST: Condition.INTERNAL_ERROR,
  SUBSCRIPTION_PARSE_FAILED: Condition.INTERNAL_ERROR,
  SUBSCRIPTION_NOT_EXIST: Condition.INTERNAL_ERROR,
  NOT_SUPPORTED: Condition.INTERNAL_ERROR,
  NOT_FOUND: Condition.INTERNAL_ERROR,
  ILLEGAL_OPERATION: Condition.INTERNAL_ERROR,
  SYSTEM_ERROR: Condition.INTERNAL_ERROR,
};

/** The condition a message the engine did not store is rejected with: CONDITION_OF for a BrokerError, else internal-error. */
export function conditionOfStoreFailure(err: unknown): ConditionName {
  return err instanceof BrokerError ? CONDITION_OF[err.kind] : Condition.INTERNAL_ERROR;
}

/**
 * The condition a connection is closed with after rhea reported a peer error: its ProtocolError
 * is a framing error, a TypeError or RangeError from decoding is a decode error, anything else is
 * not allowed.
 */
export function conditionOfPeerError(err: Error): ConditionName {
  if (err.name === 'ProtocolError') return Condition.FRAMING_ERROR;
  if (err.name === 'TypeError' || err.name === 'RangeError') return Condition.DECODE_ERROR;
  return Condition.NOT_ALLOWED;
}
