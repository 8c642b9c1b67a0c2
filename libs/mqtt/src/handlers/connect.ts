import type { Principal } from '@apogee/broker';
import type { HostAddress } from '@apogee/message';
import { InvalidTopicError, validateMqttTopicName } from '@apogee/topics';
import type { IConnectPacket, QoS } from 'mqtt-packet';
import type { MqttConnection } from '../protocol/mqtt-connection.js';
import { ConnackReturnCode, EXPIRY_NEVER, ReasonCode } from '../protocol/reason-codes.js';
import type { MqttRefusalReason } from '../refusal-counters.js';
import type { Client, Services } from './context.js';

/**
 * CONNECT: authentication (answered with a refusing CONNACK when it fails), then the session —
 * new, resumed or taken over — the will, the negotiated limits and the CONNACK.
 */
export class ConnectHandler {
  private assignedIds = 0;

  constructor(private readonly svc: Services) {}

  /**
   * Checks the CONNECT's credentials — or, with useIdentityAsUsername on a TLS connection, the
   * name of the client's verified certificate (`certificateName`; null: none) — and on refusal
   * answers CONNACK with the protocol's code and closes.
   */
  async authenticate(conn: MqttConnection, p: IConnectPacket, certificateName?: string | null): Promise<Principal | null> {
    const v5 = (p.protocolVersion ?? 4) === 5;
    const auth = this.svc.auth;
    const byCertificate = this.svc.config.useIdentityAsUsername && certificateName !== undefined;
    const r = !byCertificate
      ? await auth.authenticate(p.username, p.password, p.clientId ?? '')
      : certificateName === null
        ? await auth.authenticate(undefined, undefined, p.clientId ?? '')
        : auth.certificateUser(certificateName, p.clientId ?? '');
    if (r.ok) return r.principal;
    conn.setProtocolVersion(p.protocolVersion ?? 4);
    // 3.1.1: 4 bad user name or password, 5 not authorized; 5.0: 0x86 / 0x87.
    const bad = r.reason === 'BAD_CREDENTIALS';
    conn.send(
      v5
        ? { cmd: 'connack', reasonCode: bad ? ReasonCode.BAD_USER_NAME_OR_PASSWORD : ReasonCode.NOT_AUTHORIZED, sessionPresent: false }
        : { cmd: 'connack', returnCode: bad ? ConnackReturnCode.BAD_USER_NAME_OR_PASSWORD : ConnackReturnCode.NOT_AUTHORIZED, sessionPresent: false },
    );
    if (bad) this.refused(conn, p, 'bad_credentials', 'bad user name or password');
    else this.refused(conn, p, 'not_authorized', 'not authorized');
    conn.close(`authentication refused: ${r.reason}`);
    return null;
  }

