import type mqtt from 'mqtt-packet';

/** What one parsed packet may declare (MqttConfig's maxUserProperties and maxFiltersPerPacket). */
export interface PacketLimits {
  maxUserProperties: number;
  maxFiltersPerPacket: number;
}

/**
 * Why a parsed packet is refused, or null. mqtt-packet has already bounded the packet by its size;
 * what is checked here is what each item would cost after it: user properties are stored with
 * every message and copied to every delivery, each topic filter becomes a subscription with its
 * own queue. A SUBSCRIBE may carry one subscription identifier, never 0 (MQTT 5.0, 3.8.2.1.2).
 */
export function packetLimitViolation(p: mqtt.Packet, limits: PacketLimits): string | null {
  const props = (p as { properties?: { userProperties?: Record<string, string | string[]>; subscriptionIdentifier?: number | number[] } }).properties;
  const user = userPropertyCount(props?.userProperties);
  if (p.cmd === 'connect' && p.will?.properties) {
    const willUser = userPropertyCount(p.will.properties.userProperties as Record<string, string | string[]> | undefined);
    if (willUser > limits.maxUserProperties) return `will carries ${willUser} user properties; the limit is ${limits.maxUserProperties}`;
  }
  if (user > limits.maxUserProperties) return `${p.cmd} carries ${user} user properties; the limit is ${limits.maxUserProperties}`;
  if (p.cmd === 'subscribe' || p.cmd === 'unsubscribe') {
    const n = p.cmd === 'subscribe' ? p.subscriptions.length : p.unsubscriptions.length;
    if (n > limits.maxFiltersPerPacket) return `${p.cmd} carries ${n} topic filters; the limit is ${limits.maxFiltersPerPacket}`;
  }
  if (p.cmd === 'subscribe' && props?.subscriptionIdentifier !== undefined) {
    const id = props.subscriptionIdentifier;
    if (Array.isArray(id)) return `subscribe carries ${id.length} subscription identifiers; at most one is allowed`;
    if (id === 0) return 'subscription identifier 0 is not allowed';
  }
  return null;
}

function userPropertyCount(user: Record<string, string | string[]> | undefined): number {
  if (!user) return 0;
  let n = 0;
  for (const k in user) {
    const v = user[k]!;
    n += Array.isArray(v) ? v.length : 1;
  }
  return n;
}
