import type { Packet } from '../protocol/mqtt-connection.js';
import { ReasonCode } from '../protocol/reason-codes.js';
import type { Client, Services } from './context.js';
import { onDisconnect } from './disconnect.js';
import { onPingreq } from './pingreq.js';
import { onPuback } from './puback.js';
import { onPubcomp } from './pubcomp.js';
import { PublishHandler } from './publish.js';
import { onPubrec } from './pubrec.js';
import { onPubrel } from './pubrel.js';
import { onSubscribe } from './subscribe.js';
import { onUnsubscribe } from './unsubscribe.js';

/**
 * Every packet after a successful CONNECT, to its handler by `cmd`; a second CONNECT and packets
 * only a server sends are protocol errors that close the connection.
 */
export class PacketDispatch {
  private readonly publish: PublishHandler;

  constructor(private readonly svc: Services) {
    this.publish = new PublishHandler(svc);
  }

  handle(client: Client, p: Packet): void {
    switch (p.cmd) {
      case 'publish':
        return this.publish.handle(client, p);
      case 'puback':
        return onPuback(client, p);
      case 'pubrec':
        return onPubrec(client, p);
      case 'pubcomp':
        return onPubcomp(client, p);
      case 'pubrel':
        return onPubrel(client, p);
      case 'subscribe':
        return onSubscribe(this.svc, client, p);
      case 'unsubscribe':
        return onUnsubscribe(this.svc, client, p);
      case 'pingreq':
        return onPingreq(client);
      case 'disconnect':
        return onDisconnect(this.svc, client, p);
      case 'connect':
        // A second CONNECT is a protocol violation [MQTT-3.1.0-2].
        if (client.conn.protocolVersion === 5) client.conn.send({ cmd: 'disconnect', reasonCode: ReasonCode.PROTOCOL_ERROR });
        client.conn.protocolError('unexpected_packet', 'second CONNECT on one connection');
        return;
      default:
        if (client.conn.protocolVersion === 5) client.conn.send({ cmd: 'disconnect', reasonCode: ReasonCode.PROTOCOL_ERROR });
        client.conn.protocolError('unexpected_packet', `unexpected ${p.cmd} from a client`);
    }
  }
}
