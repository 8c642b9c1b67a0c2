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
