import { BROKER_DEFAULTS, type BrokerConfig } from '@apogee/broker';

/**
 * Checks the config file's "broker" section against BrokerConfig: unknown keys and wrong types
 * are errors (a typo must not silently fall back to a default).
 */
export function brokerSettingsFrom(section: Record<string, unknown>, source: string): Partial<BrokerConfig> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(section)) {
    if (!Object.hasOwn(BROKER_DEFAULTS, k)) throw new Error(`${source}: unknown broker setting ${JSON.stringify(k)}; known: ${Object.keys(BROKER_DEFAULTS).join(', ')}`);
    const expected = typeof BROKER_DEFAULTS[k as keyof BrokerConfig];
    if (typeof v !== expected) throw new Error(`${source}: broker.${k} must be a ${expected}, got ${JSON.stringify(v)}`);
    if (expected === 'number' && (!Number.isFinite(v as number) || (v as number) < 0)) throw new Error(`${source}: broker.${k} must be a non-negative number`);
    out[k] = v;
  }
  return out as Partial<BrokerConfig>;
}
