import { type Appended, ConfirmBatches } from '@apogee/broker';
import { InvalidTopicError, validateMqttTopicName } from '@apogee/topics';
import type { IPublishPacket } from 'mqtt-packet';
import { publishFailureCode } from '../protocol/errors.js';
import { ReasonCode } from '../protocol/reason-codes.js';
import type { PublishInput } from '../publish/publisher.js';
import type { Client, Services } from './context.js';

/**
 * PUBLISHes of one connection waiting for the store before it stops reading that connection (the
 * broker's own flow control refuses puts at 20,000 in flight across all connections).
 */
const MAX_UNSTORED_PER_CONNECTION = 2000;
/** Appended-but-unwritten bytes in the store past which a QoS 0 publisher's connection waits for the disk. */
const QOS0_HOLD_BYTES = 8 * 1024 * 1024;

/**
 * PUBLISH from a client: topic alias and topic checks, authorization, then the store — QoS 0/1
 * appended at once and acknowledged in batches, QoS 2 (and retained, and new store topics) on the
 * promise path; acknowledged (PUBACK / PUBREC) once stored.
 */
export class PublishHandler {
  /** QoS 1 publishes appended by storeNow, acknowledged per connection and task in one wait. */
  private readonly confirms: ConfirmBatches<Client, IPublishPacket>;

  constructor(private readonly svc: Services) {
    this.confirms = new ConfirmBatches(
      svc.engine,
      (client, packet) => {
        client.conn.storeSettled(MAX_UNSTORED_PER_CONNECTION);
        this.stored(client, packet);
      },
      (client, packet, err) => {
        client.conn.storeSettled(MAX_UNSTORED_PER_CONNECTION);
        this.notStored(client, packet, err);
      },
      (err) => svc.logger.error({ err: (err as Error).stack }, 'mqtt: acknowledging a stored publish failed'),
    );
  }

  handle(client: Client, p: IPublishPacket): void {
    const { conn, session } = client;
    const cfg = this.svc.config;
    const v5 = conn.protocolVersion === 5;
    const alias = v5 ? p.properties?.topicAlias : undefined;
    if (alias !== undefined) {
      // Topic Alias (client → server) [MQTT-3.3.2-8..12]: 1..topicAliasMaximum, set with a topic, used without.
      if (alias === 0 || alias > cfg.topicAliasMaximum) {
        conn.send({ cmd: 'disconnect', reasonCode: ReasonCode.TOPIC_ALIAS_INVALID });
        conn.protocolError('topic_alias_invalid', `topic alias ${alias} is outside 1..${cfg.topicAliasMaximum}`);
        return;
      }
      const aliases = (client.topicAliases ??= new Map());
      if (p.topic === '') {
        const t = aliases.get(alias);
        if (t === undefined) {
          conn.send({ cmd: 'disconnect', reasonCode: ReasonCode.PROTOCOL_ERROR });
          conn.protocolError('topic_alias_invalid', `topic alias ${alias} used before it was set`);
          return;
        }
        p.topic = t;
      } else aliases.set(alias, p.topic);
    }
    if (v5 && p.properties?.responseTopic !== undefined) {
      try {
        validateMqttTopicName(p.properties.responseTopic);
      } catch (err) {
        if (!(err instanceof InvalidTopicError)) throw err;
        conn.send({ cmd: 'disconnect', reasonCode: ReasonCode.PROTOCOL_ERROR });
        conn.protocolError('invalid_topic', `invalid response topic: ${err.reason}`);
        return;
      }
    }
    try {
      validateMqttTopicName(p.topic, { maxTopicLength: cfg.maxTopicLength, maxTopicLevels: cfg.maxTopicLevels });
    } catch (err) {
      if (!(err instanceof InvalidTopicError)) throw err;
      if (v5) conn.send({ cmd: 'disconnect', reasonCode: ReasonCode.TOPIC_NAME_INVALID });
      conn.protocolError('invalid_topic', `invalid topic name ${JSON.stringify(p.topic)}: ${err.reason}`);
      return;
    }
    const id = p.messageId ?? 0;
    if (!this.svc.auth.canPublish(client.principal, p.topic)) {
      this.svc.refusalCounters.count('publish', 'not_authorized');
      this.svc.refusals.warn(
        'mqtt:publish',
        { remote: conn.opts.remote, clientId: session.clientId, topic: p.topic, reason: 'not authorized' },
        'mqtt: PUBLISH refused',
      );
      // 5.0 says so (0x87); 3.1.1 has no negative ack, so the message is acknowledged and dropped.
      if (p.qos === 1) conn.send(v5 ? { cmd: 'puback', messageId: id, reasonCode: ReasonCode.NOT_AUTHORIZED } : { cmd: 'puback', messageId: id });
      else if (p.qos === 2) conn.send(v5 ? { cmd: 'pubrec', messageId: id, reasonCode: ReasonCode.NOT_AUTHORIZED } : { cmd: 'pubrec', messageId: id });
      return;
    }
    const inbound = session.inbound;
    const pending = p.qos === 2 ? inbound.entry(id) : undefined;
    if (pending?.stored) {
      // A re-sent QoS 2 PUBLISH we already stored: acknowledge, do not store twice.
      conn.send({ cmd: 'pubrec', messageId: id });
      return;
    }
    // The client may have at most Receive Maximum QoS 1/2 PUBLISHes unacknowledged [MQTT-3.3.4-7].
    if (p.qos > 0 && !inbound.admit(client.inbound, id, p.qos, v5 ? cfg.receiveMaximum : Infinity)) {
      conn.send({ cmd: 'disconnect', reasonCode: ReasonCode.RECEIVE_MAXIMUM_EXCEEDED });
      conn.protocolError('receive_maximum_exceeded', `receive maximum of ${cfg.receiveMaximum} exceeded`);
      return;
    }
    const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
    const input: PublishInput = { topic: p.topic, payload, qos: p.qos, retain: p.retain, clientId: session.clientId };
    if (v5 && p.properties) input.v5 = p.properties;
    if (client.peer) input.bornHost = client.peer;
    if (p.qos < 2 && !p.retain && this.storeNow(client, p, input)) return;
    const publishes = this.svc.publishes;
    const store = p.qos === 2 ? inbound.store(id, input, pending, publishes) : publishes.store(input);
    conn.storeStarted(MAX_UNSTORED_PER_CONNECTION);
    store.then(
      () => {
        conn.storeSettled(MAX_UNSTORED_PER_CONNECTION);
        this.stored(client, p);
      },
      (err: unknown) => {
        conn.storeSettled(MAX_UNSTORED_PER_CONNECTION);
        this.notStored(client, p, err);
      },
    );
  }

