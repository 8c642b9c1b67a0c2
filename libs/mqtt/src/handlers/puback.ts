import type { IPubackPacket } from 'mqtt-packet';
import type { Client } from './context.js';

/** PUBACK (QoS 1 delivery acknowledged by the client): frees the delivery's in-flight slot. */
export function onPuback(client: Client, p: IPubackPacket): void {
  client.session.acknowledge(p.messageId ?? 0);
}
