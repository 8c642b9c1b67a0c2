export { AmqpGateway, type AmqpGatewayOptions, type AmqpGatewayStats, type AmqpConnectionView } from './gateway.js';
export { AMQP_REFUSAL_REASONS, AmqpRefusalCounters, type AmqpRefusalCounts, type AmqpRefusalOperation, type AmqpRefusalReason } from './refusal-counters.js';
export { AMQP_DEFAULTS, resolveAmqpConfig, type AmqpConfig } from './config.js';
export { AddressError, parseAddress, queueTopicOf, deadLetterTopicOf, type AmqpAddress } from './address.js';
export { Condition } from './errors.js';
export { AmqpProperty } from './message/properties.js';
export { FrameGuard, type FrameGuardOptions, type GuardFailure } from './codec/frame-guard.js';
// The wire encoders, for tools that write frames by hand (the fuzzer).
export { frame as amqpFrame, protocolHeader } from './codec/frames.js';
export { NULL_VALUE, encodeBinary, encodeBool, encodeDescribed, encodeList, encodeMap, encodeString, encodeSymbol, encodeUint } from './codec/types.js';
