import { RefusalCounters, type RefusalCounts } from '@apogee/message';
import { Condition, type ConditionName } from './errors.js';

/**
 * Every reason the AMQP endpoint refuses something for, by the operation refused: the label values
 * of `apogee_amqp_refusals_total{operation,reason}` (docs/metrics.md describes each). The table is
 * the whole vocabulary — counts are never keyed by client-supplied or free text — so the family
 * has exactly one series per entry, all present (at 0) from the start.
 *
 * - sasl: a SASL PLAIN login refused.
 * - open: a connection closed before it was served (its listener's cap, no open in time, an open refused).
 * - attach: a link's attach answered with a detach carrying an error (the session and connection stay).
 * - transfer: an incoming message rejected (its link stays).
 * - protocol: a connection closed for a framing or protocol error (the frame guard's, or rhea's).
 */
export const AMQP_REFUSAL_REASONS = {
  sasl: ['bad_credentials', 'not_authorized'],
  open: ['connection_limit', 'open_timeout', 'invalid_container_id', 'authentication_required'],
  attach: ['not_authorized', 'link_limit', 'not_found', 'invalid_address', 'not_implemented', 'internal_error'],
  transfer: ['not_authorized', 'message_too_large', 'unsupported_format', 'malformed_message', 'quota_exceeded', 'not_stored'],
  protocol: ['protocol_header', 'frame_size', 'framing_error', 'decode_error', 'resource_limit', 'protocol_violation'],
} as const;

export type AmqpRefusalOperation = keyof typeof AMQP_REFUSAL_REASONS;
export type AmqpRefusalReason<O extends AmqpRefusalOperation = AmqpRefusalOperation> = (typeof AMQP_REFUSAL_REASONS)[O][number];

/** Refusals counted since start: operation → reason → count, every reason of the table present. */
export type AmqpRefusalCounts = RefusalCounts<typeof AMQP_REFUSAL_REASONS>;

/** The reason an attach refused with each condition is counted under. */
const ATTACH_REASON_OF: Readonly<Record<ConditionName, AmqpRefusalReason<'attach'>>> = {
  [Condition.UNAUTHORIZED_ACCESS]: 'not_authorized',
  [Condition.RESOURCE_LIMIT_EXCEEDED]: 'link_limit',
  [Condition.NOT_FOUND]: 'not_found',
  [Condition.NOT_IMPLEMENTED]: 'not_implemented',
  [Condition.INTERNAL_ERROR]: 'internal_error',
  // Link names and addresses that break the rules (address.ts).
  [Condition.INVALID_FIELD]: 'invalid_address',
  [Condition.NOT_ALLOWED]: 'invalid_address',
  // Not used for attaches; listed so that the table covers every condition.
  [Condition.DECODE_ERROR]: 'invalid_address',
  [Condition.FRAMING_ERROR]: 'invalid_address',
  [Condition.MESSAGE_SIZE_EXCEEDED]: 'invalid_address',
  [Condition.DETACH_FORCED]: 'internal_error',
  [Condition.CONNECTION_FORCED]: 'internal_error',
};

/** The attach reason of a refusal's condition (an unknown condition counts as internal_error). */
export function attachRefusalReason(condition: string): AmqpRefusalReason<'attach'> {
  return ATTACH_REASON_OF[condition as ConditionName] ?? 'internal_error';
}

/** The gateway's refusal counters (one per gateway): a count per (operation, reason) of AMQP_REFUSAL_REASONS. */
export class AmqpRefusalCounters extends RefusalCounters<typeof AMQP_REFUSAL_REASONS> {
  constructor() {
    super(AMQP_REFUSAL_REASONS);
  }
}
