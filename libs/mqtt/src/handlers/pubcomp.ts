import type { IPubcompPacket } from 'mqtt-packet';
import type { Client } from './context.js';

/** PUBCOMP (QoS 2 delivery complete): the packet id is free again. */
export function onPubcomp(client: Client, p: IPubcompPacket): void {
  client.session.completed(p.messageId ?? 0);
}
