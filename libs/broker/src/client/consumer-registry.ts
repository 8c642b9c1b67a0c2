import type { Subscription } from '../filter/tag-filter.js';
import type { ClientChannel } from './client-channel.js';

export type ConsumeType = 'CONSUME_ACTIVELY' | 'CONSUME_PASSIVELY' | 'CONSUME_POP';
export type MessageModel = 'CLUSTERING' | 'BROADCASTING';

/** One consumer connection of a group. */
export interface ConsumerConnection {
  channel: ClientChannel;
  clientId: string;
  lastUpdate: number;
  language: string;
  version: number;
}

/** What the broker knows of a consumer group from its members' heartbeats. */
export interface ConsumerGroupInfo {
  groupName: string;
  consumeType: ConsumeType;
  messageModel: MessageModel;
  consumeFromWhere: string;
  subscriptions: Map<string, Subscription>;
  connections: Map<string, ConsumerConnection>;
  lastUpdate: number;
}

export interface ConsumerRegistration {
  group: string;
  clientId: string;
  consumeType: ConsumeType;
  messageModel: MessageModel;
  consumeFromWhere: string;
  subscriptions: Subscription[];
  language?: string;
  version?: number;
}

/**
 * Consumer groups and their live connections (RocketMQ ConsumerManager). Membership changes are
 * announced to every member so clients rebalance at once instead of at their next 20 s tick.
 */
export class ConsumerRegistry {
  private readonly groups = new Map<string, ConsumerGroupInfo>();
  private readonly changeListeners: Array<(group: string) => void> = [];

  constructor(private readonly now: () => number = Date.now) {}

  onMembershipChange(fn: (group: string) => void): void {
    this.changeListeners.push(fn);
  }

  /** Registers or refreshes a consumer; returns whether the group's membership changed. */
  register(channel: ClientChannel, reg: ConsumerRegistration): boolean {
    const now = this.now();
    let g = this.groups.get(reg.group);
    if (!g) {
      g = {
        groupName: reg.group,
        consumeType: reg.consumeType,
        messageModel: reg.messageModel,
        consumeFromWhere: reg.consumeFromWhere,
        subscriptions: new Map(),
        connections: new Map(),
        lastUpdate: now,
      };
      this.groups.set(reg.group, g);
    }
    g.consumeType = reg.consumeType;
    g.messageModel = reg.messageModel;
    g.consumeFromWhere = reg.consumeFromWhere;
    g.lastUpdate = now;
    // Newer subscription versions replace older ones; topics no member subscribes any more go.
    const topics = new Set<string>();
    for (const sub of reg.subscriptions) {
      topics.add(sub.topic);
      const old = g.subscriptions.get(sub.topic);
      if (!old || sub.subVersion >= old.subVersion) g.subscriptions.set(sub.topic, sub);
    }
    // Only a lone member (no other connection in the group) may drop topics it does not name.
    const alone = g.connections.size === 0 || (g.connections.size === 1 && g.connections.has(channel.id));
    if (alone) for (const t of [...g.subscriptions.keys()]) if (!topics.has(t)) g.subscriptions.delete(t);
    const existing = g.connections.get(channel.id);
    const changed = !existing || existing.clientId !== reg.clientId;
    g.connections.set(channel.id, { channel, clientId: reg.clientId, lastUpdate: now, language: reg.language ?? 'JAVA', version: reg.version ?? 0 });
    if (changed) this.announce(reg.group);
    return changed;
  }

  /** A client's UNREGISTER_CLIENT for one group. */
  unregister(group: string, channel: ClientChannel): void {
    const g = this.groups.get(group);
    if (!g?.connections.delete(channel.id)) return;
    if (g.connections.size === 0) this.groups.delete(group);
    this.announce(group);
  }

  /** A connection closed: it leaves every group. */
  channelClosed(channel: ClientChannel): void {
    for (const [name, g] of [...this.groups]) {
      if (!g.connections.delete(channel.id)) continue;
      if (g.connections.size === 0) this.groups.delete(name);
      this.announce(name);
    }
  }

  /** Drops connections not heard from within `timeoutMs`; returns the channels dropped. */
  scanExpired(timeoutMs: number): ClientChannel[] {
    const deadline = this.now() - timeoutMs;
    const dropped: ClientChannel[] = [];
    for (const [name, g] of [...this.groups]) {
      let changed = false;
      for (const [id, c] of [...g.connections]) {
        if (c.lastUpdate >= deadline) continue;
        g.connections.delete(id);
        dropped.push(c.channel);
        changed = true;
      }
      if (g.connections.size === 0) this.groups.delete(name);
      if (changed) this.announce(name);
    }
    return dropped;
  }

  get(group: string): ConsumerGroupInfo | undefined {
    return this.groups.get(group);
  }

  groupNames(): string[] {
    return [...this.groups.keys()];
  }

  /** Distinct client ids of a group's live connections. */
  clientIds(group: string): string[] {
    const g = this.groups.get(group);
    if (!g) return [];
    return [...new Set([...g.connections.values()].map((c) => c.clientId))];
  }

  findSubscription(group: string, topic: string): Subscription | undefined {
    return this.groups.get(group)?.subscriptions.get(topic);
  }

  /** Groups with a live member subscribed to `topic`. */
  groupsOfTopic(topic: string): string[] {
    return [...this.groups.values()].filter((g) => g.subscriptions.has(topic)).map((g) => g.groupName);
  }

  private announce(group: string): void {
    for (const fn of this.changeListeners) fn(group);
  }
}
