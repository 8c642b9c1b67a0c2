/**
 * RocketMQ properties that carry what an AMQP message has beyond its body (docs/protocol-mapping.md).
 * The AMQP_* ones hold encoded sections, base64: AMQP readers get them back byte for byte.
 */
export const AmqpProperty = {
  /** Sections before the body (header … application-properties), encoded as received. */
  HEAD: 'AMQP_HEAD',
  /** `sections`: the record body holds encoded body sections (amqp-value, amqp-sequence, several data); `none`: no body. Absent: the body is one data section's bytes. */
  BODY: 'AMQP_BODY',
  /** The footer section, encoded. */
  FOOT: 'AMQP_FOOT',
} as const;

export const BODY_SECTIONS = 'sections';
export const BODY_NONE = 'none';
