import type { Authorizer, Engine, Logger, Principal } from '@apogee/broker';
import type { HostAddress, RateLimitedWarnings } from '@apogee/message';
import type { MqttConfig } from '../config.js';
import type { SharedGroups } from '../delivery/shared-groups.js';
import type { MqttConnection } from '../protocol/mqtt-connection.js';
import type { MqttRefusalCounters } from '../refusal-counters.js';
import type { PublishStore } from '../publish/publish-store.js';
import type { RetainedStore } from '../publish/retained-store.js';
import type { InboundWindow } from '../session/inbound-qos2.js';
import type { Session } from '../session/session.js';
import type { SessionRegistry } from '../session/session-registry.js';
import type { Wills } from '../session/wills.js';

/** The gateway's parts the packet handlers work with (one set per gateway). */
export interface Services {
  readonly config: MqttConfig;
  readonly engine: Engine;
  readonly auth: Authorizer;
  readonly logger: Logger;
  /** Refused CONNECTs, SUBSCRIBEs and PUBLISHes, protocol errors: warnings limited per kind (`mqtt:<kind>`). */
  readonly refusals: RateLimitedWarnings;
  /** The same refusals counted by operation and a fixed reason, for the metrics (refusal-counters.ts). */
  readonly refusalCounters: MqttRefusalCounters;
  /** The engine's registry of topic filters, which subscriptions register in. */
  readonly filters: Engine['topicFilters'];
  readonly publishes: PublishStore;
  readonly retained: RetainedStore;
  readonly sessions: SessionRegistry;
  readonly wills: Wills;
  readonly shared: SharedGroups;
}

/** One connection after a successful CONNECT: what every later packet of it is handled with. */
export interface Client {
  readonly conn: MqttConnection;
  readonly session: Session;
  /** Who is connected; its client id is the session's (an assigned one replaces the empty id). */
  readonly principal: Principal;
  /** The peer's address (the stored messages' born host). */
  readonly peer: HostAddress | undefined;
  /** The connection's inbound flow-control window (owned by the session's InboundQos2). */
  readonly inbound: InboundWindow;
  /** v5 topic aliases client → server, made on first use. */
  topicAliases: Map<number, string> | null;
}
