import { BROKER_DEFAULTS, type BrokerConfig, checkSettings } from '@apogee/broker';
import { AMQP_DEFAULTS, type AmqpConfig, resolveAmqpConfig } from '@apogee/amqp';
import { MQTT_DEFAULTS, type MqttConfig } from '@apogee/mqtt';

/** The config file's "broker" section, checked against BrokerConfig. */
export function brokerSettingsFrom(section: Record<string, unknown>, source: string): Partial<BrokerConfig> {
  return checkSettings('broker', BROKER_DEFAULTS, section, source);
}

/** The config file's "mqtt" section, checked against MqttConfig. */
export function mqttSettingsFrom(section: Record<string, unknown>, source: string): Partial<MqttConfig> {
  return checkSettings('mqtt', MQTT_DEFAULTS, section, source);
}

/** The config file's "amqp" section, checked against AmqpConfig (names, types and ranges). */
export function amqpSettingsFrom(section: Record<string, unknown>, source: string): Partial<AmqpConfig> {
  const settings = checkSettings('amqp', AMQP_DEFAULTS, section, source);
  try {
    resolveAmqpConfig(settings);
  } catch (err) {
    throw new Error(`${source}: ${(err as Error).message}`);
  }
  return settings;
}