  /**
   * The common QoS 0/1 publish, without a promise chain: appended now (and handed to caught-up
   * subscribers from memory); QoS 1 is acknowledged once the store confirms it, QoS 0 only slows
   * its connection down while the disk lags. False when it has to take the promise path (new
   * store topic).
   */
  private storeNow(client: Client, p: IPublishPacket, input: PublishInput): boolean {
    let r: Appended | null;
    try {
      r = this.svc.publishes.appendNow(input);
    } catch (err) {
      this.notStored(client, p, err);
      return true;
    }
    if (r === null) return false;
    const engine = this.svc.engine;
    if (p.qos === 0) {
      if (engine.unconfirmedBytes > QOS0_HOLD_BYTES) client.conn.holdReading(engine.whenConfirmed(r));
      return true;
    }
    client.conn.storeStarted(MAX_UNSTORED_PER_CONNECTION);
    this.confirms.add(client, p, r);
    return true;
  }

  /** The publish is stored: acknowledge it (QoS 1 PUBACK, QoS 2 PUBREC). */
  private stored(client: Client, p: IPublishPacket): void {
    const id = p.messageId ?? 0;
    if (p.qos === 1) {
      client.session.inbound.acknowledged(client.inbound);
      client.conn.send({ cmd: 'puback', messageId: id });
    } else if (p.qos === 2) client.conn.send({ cmd: 'pubrec', messageId: id });
  }

  /** The publish could not be stored: QoS 0 is dropped (logged); QoS 1/2 get a failure (v5) or the connection closes (3.1.1). */
  private notStored(client: Client, p: IPublishPacket, err: unknown): void {
    const { conn, session } = client;
    this.svc.refusalCounters.count('publish', publishFailureCode(err) === ReasonCode.QUOTA_EXCEEDED ? 'quota_exceeded' : 'not_stored');
    this.svc.refusals.warn(
      'mqtt:not-stored',
      { remote: conn.opts.remote, clientId: session.clientId, topic: p.topic, err: (err as Error).message },
      'mqtt: publish not stored',
    );
    if (p.qos === 0) return;
    const id = p.messageId ?? 0;
    session.inbound.refused(client.inbound, id);
    if (conn.protocolVersion === 5) {
      // 0x97 Quota exceeded for busy/full, 0x80 otherwise; the message was not stored.
      conn.send({ cmd: p.qos === 1 ? 'puback' : 'pubrec', messageId: id, reasonCode: publishFailureCode(err) });
    } else {
      // 3.1.1 has no negative acknowledgement: close so the client re-sends later.
      conn.close(`publish could not be stored: ${(err as Error).message}`);
    }
  }
}
