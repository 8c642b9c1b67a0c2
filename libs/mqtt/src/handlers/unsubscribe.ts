import type { IUnsubscribePacket } from 'mqtt-packet';
import { ReasonCode } from '../protocol/reason-codes.js';
import type { Client, Services } from './context.js';

/** UNSUBSCRIBE: UNSUBACK, with a reason code per filter in v5 (3.1.1 has none). */
export function onUnsubscribe(svc: Services, client: Client, p: IUnsubscribePacket): void {
  const { conn, session } = client;
  const codes: number[] = [];
  for (const f of p.unsubscriptions) {
    let had: boolean;
    if (session.sharedSubs.has(f)) had = svc.shared.leave(session, f);
    else {
      had = session.unsubscribe(f);
      if (had) svc.filters.remove(f);
    }
    codes.push(had ? ReasonCode.SUCCESS : ReasonCode.NO_SUBSCRIPTION_EXISTED);
  }
  if (conn.protocolVersion === 5) conn.send({ cmd: 'unsuback', messageId: p.messageId ?? 0, granted: codes });
  else conn.send({ cmd: 'unsuback', messageId: p.messageId ?? 0, granted: [] });
}
