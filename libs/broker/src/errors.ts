import { ApogeeError } from '@apogee/message';

/**
 * Why the engine refused a request. Endpoints map each onto their protocol's error (the remoting
 * service onto RocketMQ response codes) and pass the message on as the human-readable reason.
 */
export const BROKER_ERROR_KINDS = [
  'TOPIC_NOT_EXIST',
  'NO_PERMISSION',
  'INVALID_PARAMETER',
  'MESSAGE_ILLEGAL',
  'SYSTEM_BUSY',
  'SERVICE_NOT_AVAILABLE',
  'SUBSCRIPTION_GROUP_NOT_EXIST',
  'SUBSCRIPTION_PARSE_FAILED',
  'SUBSCRIPTION_NOT_EXIST',
  'NOT_SUPPORTED',
  'NOT_FOUND',
  /** A request that is well-formed but not allowed now (END_TRANSACTION before its check-immunity ran out). */
  'ILLEGAL_OPERATION',
  'SYSTEM_ERROR',
] as const;
export type BrokerErrorKind = (typeof BROKER_ERROR_KINDS)[number];

export class BrokerError extends ApogeeError {
  constructor(
    readonly kind: BrokerErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`APG_BROKER_${kind}`, message, options);
    this.reason = message;
  }
  /** The message without the code prefix: what a protocol error remark carries. */
  readonly reason: string;
}
