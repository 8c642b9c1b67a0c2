import type { Logger } from '@apogee/broker';
import type { IPublishPacket, QoS } from 'mqtt-packet';
import type { MqttConnection } from '../protocol/mqtt-connection.js';
import type { PublishInput } from '../publish/publisher.js';
import type { Session } from './session.js';

/** A connection's will, kept until a normal DISCONNECT discards it. */
export interface Will {
  clientId: string;
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  delaySeconds: number;
  v5: IPublishPacket['properties'];
}

/**
 * The will of each connection, published when the connection ends without a normal DISCONNECT —
 * at once, or after its v5 Will Delay Interval unless the session resumes first.
 */
export class Wills {
  private readonly wills = new WeakMap<MqttConnection, Will>();
  /** v5 wills waiting out their Will Delay Interval, by client id (a resumed session cancels). */
  private readonly delayed = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly store: { store(input: PublishInput): Promise<void> },
    private readonly logger: Logger,
  ) {}

  /** The will of a connection (from its CONNECT). */
  set(conn: MqttConnection, will: Will): void {
    this.wills.set(conn, will);
  }

  /** The connection's will is not to be published (a normal DISCONNECT, a server shutdown). */
  discard(conn: MqttConnection): void {
    this.wills.delete(conn);
  }

  /** A session resumed within the Will Delay Interval keeps its will unpublished [MQTT-3.1.3-9]. */
  resumed(clientId: string): void {
    const delayed = this.delayed.get(clientId);
    if (!delayed) return;
    clearTimeout(delayed);
    this.delayed.delete(clientId);
  }

  /** The connection ended: its will (if it still has one) is published. */
  connectionClosed(conn: MqttConnection, session: Session | null): void {
    const will = this.wills.get(conn);
    if (will) this.fire(will, session);
  }

  /** Drops the delayed wills (shutdown: they are not published). */
  close(): void {
    for (const t of this.delayed.values()) clearTimeout(t);
    this.delayed.clear();
  }

  /** Publishes a will now, or after its v5 delay (capped by the session's expiry). */
  private fire(will: Will, session: Session | null): void {
    const publish = () => {
      this.delayed.delete(will.clientId);
      this.store
        .store({ topic: will.topic, payload: will.payload, qos: will.qos, retain: will.retain, clientId: will.clientId, v5: will.v5 })
        .catch((err: unknown) =>
          this.logger.warn({ clientId: will.clientId, topic: will.topic, err: (err as Error).message }, 'mqtt: will message not stored'),
        );
    };
    const expiry = session?.persistent ? session.expirySeconds : 0;
    const delay = expiry < 0 ? will.delaySeconds : Math.min(will.delaySeconds, expiry);
    if (delay <= 0) return publish();
    const old = this.delayed.get(will.clientId);
    if (old) clearTimeout(old);
    const t = setTimeout(publish, Math.min(delay * 1000, 2 ** 31 - 1));
    t.unref();
    this.delayed.set(will.clientId, t);
  }
}
