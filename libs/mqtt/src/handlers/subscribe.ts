import { InvalidTopicError, lmqOf, parseSharedSubscription, validateMqttTopicFilter } from '@apogee/topics';
import type { ISubscribePacket, QoS } from 'mqtt-packet';
import { ReasonCode, SUBACK_FAILURE } from '../protocol/reason-codes.js';
import type { MqttRefusalReason } from '../refusal-counters.js';
import type { SubscriptionOptions } from '../session/session-types.js';
import type { Client, Services } from './context.js';

/**
 * SUBSCRIBE: each filter validated and authorized, then subscribed (a shared one joins its group);
 * SUBACK with the granted QoS or a failure per filter, followed by the retained messages.
 */
export function onSubscribe(svc: Services, client: Client, p: ISubscribePacket): void {
  const { conn, session } = client;
  const v5 = conn.protocolVersion === 5;
  const limits = { maxTopicLength: svc.config.maxTopicLength, maxTopicLevels: svc.config.maxTopicLevels };
  const granted: number[] = [];
  const retainedFor: Array<{ filter: string; opts: SubscriptionOptions }> = [];
  const subscriptionId = v5 ? p.properties?.subscriptionIdentifier : undefined;
  for (const s of p.subscriptions) {
    try {
      validateMqttTopicFilter(s.topic, limits);
      if (session.subscriptionCount >= svc.config.maxSubscriptionsPerSession && !session.hasSubscription(s.topic)) {
        refused(svc, client, s.topic, 'subscription_limit', `the session holds ${svc.config.maxSubscriptionsPerSession} subscriptions, the maximum`);
        granted.push(v5 ? ReasonCode.QUOTA_EXCEEDED : SUBACK_FAILURE);
        continue;
      }
      const shared = parseSharedSubscription(s.topic, limits);
      if (!svc.auth.canSubscribe(client.principal, shared ? shared.filter : s.topic)) {
        refused(svc, client, s.topic, 'not_authorized', 'not authorized');
        // 0x80 in both versions: the server does not reveal that a rule exists (5.0 allows either).
        granted.push(v5 ? ReasonCode.UNSPECIFIED_ERROR : SUBACK_FAILURE);
        continue;
      }
      if (shared) {
        if (v5 && s.nl) {
          // No Local on a shared subscription is a protocol error [MQTT-3.8.3-4].
          conn.send({ cmd: 'disconnect', reasonCode: ReasonCode.PROTOCOL_ERROR });
          conn.protocolError('protocol_violation', 'no local on a shared subscription');
          return;
        }
        const qos = Math.min(s.qos, 2) as QoS;
        const opts: SubscriptionOptions = { qos };
        if (subscriptionId) opts.subscriptionId = subscriptionId;
        svc.shared.join(session, s.topic, shared.group, shared.filter, opts);
        // Retained messages are not sent for shared subscriptions.
        granted.push(qos);
        continue;
      }
    } catch (err) {
      if (!(err instanceof InvalidTopicError)) throw err;
      refused(svc, client, s.topic, 'invalid_filter', `invalid topic filter: ${err.reason}`);
      granted.push(v5 ? ReasonCode.TOPIC_FILTER_INVALID : SUBACK_FAILURE);
      continue;
    }
    const qos = Math.min(s.qos, 2) as QoS;
    const opts: SubscriptionOptions = { qos };
    if (v5 && s.nl) opts.noLocal = true;
    if (v5 && s.rap) opts.retainAsPublished = true;
    if (subscriptionId) opts.subscriptionId = subscriptionId;
    const isNew = session.subscribe(s.topic, lmqOf(s.topic), opts);
    if (isNew) svc.filters.add(s.topic);
    // v5 Retain Handling: 0 always send retained, 1 only for a new subscription, 2 never.
    const rh = v5 ? (s.rh ?? 0) : 0;
    if (rh === 0 || (rh === 1 && isNew)) retainedFor.push({ filter: s.topic, opts });
    granted.push(qos);
  }
  const suback = { cmd: 'suback' as const, messageId: p.messageId ?? 0, granted };
  const after = () => {
    conn.send(suback);
    // Retained messages follow the SUBACK.
    for (const r of retainedFor) {
      svc.retained.find(r.filter).then(
        (records) => {
          for (const rec of records) session.deliverRetained(rec, r.opts);
        },
        (err: unknown) => svc.logger.warn({ clientId: session.clientId, filter: r.filter, err: (err as Error).message }, 'mqtt: retained lookup failed'),
      );
    }
  };
  // A persistent session's subscriptions are durable before the client hears they exist.
  if (session.persistent) void session.flush().then(after);
  else after();
}

/** One filter of a SUBSCRIBE refused (the SUBACK carries a failure for it): counted under `kind`, and a rate-limited warning. */
function refused(svc: Services, client: Client, filter: string, kind: MqttRefusalReason<'subscribe'>, reason: string): void {
  svc.refusalCounters.count('subscribe', kind);
  svc.refusals.warn('mqtt:subscribe', { remote: client.conn.opts.remote, clientId: client.session.clientId, filter, reason }, 'mqtt: SUBSCRIBE refused');
}
