export { AmqpGateway, type AmqpGatewayOptions, type AmqpGatewayStats } from './gateway.js';
export { AMQP_DEFAULTS, resolveAmqpConfig, type AmqpConfig } from './config.js';
export { AddressError, parseAddress, queueTopicOf, deadLetterTopicOf, type AmqpAddress } from './address.js';
export { Condition } from './errors.js';
export { AmqpProperty } from './message/properties.js';
export { FrameGuard, type FrameGuardOptions, type GuardFailure } from './codec/frame-guard.js';
