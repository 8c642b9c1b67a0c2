import type { IDisconnectPacket } from 'mqtt-packet';
import { EXPIRY_NEVER, ReasonCode } from '../protocol/reason-codes.js';
import type { Client, Services } from './context.js';

/** DISCONNECT from the client: the will is discarded (unless asked for), the connection closes. */
export function onDisconnect(svc: Services, client: Client, p: IDisconnectPacket): void {
  const { conn, session } = client;
  // v5 may change the session expiry on the way out (not from 0 [MQTT-3.14.2-2]).
  const e = conn.protocolVersion === 5 ? p.properties?.sessionExpiryInterval : undefined;
  if (e !== undefined && session.persistent) session.makePersistent(e === EXPIRY_NEVER ? -1 : e);
  else if (e !== undefined && e > 0 && !session.persistent) {
    conn.send({ cmd: 'disconnect', reasonCode: ReasonCode.PROTOCOL_ERROR });
    conn.protocolError('protocol_violation', 'session expiry set on DISCONNECT after CONNECT asked for 0');
    return;
  }
  if (e === 0 && session.persistent) void session.forget();
  // A normal DISCONNECT discards the will; v5 reason 0x04 asks for it to be published.
  if (!(conn.protocolVersion === 5 && p.reasonCode === ReasonCode.DISCONNECT_WITH_WILL_MESSAGE)) svc.wills.discard(conn);
  conn.close('client disconnected');
}