  /** An authenticated CONNECT: the connection's client, or null when the CONNECT was refused (and the connection closed). */
  connect(conn: MqttConnection, p: IConnectPacket, principal: Principal, peer: HostAddress | undefined): Client | null {
    const svc = this.svc;
    const cfg = svc.config;
    const v = p.protocolVersion ?? 4;
    conn.setProtocolVersion(v);
    const v5 = v === 5;
    let clientId = p.clientId ?? '';
    let assigned: string | undefined;
    // Seconds the session outlives the connection: -1 = forever (3.1.1 clean=false, v5 0xFFFFFFFF).
    const requested = v5 ? (p.properties?.sessionExpiryInterval ?? 0) : p.clean === false ? -1 : 0;
    const sessionExpiry = requested === EXPIRY_NEVER ? -1 : requested;
    if (clientId === '') {
      // 3.1.1 allows an empty id only with a clean session [MQTT-3.1.3-8]; 5.0 assigns one.
      if (!v5 && p.clean === false) {
        conn.send({ cmd: 'connack', returnCode: ConnackReturnCode.IDENTIFIER_REJECTED, sessionPresent: false });
        this.refused(conn, p, 'client_id_rejected', 'empty client id with a persistent session');
        conn.close('empty client id with a persistent session');
        return null;
      }
      clientId = `apogee-${process.pid}-${Date.now().toString(36)}-${(this.assignedIds++).toString(36)}`;
      assigned = clientId;
    }
    // A session belongs to the user who created it: another user with its client id is refused
    // before anything of the session is touched (no takeover, no clean start emptying it).
    if (!svc.sessions.mayConnect(clientId, principal.username)) {
      conn.send(
        v5
          ? { cmd: 'connack', reasonCode: ReasonCode.NOT_AUTHORIZED, sessionPresent: false }
          : { cmd: 'connack', returnCode: ConnackReturnCode.NOT_AUTHORIZED, sessionPresent: false },
      );
      this.refused(conn, p, 'session_owned_by_other_user', `client id ${JSON.stringify(clientId)} belongs to another user's session`);
      conn.close("client id of another user's session");
      return null;
    }
    if (v5 && p.properties?.maximumPacketSize) conn.clientMaxPacketSize = p.properties.maximumPacketSize;
    if (v5 && p.properties?.receiveMaximum) conn.clientReceiveMaximum = p.properties.receiveMaximum;
    if (v5 && p.properties?.topicAliasMaximum) conn.clientTopicAliasMaximum = Math.min(p.properties.topicAliasMaximum, cfg.outboundTopicAliasMaximum);
    if (p.will) {
      try {
        validateMqttTopicName(p.will.topic, { maxTopicLength: cfg.maxTopicLength, maxTopicLevels: cfg.maxTopicLevels });
      } catch (err) {
        if (!(err instanceof InvalidTopicError)) throw err;
        // 5.0: 0x90 Topic Name invalid; 3.1.1 has no code for it: refuse as unavailable.
        conn.send(
          v5
            ? { cmd: 'connack', reasonCode: ReasonCode.TOPIC_NAME_INVALID, sessionPresent: false }
            : { cmd: 'connack', returnCode: ConnackReturnCode.SERVER_UNAVAILABLE, sessionPresent: false },
        );
        this.refused(conn, p, 'will_topic_invalid', `invalid will topic: ${err.reason}`);
        conn.close(`invalid will topic: ${err.reason}`);
        return null;
      }
      const payload = typeof p.will.payload === 'string' ? Buffer.from(p.will.payload) : p.will.payload;
      // Will properties travel with the will message, except the delay, which is the server's business.
      const { willDelayInterval, ...willProps } = (v5 ? p.will.properties : undefined) ?? {};
      if (!svc.auth.canPublish({ ...principal, clientId }, p.will.topic)) {
        conn.send(
          v5
            ? { cmd: 'connack', reasonCode: ReasonCode.NOT_AUTHORIZED, sessionPresent: false }
            : { cmd: 'connack', returnCode: ConnackReturnCode.NOT_AUTHORIZED, sessionPresent: false },
        );
        this.refused(conn, p, 'will_not_authorized', `will topic ${JSON.stringify(p.will.topic)} not authorized`);
        conn.close('will topic not authorized');
        return null;
      }
      svc.wills.set(conn, {
        clientId,
        topic: p.will.topic,
        payload,
        qos: (p.will.qos ?? 0) as QoS,
        retain: p.will.retain === true,
        delaySeconds: willDelayInterval ?? 0,
        v5: willProps,
      });
    }
    // A session resumed within the Will Delay Interval keeps its will unpublished [MQTT-3.1.3-9].
    if (p.clean === false) svc.wills.resumed(clientId);
    // Takeover [MQTT-3.1.4-3], and the end of a non-persistent session taken over [MQTT-3.1.2-6].
    const { session, present } = svc.sessions.open(clientId, p.clean !== false);
    if (session.owner === undefined) session.owner = principal.username ?? null;
    if (sessionExpiry !== 0) session.makePersistent(sessionExpiry);
    else if (session.persistent) void session.forget();
    let keepAlive = p.keepalive ?? 0;
    const max = cfg.maxKeepAliveSeconds;
    const serverKeepAlive = max > 0 && (keepAlive === 0 || keepAlive > max) ? max : undefined;
    if (serverKeepAlive !== undefined) keepAlive = serverKeepAlive;
    if (v5) {
      const props: Record<string, unknown> = {
        receiveMaximum: cfg.receiveMaximum,
        maximumPacketSize: cfg.maxPacketSize,
        topicAliasMaximum: cfg.topicAliasMaximum,
        retainAvailable: true,
        wildcardSubscriptionAvailable: true,
        subscriptionIdentifiersAvailable: true,
        sharedSubscriptionAvailable: true,
      };
      if (assigned) props['assignedClientIdentifier'] = assigned;
      // Request Response Information: a topic prefix this client may use for responses.
      if (p.properties?.requestResponseInformation) props['responseInformation'] = `reply/${clientId}/`;
      if (serverKeepAlive !== undefined) props['serverKeepAlive'] = serverKeepAlive;
      conn.send({ cmd: 'connack', reasonCode: ReasonCode.SUCCESS, sessionPresent: present, properties: props });
    } else {
      conn.send({ cmd: 'connack', returnCode: ConnackReturnCode.ACCEPTED, sessionPresent: present });
    }
    conn.startKeepAlive(keepAlive, cfg.idleTimeoutSeconds);
    // The principal's id is the session's (an assigned id replaces the empty one it was checked with).
    const who: Principal = { ...principal, clientId };
    session.canRead = (topic) => svc.auth.canRead(who, topic);
    const client: Client = { conn, session, principal: who, peer, inbound: session.inbound.openWindow(), topicAliases: null };
    session.attach(conn);
    svc.shared.attach(session);
    return client;
  }

  /** A refused CONNECT (answered with a refusing CONNACK): counted under `kind`, and a rate-limited warning naming the client. */
  private refused(conn: MqttConnection, p: IConnectPacket, kind: MqttRefusalReason<'connect'>, reason: string): void {
    this.svc.refusalCounters.count('connect', kind);
    const fields: Record<string, unknown> = { remote: conn.opts.remote, clientId: p.clientId ?? '' };
    if (p.username !== undefined) fields['username'] = p.username;
    fields['reason'] = reason;
    this.svc.refusals.warn('mqtt:connect', fields, 'mqtt: CONNECT refused');
  }
}
