export { MqttGateway, type MqttGatewayOptions, type MqttGatewayStats, type MqttListenerOptions } from './gateway.js';
export { MQTT_REFUSAL_REASONS, MqttRefusalCounters, type MqttRefusalCounts, type MqttRefusalOperation, type MqttRefusalReason } from './refusal-counters.js';
export type { MqttSessionView } from './session/session-view.js';
export { MQTT_DEFAULTS, resolveMqttConfig, type MqttConfig } from './config.js';
/** The topic property names under their old name (the topic space is @apogee/topics). */
export { TopicProperty as MqttProperty, MQTT_TAG } from '@apogee/topics';
export { type WebSocketListenerOptions, listenWebSocket } from './ws-listener.js';
