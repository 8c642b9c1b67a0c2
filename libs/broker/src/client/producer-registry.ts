import type { ClientChannel } from './client-channel.js';

export interface ProducerConnection {
  channel: ClientChannel;
  clientId: string;
  lastUpdate: number;
}

/** Producer groups and their connections, for admin listings (RocketMQ ProducerManager). */
export class ProducerRegistry {
  private readonly groups = new Map<string, Map<string, ProducerConnection>>();

  constructor(private readonly now: () => number = Date.now) {}

  register(group: string, channel: ClientChannel, clientId: string): void {
    let g = this.groups.get(group);
    if (!g) this.groups.set(group, (g = new Map()));
    g.set(channel.id, { channel, clientId, lastUpdate: this.now() });
  }

  unregister(group: string, channel: ClientChannel): void {
    const g = this.groups.get(group);
    if (g?.delete(channel.id) && g.size === 0) this.groups.delete(group);
  }

  channelClosed(channel: ClientChannel): void {
    for (const [name, g] of this.groups) if (g.delete(channel.id) && g.size === 0) this.groups.delete(name);
  }

  scanExpired(timeoutMs: number): void {
    const deadline = this.now() - timeoutMs;
    for (const [name, g] of this.groups) {
      for (const [id, c] of g) if (c.lastUpdate < deadline) g.delete(id);
      if (g.size === 0) this.groups.delete(name);
    }
  }

  connections(group: string): ProducerConnection[] {
    return [...(this.groups.get(group)?.values() ?? [])];
  }

  groupNames(): string[] {
    return [...this.groups.keys()];
  }
}
