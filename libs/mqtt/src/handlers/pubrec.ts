import type { IPubrecPacket } from 'mqtt-packet';
import type { Client } from './context.js';

/** PUBREC (QoS 2 delivery received by the client): the session answers PUBREL once that is durable. */
export function onPubrec(client: Client, p: IPubrecPacket): void {
  client.session.received(p.messageId ?? 0);
}
