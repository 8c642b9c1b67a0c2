import type { Client } from './context.js';

/** PINGREQ: PINGRESP (any packet keeps the connection alive). */
export function onPingreq(client: Client): void {
  client.conn.send({ cmd: 'pingresp' });
}
