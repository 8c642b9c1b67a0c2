import type { IPubrelPacket } from 'mqtt-packet';
import type { Client } from './context.js';

/**
 * PUBREL (inbound QoS 2 released): the packet id is forgotten and its Receive Maximum slot freed,
 * and PUBCOMP answers — also for an id not known (already released before a reconnect).
 */
export function onPubrel(client: Client, p: IPubrelPacket): void {
  const id = p.messageId ?? 0;
  client.session.inbound.released(client.inbound, id);
  client.conn.send({ cmd: 'pubcomp', messageId: id });
}
