import { BROKER_DEFAULTS, type BrokerConfig } from '@apogee/broker';
import { MQTT_DEFAULTS, type MqttConfig } from '@apogee/mqtt';

/**
 * Checks the config file's "broker" section against BrokerConfig: unknown keys and wrong types
 * are errors (a typo must not silently fall back to a default).
 */
export function brokerSettingsFrom(section: Record<string, unknown>, source: string): Partial<BrokerConfig> {
  return settingsFrom('broker', BROKER_DEFAULTS as unknown as Record<string, unknown>, section, source) as Partial<BrokerConfig>;
}

/** The config file's "mqtt" section, checked against MqttConfig the same way. */
export function mqttSettingsFrom(section: Record<string, unknown>, source: string): Partial<MqttConfig> {
  return settingsFrom('mqtt', MQTT_DEFAULTS as unknown as Record<string, unknown>, section, source) as Partial<MqttConfig>;
}

function settingsFrom(name: string, defaults: Record<string, unknown>, section: Record<string, unknown>, source: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(section)) {
    if (!Object.hasOwn(defaults, k)) throw new Error(`${source}: unknown ${name} setting ${JSON.stringify(k)}; known: ${Object.keys(defaults).join(', ')}`);
    const expected = typeof defaults[k];
    if (typeof v !== expected) throw new Error(`${source}: ${name}.${k} must be a ${expected}, got ${JSON.stringify(v)}`);
    if (expected === 'number' && (!Number.isFinite(v as number) || (v as number) < 0)) throw new Error(`${source}: ${name}.${k} must be a non-negative number`);
    out[k] = v;
  }
  return out;
}
